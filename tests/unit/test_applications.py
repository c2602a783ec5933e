"""The applicant domain: words, deadlines, codes, optimistic saving, submitting, closing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from recruit.domain import applications, tracks
from recruit.domain.applications import ApplicationError
from tests.factories import make_user

NOW = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", 0), ("   \n ", 0), ("Hello, world!", 2), ("e-mail isn't hard", 3),
     ("Из-за того, что — да.", 4), ("1990 год, 2 раза", 4), ("... --- !!!", 0),
     ("snake_case words", 3)],
    ids=["empty", "blank", "punctuation", "inner-hyphen-apostrophe", "russian-dash",
         "digits", "symbols-only", "underscore-splits"],
)
def test_word_count(text, expected):
    assert applications.word_count(text) == expected


@pytest.mark.parametrize(
    ("words", "min_words", "max_words", "problem"),
    [(79, 80, 500, "too_short"), (80, 80, 500, None), (500, 80, 500, None),
     (501, 80, 500, "too_long"), (10_000, 0, None, None), (0, 0, None, None)],
    ids=["below-min", "at-min", "at-max", "over-max", "no-max", "no-limits"],
)
def test_word_limit_problem(words, min_words, max_words, problem):
    assert applications.word_limit_problem(words=words, min_words=min_words,
                                           max_words=max_words) == problem


@pytest.fixture
def wave(db):
    tracks.load_shipped(db)
    return tracks.create_campaign(db, track_key="support-agent", key="unit-wave",
                                  opens_at=NOW - timedelta(days=1),
                                  closes_at=NOW + timedelta(days=10))


@pytest.fixture
def candidacy(db, wave):
    return applications.apply(db, user=make_user(db), campaign=wave, now=NOW)


def test_deadline_is_the_time_limit_or_the_campaign_close(wave):
    stage = wave.stages[0]
    assert applications.deadline_for(stage=stage, now=NOW) == NOW + timedelta(minutes=90)
    late = wave.closes_at - timedelta(minutes=5)
    assert applications.deadline_for(stage=stage, now=late) == wave.closes_at


def test_a_clashing_candidacy_code_is_drawn_again(db, wave, candidacy, monkeypatch):
    codes = iter([candidacy.code, "ZZ-ZZZZ"])
    monkeypatch.setattr(applications, "new_candidacy_code", lambda: next(codes))
    other = applications.apply(db, user=make_user(db), campaign=wave, now=NOW)
    assert other.code == "ZZ-ZZZZ"


def test_applying_twice_or_after_the_close_is_refused(db, wave, candidacy):
    user = make_user(db)
    with pytest.raises(ApplicationError) as closed:
        applications.apply(db, user=user, campaign=wave, now=wave.closes_at)
    assert closed.value.code == "campaign_closed"
    applications.apply(db, user=user, campaign=wave, now=NOW)
    with pytest.raises(ApplicationError) as twice:
        applications.apply(db, user=user, campaign=wave, now=NOW)
    assert twice.value.code == "already_applied"


def test_save_is_compare_and_set_on_the_version(db, candidacy):
    submission = applications.start_stage(db, candidacy=candidacy,
                                          stage=candidacy.campaign.stages[0], now=NOW)
    answer = submission.answers[0]
    applications.save_answer(db, answer=answer, text="one", base_version=0, now=NOW)
    applications.save_answer(db, answer=answer, text="two", base_version=1, now=NOW)
    with pytest.raises(ApplicationError) as err:
        applications.save_answer(db, answer=answer, text="stale", base_version=1, now=NOW)
    assert err.value.code == "conflict" and err.value.params["version"] == 2
    assert (answer.text, answer.version) == ("two", 2)


def test_starting_twice_returns_the_same_submission(db, candidacy):
    stage = candidacy.campaign.stages[0]
    first = applications.start_stage(db, candidacy=candidacy, stage=stage, now=NOW)
    again = applications.start_stage(db, candidacy=candidacy, stage=stage,
                                     now=NOW + timedelta(minutes=5))
    assert again is first and first.deadline_at == NOW + timedelta(minutes=90)


def test_submitting_by_hand_needs_the_word_limits(db, candidacy):
    submission = applications.start_stage(db, candidacy=candidacy,
                                          stage=candidacy.campaign.stages[0], now=NOW)
    with pytest.raises(ApplicationError) as err:
        applications.submit_stage(db, submission=submission, now=NOW)
    assert err.value.code == "word_limits"
    assert [p.position for p in err.value.params["problems"]] == [1, 2, 3]
    assert submission.submitted_at is None


def test_close_expired_submits_saved_drafts_once(db, candidacy):
    submission = applications.start_stage(db, candidacy=candidacy,
                                          stage=candidacy.campaign.stages[0], now=NOW)
    applications.save_answer(db, answer=submission.answers[0], text="short but saved",
                             base_version=0, now=NOW + timedelta(minutes=1))
    assert applications.close_expired(db, now=submission.deadline_at - timedelta(seconds=1)) == 0
    later = submission.deadline_at + timedelta(hours=3)
    assert applications.close_expired(db, now=later) == 1
    assert applications.close_expired(db, now=later) == 0
    assert submission.auto_submitted and submission.submitted_at == submission.deadline_at
    assert submission.answers[0].text == "short but saved"
    assert candidacy.state == "submitted"


def test_next_stage_after_advancing_is_the_following_one(db, candidacy):
    stages = candidacy.campaign.stages
    assert applications.next_stage(db, candidacy=candidacy) == stages[0]
    applications.start_stage(db, candidacy=candidacy, stage=stages[0], now=NOW)
    assert applications.next_stage(db, candidacy=candidacy) is None
    candidacy.state = "advanced"
    assert applications.next_stage(db, candidacy=candidacy) == stages[1]
