from itertools import product

import pytest

from recruit.domain.pipeline import (
    FINAL_STATES,
    TRANSITIONS,
    Event,
    State,
    TransitionError,
    allowed_events,
    transition,
)

ALL_PAIRS = list(product(State, Event))


@pytest.mark.parametrize(("state", "event"), ALL_PAIRS, ids=[f"{s}-{e}" for s, e in ALL_PAIRS])
def test_every_state_and_event(state, event):
    if (state, event) in TRANSITIONS:
        assert transition(state, event) == TRANSITIONS[state, event]
        assert event in allowed_events(state)
    else:
        assert event not in allowed_events(state)
        with pytest.raises(TransitionError) as raised:
            transition(state, event)
        assert raised.value.state is state
        assert raised.value.event is event
        assert f"({state})" in str(raised.value)


def test_error_message_names_what_was_tried_and_what_is_allowed():
    with pytest.raises(
        TransitionError,
        match=r"cannot submit a stage when the candidacy is passed"
        r" \(passed\); allowed here: offer, withdraw",
    ):
        transition(State.PASSED, Event.SUBMIT_STAGE)


def test_final_states_allow_nothing():
    for state in FINAL_STATES:
        assert allowed_events(state) == ()
    with pytest.raises(TransitionError, match="allowed here: nothing"):
        transition(State.HIRED, Event.WITHDRAW)


def test_every_non_final_state_can_withdraw():
    for state in set(State) - FINAL_STATES:
        assert transition(state, Event.WITHDRAW) is State.WITHDRAWN


def test_every_state_is_reachable_from_applied():
    reached = {State.APPLIED}
    frontier = [State.APPLIED]
    while frontier:
        state = frontier.pop()
        for event in allowed_events(state):
            target = transition(state, event)
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(State)


def test_a_full_two_stage_path_to_hire():
    state = State.APPLIED
    for event in [
        Event.START_STAGE, Event.SUBMIT_STAGE, Event.HOLD, Event.ADVANCE,
        Event.START_STAGE, Event.SUBMIT_STAGE, Event.ADVANCE_FINAL, Event.OFFER, Event.ACCEPT,
    ]:  # fmt: skip
        state = transition(state, event)
    assert state is State.HIRED


def test_a_rejected_candidate_can_get_an_alternate_offer_or_an_invitation():
    assert transition(State.NOT_PASSED, Event.OFFER) is State.OFFERED
    assert transition(State.NOT_PASSED, Event.INVITE) is State.INVITED


def test_transition_accepts_plain_strings_from_the_database():
    assert transition("submitted", "reject") is State.NOT_PASSED


def test_transitions_table_is_read_only():
    with pytest.raises(TypeError):
        TRANSITIONS[State.HIRED, Event.WITHDRAW] = State.WITHDRAWN  # type: ignore[index]
