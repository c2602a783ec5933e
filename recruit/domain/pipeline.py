"""The candidacy state machine: which step may follow which, in one table."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class State(StrEnum):
    """Where a candidacy stands in its campaign."""

    APPLIED = "applied"  # eligible, first stage not started yet
    IN_STAGE = "in_stage"  # taking a stage; its time limit is running
    SUBMITTED = "submitted"  # stage handed in, awaiting reviews and a decision
    ON_HOLD = "on_hold"  # coordinator postponed the decision on the stage
    ADVANCED = "advanced"  # passed a stage, next stage not started yet
    PASSED = "passed"  # passed the last stage
    NOT_PASSED = "not_passed"  # rejected at some stage; may still get an alternate offer
    OFFERED = "offered"  # an offer (primary or alternate role) awaits an answer
    INVITED = "invited"  # invited into another campaign's track; this candidacy ends
    HIRED = "hired"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class Event(StrEnum):
    """Something that happens to a candidacy."""

    START_STAGE = "start_stage"
    SUBMIT_STAGE = "submit_stage"
    ADVANCE = "advance"
    ADVANCE_FINAL = "advance_final"
    REJECT = "reject"
    HOLD = "hold"
    OFFER = "offer"
    INVITE = "invite"
    ACCEPT = "accept"
    DECLINE = "decline"
    EXPIRE = "expire"
    WITHDRAW = "withdraw"


FINAL_STATES: frozenset[State] = frozenset(
    {State.INVITED, State.HIRED, State.DECLINED, State.EXPIRED, State.WITHDRAWN}
)

_STEPS: dict[tuple[State, Event], State] = {
    (State.APPLIED, Event.START_STAGE): State.IN_STAGE,
    (State.ADVANCED, Event.START_STAGE): State.IN_STAGE,
    # The deadline submits drafts through the same event, so nothing is lost.
    (State.IN_STAGE, Event.SUBMIT_STAGE): State.SUBMITTED,
    (State.SUBMITTED, Event.ADVANCE): State.ADVANCED,
    (State.SUBMITTED, Event.ADVANCE_FINAL): State.PASSED,
    (State.SUBMITTED, Event.REJECT): State.NOT_PASSED,
    (State.SUBMITTED, Event.HOLD): State.ON_HOLD,
    (State.ON_HOLD, Event.ADVANCE): State.ADVANCED,
    (State.ON_HOLD, Event.ADVANCE_FINAL): State.PASSED,
    (State.ON_HOLD, Event.REJECT): State.NOT_PASSED,
    (State.PASSED, Event.OFFER): State.OFFERED,
    # An offer after a rejection is the alternate-role offer.
    (State.NOT_PASSED, Event.OFFER): State.OFFERED,
    (State.NOT_PASSED, Event.INVITE): State.INVITED,
    (State.OFFERED, Event.ACCEPT): State.HIRED,
    (State.OFFERED, Event.DECLINE): State.DECLINED,
    (State.OFFERED, Event.EXPIRE): State.EXPIRED,
    # An applicant may leave at any point until the candidacy is over.
    **{(state, Event.WITHDRAW): State.WITHDRAWN for state in State if state not in FINAL_STATES},
}

TRANSITIONS: Mapping[tuple[State, Event], State] = MappingProxyType(_STEPS)

_STATE_PHRASES: Mapping[State, str] = MappingProxyType(
    {
        State.APPLIED: "applied and has not started a stage",
        State.IN_STAGE: "taking a stage",
        State.SUBMITTED: "waiting for a decision on a submitted stage",
        State.ON_HOLD: "on hold",
        State.ADVANCED: "advanced and has not started the next stage",
        State.PASSED: "passed",
        State.NOT_PASSED: "not passed",
        State.OFFERED: "holding an open offer",
        State.INVITED: "invited into another track",
        State.HIRED: "hired",
        State.DECLINED: "declined",
        State.EXPIRED: "expired",
        State.WITHDRAWN: "withdrawn",
    }
)

_EVENT_PHRASES: Mapping[Event, str] = MappingProxyType(
    {
        Event.START_STAGE: "start a stage",
        Event.SUBMIT_STAGE: "submit a stage",
        Event.ADVANCE: "advance to the next stage",
        Event.ADVANCE_FINAL: "pass the last stage",
        Event.REJECT: "reject",
        Event.HOLD: "put on hold",
        Event.OFFER: "make an offer",
        Event.INVITE: "invite into another track",
        Event.ACCEPT: "accept an offer",
        Event.DECLINE: "decline an offer",
        Event.EXPIRE: "expire an offer",
        Event.WITHDRAW: "withdraw",
    }
)


class TransitionError(Exception):
    """An event that the candidacy's current state does not allow."""

    def __init__(self, state: State, event: Event) -> None:
        allowed = ", ".join(allowed_events(state)) or "nothing (final state)"
        super().__init__(
            f"cannot {_EVENT_PHRASES[event]} when the candidacy is {_STATE_PHRASES[state]}"
            f" ({state}); allowed here: {allowed}"
        )
        self.state = state
        self.event = event


def allowed_events(state: State) -> tuple[Event, ...]:
    """Return the events a candidacy in this state accepts, in declaration order."""
    return tuple(event for event in Event if (state, event) in TRANSITIONS)


def transition(state: State, event: Event) -> State:
    """Return the state a candidacy moves to on an event, or raise TransitionError."""
    try:
        return TRANSITIONS[State(state), Event(event)]
    except KeyError:
        raise TransitionError(State(state), Event(event)) from None
