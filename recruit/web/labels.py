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
