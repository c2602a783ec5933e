"""Words for pipeline states and decision outcomes, shared by the coordinator pages.

Tables of candidacies show one of these per row; translating a mapping once per label
rather than building a dict of thirteen translations per row keeps a 50-row page cheap.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATES = {
    "applied": _l("applied"), "in_stage": _l("taking a stage"),
    "submitted": _l("awaiting decision"), "on_hold": _l("on hold"), "advanced": _l("advanced"),
    "passed": _l("passed all stages"), "not_passed": _l("did not pass"),
    "offered": _l("offer open"), "invited": _l("invited elsewhere"), "hired": _l("hired"),
    "declined": _l("declined"), "expired": _l("offer expired"), "withdrawn": _l("withdrew"),
}
OUTCOMES = {"advance": _l("advanced"), "reject": _l("did not pass"), "hold": _l("on hold")}


def state_label(state: str) -> str:
    """A candidacy state in the reader's language; an unknown state as it is."""
    label = STATES.get(state)
    return str(label) if label is not None else state


def outcome_label(outcome: str) -> str:
    """A stage decision's outcome in the reader's language."""
    label = OUTCOMES.get(outcome)
    return str(label) if label is not None else outcome

# Redaction kinds: what the custodian's check calls each hidden stretch, and the
# placeholder reviewers read in its place. Every kind in redaction.KINDS has both.
REDACTION_KINDS = {
    "name": _l("name"), "email": _l("e-mail"), "phone": _l("phone"),
    "link": _l("profile link"), "handle": _l("handle"), "city": _l("city"),
    "date": _l("date of birth"), "age": _l("age"), "affiliation": _l("school or employer"),
    "address": _l("street address"),
}
REDACTED = {
    "name": _l("[name hidden]"), "email": _l("[e-mail hidden]"),
    "phone": _l("[phone hidden]"), "link": _l("[link hidden]"),
    "handle": _l("[username hidden]"), "city": _l("[city hidden]"),
    "date": _l("[date hidden]"), "age": _l("[age hidden]"),
    "affiliation": _l("[school or employer hidden]"), "address": _l("[address hidden]"),
}
