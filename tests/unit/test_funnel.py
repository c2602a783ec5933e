"""The campaign funnel: each person counted once, at every step they reached."""

from __future__ import annotations

from datetime import timedelta

from recruit.db import utcnow
from recruit.domain import funnel, tracks
from recruit.models import (
    Answer,
    Candidacy,
    Decision,
    EligibilityCheck,
    Offer,
    Role,
    Submission,
)
from tests.factories import make_user


def _campaign(db):
    tracks.load_shipped(db)
    now = utcnow()
    return tracks.create_campaign(db, track_key="support-agent", key="funnel-wave",
                                  opens_at=now - timedelta(days=1),
                                  closes_at=now + timedelta(days=30))


def _candidacy(db, campaign, *, state="applied", check=True):
    user = make_user(db, role=Role.APPLICANT)
    if check:
        db.add(EligibilityCheck(user_id=user.id, campaign_id=campaign.id, passed=True))
    candidacy = Candidacy(user_id=user.id, campaign_id=campaign.id, state=state)
    db.add(candidacy)
    db.flush()
    return candidacy


def _submission(db, candidacy, stage, *, submitted=True, reviews=(2, 2), status="released"):
    now = utcnow()
    submission = Submission(candidacy_id=candidacy.id, stage_id=stage.id, started_at=now,
                            deadline_at=now + timedelta(hours=1),
                            submitted_at=now if submitted else None)
    db.add(submission)
    db.flush()
    if submitted:
        done, wanted = reviews
        for task in stage.tasks:
            db.add(Answer(submission_id=submission.id, task_id=task.id, text="…",
                          check_status=status, reviews_done=done, reviews_wanted=wanted))
    db.flush()
    return submission


def test_registered_counts_each_person_once_and_failures_stay_out_of_eligible(db):
    campaign = _campaign(db)
    retrier = make_user(db, role=Role.APPLICANT)
    for passed in (False, False, True):
        db.add(EligibilityCheck(user_id=retrier.id, campaign_id=campaign.id, passed=passed))
    db.add(Candidacy(user_id=retrier.id, campaign_id=campaign.id))
    failed = make_user(db, role=Role.APPLICANT)
    db.add(EligibilityCheck(user_id=failed.id, campaign_id=campaign.id, passed=False,
                            reasons=["too_young"]))
    # Invited from another campaign: no check here, eligible all the same.
    _candidacy(db, campaign, check=False)
    # An erased applicant who failed, and an erased one with a candidacy.
    db.add(EligibilityCheck(user_id=None, campaign_id=campaign.id, passed=False))
    db.add(Candidacy(user_id=None, campaign_id=campaign.id, state="not_passed"))
    db.flush()
    numbers = funnel.campaign_funnel(db, campaign=campaign)
    assert (numbers.registered, numbers.eligible, numbers.applied) == (5, 3, 3)


def test_each_stage_counts_started_submitted_reviewed_and_decided(db):
    campaign = _campaign(db)
    first, second = campaign.stages[0], campaign.stages[1]
    reviewed = _candidacy(db, campaign, state="advanced")
    _submission(db, reviewed, first)
    db.add(Decision(candidacy_id=reviewed.id, stage_id=first.id, outcome="advance"))
    half = _candidacy(db, campaign, state="submitted")
    _submission(db, half, first, reviews=(1, 2))
    checking = _candidacy(db, campaign, state="submitted")
    _submission(db, checking, first, reviews=(0, 0), status="pending")
    held = _candidacy(db, campaign, state="on_hold")
    _submission(db, held, first)
    db.add(Decision(candidacy_id=held.id, stage_id=first.id, outcome="hold"))
    writing = _candidacy(db, campaign, state="in_stage")
    _submission(db, writing, first, submitted=False)
    _submission(db, reviewed, second, submitted=False)
    db.flush()
    numbers = funnel.campaign_funnel(db, campaign=campaign)
    one, two, three = numbers.stages
    tasks = len(first.tasks)
    assert (one.started, one.submitted, one.reviewed, one.decided) == (5, 4, 2, 1)
    assert (one.reviews_done, one.reviews_wanted) == (5 * tasks, 6 * tasks)
    assert one.pending_check == tasks
    assert (two.started, two.submitted, two.decided) == (1, 0, 0)
    assert two.review_share is None
    assert three.started == 0


def test_offers_and_acceptances_count_candidacies(db):
    campaign = _campaign(db)
    role = campaign.job_role
    today = utcnow().date()
    for status in ("accepted", "declined", "issued"):
        candidacy = _candidacy(db, campaign, state="offered")
        db.add(Offer(candidacy_id=candidacy.id, job_role_id=role.id, salary=role.salary_min,
                     currency=role.currency, start_date=today + timedelta(days=30),
                     work_format="remote", expires_on=today + timedelta(days=7),
                     status=status))
    db.flush()
    numbers = funnel.campaign_funnel(db, campaign=campaign)
    assert (numbers.offered, numbers.accepted) == (3, 1)
