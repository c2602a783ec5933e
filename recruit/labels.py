"""Words for the codes the data stores: candidacy states, decision outcomes, offer statuses,
work formats, pay periods, audit actions, cut-off rules and questionnaire kinds.

Pages, e-mails and PDFs show these, never the codes. Each table is resolved once per
language and process (translations do not change while the app runs), so a 50-row table
costs a dictionary look-up per cell, not a translation.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from recruit.domain.redaction import localise_markers

STATES = {
    "applied": _l("applied"), "in_stage": _l("taking a stage"),
    "submitted": _l("awaiting decision"), "on_hold": _l("on hold"), "advanced": _l("advanced"),
    "passed": _l("passed all stages"), "not_passed": _l("did not pass"),
    "offered": _l("offer open"), "invited": _l("invited elsewhere"), "hired": _l("hired"),
    "declined": _l("declined"), "expired": _l("offer expired"), "withdrawn": _l("withdrew"),
}
OUTCOMES = {"advance": _l("advanced"), "reject": _l("did not pass"), "hold": _l("on hold")}
OFFER_STATUSES = {
    "issued": _l("waiting for an answer"), "accepted": _l("accepted"),
    "declined": _l("declined"), "expired": _l("expired"), "withdrawn": _l("withdrawn"),
}
WORK_FORMATS = {"remote": _l("Remote"), "office": _l("In the office"),
                "hybrid": _l("Hybrid: partly remote, partly in the office")}
PERIODS = {"month": _l("per month"), "year": _l("per year"), "hour": _l("per hour")}
AUDIT_ACTIONS = {
    "identity.view": _l("Opened an identity"),
    "identity.purged": _l("Erased an identity (retention)"),
    "retention.purge": _l("Retention purge"),
    "account.erased": _l("An applicant erased their account"),
    "answer.release": _l("Released an answer to review"),
    "answer.auto_release": _l("Answers went to review unchecked (time ran out)"),
    "candidacy.invite": _l("Invited a candidacy into another campaign"),
    "custodian.handover": _l("Handed over custody"),
    "hires.view": _l("Viewed the hires list"),
    "hires.export": _l("Exported the hires with contacts"),
    "offer_letter.download": _l("Downloaded a named offer letter"),
    "offer_letters.render": _l("Rendered the named offer letters"),
    "outbox.view": _l("Read the demo outbox"),
    "audit.keyed": _l("The audit log was signed with its key"),
}
AUDIT_DETAILS = {
    "reason": _l("reason"), "rows": _l("rows"), "offers": _l("offers"),
    "messages": _l("messages"), "campaign": _l("campaign"), "new_code": _l("new code"),
    "candidacies": _l("candidacies"), "older_than_days": _l("older than, days"),
    "count": _l("how many"), "campaigns": _l("campaigns"), "letters": _l("letters"),
    "out": _l("folder"), "spans": _l("redactions"), "from": _l("from account"),
    "to": _l("to account"), "at": _l("at"), "erased": _l("erased"),
    "events": _l("events"), "broken_at": _l("unkeyed chain broken at event"),
    "open_flags": _l("undecided suggestions"),
}
# What an audit event is about: "kind:reference" or a kind alone.
AUDIT_SUBJECTS = {
    "answer": _l("answer"), "answers": _l("answers"), "user": _l("account"),
    "candidacy": _l("candidacy"), "offer": _l("offer"), "campaign": _l("campaign"),
    "hires": _l("hires list"), "outbox": _l("outbox"), "identities": _l("identities"),
    "audit": _l("audit log"),
}
# Redaction kinds: what the custodian's check calls each hidden stretch, and the
# placeholder reviewers read in its place. Every kind in redaction.KINDS has both.
REDACTION_KINDS = {
    "name": _l("name"), "email": _l("e-mail"), "phone": _l("phone"),
    "link": _l("profile link"), "handle": _l("handle"), "city": _l("city"),
    "date": _l("date of birth"), "age": _l("age"), "affiliation": _l("school or employer"),
    "address": _l("street address"),
}
# What stands where redaction hid something, in the reviewers' copy of an answer.
REDACTED = {
    "name": _l("[name hidden]"), "email": _l("[e-mail hidden]"),
    "phone": _l("[phone hidden]"), "link": _l("[link hidden]"),
    "handle": _l("[username hidden]"), "city": _l("[city hidden]"),
    "date": _l("[date hidden]"), "age": _l("[age hidden]"),
    "affiliation": _l("[school or employer hidden]"), "address": _l("[address hidden]"),
}
TRACK_KINDS = {"track": _l("test track"), "job-roles": _l("job roles"),
               "question-bank": _l("interview questions")}

_TABLES: dict[str, Mapping] = {
    "states": STATES, "outcomes": OUTCOMES, "offer_statuses": OFFER_STATUSES,
    "work_formats": WORK_FORMATS, "periods": PERIODS, "audit_actions": AUDIT_ACTIONS,
    "audit_details": AUDIT_DETAILS, "audit_subjects": AUDIT_SUBJECTS,
    "track_kinds": TRACK_KINDS, "redacted": REDACTED, "redaction_kinds": REDACTION_KINDS,
}


@lru_cache(maxsize=64)
def _resolved(name: str, language: str) -> dict[str, str]:
    # Called with the language being rendered, so str() translates into that language.
    return {key: str(label) for key, label in _TABLES[name].items()}


def table(name: str) -> dict[str, str]:
    """A whole table of labels in the current language, e.g. ``table("states")``."""
    return _resolved(name, str(get_locale()))


def _label(name: str, code: str | None) -> str:
    if code is None:
        return ""
    return table(name).get(code, code)


def state_label(state: str) -> str:
    """A candidacy state in the reader's language; an unknown state as it is."""
    return _label("states", state)


def outcome_label(outcome: str) -> str:
    """A stage decision's outcome in the reader's language."""
    return _label("outcomes", outcome)


def offer_status_label(status: str) -> str:
    """An offer's status in the reader's language."""
    return _label("offer_statuses", status)


def work_format_label(key: str) -> str:
    """Remote, in the office or hybrid, in the reader's language."""
    return _label("work_formats", key)


def period_label(key: str) -> str:
    """The pay period ("per month") in the reader's language."""
    return _label("periods", key)


def audit_action_label(action: str) -> str:
    """What an audit event records, in the reader's language."""
    return _label("audit_actions", action)


def audit_subject(subject: str) -> tuple[str, str]:
    """An audit event's subject as (what, reference): ("account", "1") for "user:1"; a
    subject of a kind without a label stays whole as the reference."""
    kind, _colon, reference = (subject or "").partition(":")
    words = table("audit_subjects")
    return (words[kind], reference) if kind in words else ("", subject)


def track_kind_label(kind: str) -> str:
    """What kind of questionnaire a file is, in the reader's language."""
    return _label("track_kinds", kind)


def redacted_text(text: str) -> str:
    """A redacted answer as plain text, each hidden stretch named in the reader's language."""
    words = table("redacted")
    return localise_markers(text, label=lambda kind: words.get(kind, "[…]"))


def cutoff_reason(reason: str) -> str:
    """A cut-off decision's stored rule ("top_n 5", "min_score 3.50") in words."""
    kind, _space, value = (reason or "").partition(" ")
    try:
        number = Decimal(value)
    except InvalidOperation:
        return reason
    if kind == "top_n":
        return _("cut-off: top %(n)s", n=format_decimal(number, format="#,##0"))
    if kind == "min_score":
        return _("cut-off: score at least %(x)s", x=format_decimal(number, format="0.00"))
    return reason
