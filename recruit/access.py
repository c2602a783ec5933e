"""The one access policy: every "may this user see or do this" question is answered here.

Views, exports, PDFs, e-mails and the CLI ask these predicates; nothing re-implements a check
inline. Each view is wrapped by :func:`guard` (or marked :func:`public`), so a test can prove
that no route escapes the policy.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, current_app
from flask_login import current_user

from recruit.models import Role


class Who(enum.StrEnum):
    """The five kinds of visitor the policy distinguishes."""

    ANONYMOUS = "anonymous"
    APPLICANT = "applicant"
    REVIEWER = "reviewer"
    COORDINATOR = "coordinator"
    CUSTODIAN = "custodian"


def who(user: Any) -> Who:
    """Classify a user (or the anonymous user)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Who.ANONYMOUS
    if user.role == Role.COORDINATOR:
        return Who.CUSTODIAN if user.is_custodian else Who.COORDINATOR
    return Who(user.role.value)


# -- role predicates -------------------------------------------------------------------------

def is_authenticated(user: Any) -> bool:
    """Anyone logged in."""
    return who(user) is not Who.ANONYMOUS


def is_applicant(user: Any) -> bool:
    """An applicant account."""
    return who(user) is Who.APPLICANT


def is_reviewer(user: Any) -> bool:
    """A reviewer: scores anonymised answers, sees no identity and no candidacy code."""
    return who(user) is Who.REVIEWER


def is_coordinator(user: Any) -> bool:
    """A coordinator, the custodian included: works on pseudonyms."""
    return who(user) in (Who.COORDINATOR, Who.CUSTODIAN)


def is_custodian(user: Any) -> bool:
    """The one account that may see identities; it never reviews."""
    return who(user) is Who.CUSTODIAN


def is_staff(user: Any) -> bool:
    """Reviewers and coordinators."""
    return who(user) in (Who.REVIEWER, Who.COORDINATOR, Who.CUSTODIAN)


# -- object predicates -----------------------------------------------------------------------

def may_see_identity(user: Any) -> bool:
    """Only the custodian sees names, contacts and birth dates (each view is audited)."""
    return is_custodian(user)


def may_join_reviewer_pool(user: Any) -> bool:
    """Reviewers may join a campaign's pool; the custodian never can."""
    return is_reviewer(user) and bool(getattr(user, "active", False)) and not user.is_custodian


def may_manage_campaigns(user: Any) -> bool:
    """Coordinators run campaigns, stages, pools, decisions, offers and reports."""
    return is_coordinator(user)


def may_work_assignment(user: Any, *, reviewer_id: int) -> bool:
    """A review slot is worked only by the reviewer who holds it."""
    return is_reviewer(user) and user.id == reviewer_id


def owns(user: Any, *, user_id: int | None) -> bool:
    """An applicant acting on their own record."""
    return is_applicant(user) and user_id is not None and user.id == user_id


def may_know_offer(user: Any, *, addressee_user_id: int | None) -> bool:
    """Coordinators issue offers and may know which exist; an applicant knows only their own."""
    return owns(user, user_id=addressee_user_id) or is_coordinator(user)


def may_download_offer_letter(user: Any, *, addressee_user_id: int | None) -> bool:
    """A named offer letter goes to its addressee and to the custodian, nobody else."""
    return owns(user, user_id=addressee_user_id) or is_custodian(user)


def may_preview_offer_letter(user: Any) -> bool:
    """Coordinators preview a letter with the candidacy code where the name will stand."""
    return is_coordinator(user)


def may_export_hires(user: Any) -> bool:
    """The hires list carries names and contacts: custodian only."""
    return is_custodian(user)


# -- custody ---------------------------------------------------------------------------------

def may_check_redaction(user: Any) -> bool:
    """Originals of answers (before redaction) are read and released by the custodian only."""
    return is_custodian(user)


def may_request_contact(user: Any) -> bool:
    """Any coordinator may ask the custodian to contact a candidacy, knowing only its code."""
    return is_coordinator(user)


def may_hand_over_custody(user: Any) -> bool:
    """Only the present custodian passes the flag on (the CLI can do it too, for recovery)."""
    return is_custodian(user)


def may_read_outbox(user: Any) -> bool:
    """The demo's outbox shows every e-mail, applicants' addresses and names: custodian only."""
    return is_custodian(user)


def may_read_audit_log(user: Any) -> bool:
    """The audit log names who opened which identity: custodian only."""
    return is_custodian(user)


# -- review ----------------------------------------------------------------------------------

def may_review_in_campaign(user: Any, *, in_pool: bool) -> bool:
    """A reviewer works the tasks of the campaigns whose pool they are in, nothing else."""
    return may_join_reviewer_pool(user) and in_pool


def may_manage_reviewer_pool(user: Any) -> bool:
    """Coordinators add reviewers to a campaign's pool and see every score, by candidacy code."""
    return is_coordinator(user)


def may_set_calibration(user: Any) -> bool:
    """Coordinators write calibration answers and their reference scores; the custodian, who
    never scores, may only look."""
    return is_coordinator(user) and not is_custodian(user)


# -- candidates' feedback --------------------------------------------------------------------

def may_read_feedback(user: Any, *, owner_user_id: int | None) -> bool:
    """A candidate reads only their own feedback; staff read scores and comments on the
    decision pages instead, and an erased candidacy's feedback belongs to nobody."""
    return owns(user, user_id=owner_user_id)


def may_moderate_feedback(user: Any) -> bool:
    """Coordinators turn feedback on or off per stage and hide reviewers' comments from the
    candidate before the decision is sent."""
    return is_coordinator(user)


# -- integrity -------------------------------------------------------------------------------

def may_see_integrity_flags(user: Any) -> bool:
    """Near-duplicate and pasted-text flags, by candidacy code: coordinators only. Reviewers
    never see them (a flag must not bias a score), applicants only learn what is counted."""
    return is_coordinator(user)


def may_change_integrity_settings(user: Any) -> bool:
    """The thresholds that raise those flags are the campaign's coordinators' to set."""
    return is_coordinator(user)


# -- view guards -----------------------------------------------------------------------------

def guard(predicate: Callable[[Any], bool]) -> Callable:
    """Wrap a view: anonymous visitors go to the login page, others without the right get 403."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if not predicate(current_user):
                abort(403)
            return view(*args, **kwargs)

        wrapped.__access__ = predicate.__name__
        return wrapped

    return decorate


def public(view: Callable) -> Callable:
    """Mark a view as open to everyone, deliberately."""
    view.__access__ = "public"
    return view


def require(allowed: bool) -> None:
    """Abort with 403 unless an object-level predicate allowed the action (for a visitor who
    may know the object exists)."""
    if not allowed:
        abort(403)


def require_known(allowed: bool) -> None:
    """Abort with 404 unless the visitor may know the object exists: someone else's object
    answers like a missing one, so ids cannot be probed."""
    if not allowed:
        abort(404)
