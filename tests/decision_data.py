"""Builders for decision and offer tests: campaigns, candidacies that handed a stage in, and
reviews inserted directly (the applicant journey and the review queue are tested elsewhere)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from recruit.db import utcnow
from recruit.domain import scoring, tracks
from recruit.domain.pipeline import Event, State, transition
from recruit.models import (
    Answer,
    Campaign,
    Candidacy,
    CriterionScore,
    Review,
    ReviewAssignment,
    Role,
    Stage,
    Submission,
    User,
)
from recruit.vault import store_identity
from tests.factories import make_user


def two_stage_campaign(db, *, track_key: str = "support-agent", capacity: int | None = None,
                       key: str | None = None) -> Campaign:
    """A campaign from a shipped track, cut down to its first two stages."""
    if tracks.latest_version(db, key=track_key) is None:
        tracks.load_shipped(db)
    now = utcnow()
    campaign = tracks.create_campaign(db, track_key=track_key, key=key,
                                      opens_at=now - timedelta(days=10),
                                      closes_at=now + timedelta(days=30), capacity=capacity)
    del campaign.stages[2:]
    db.flush()
    return campaign


def reviewers(db, n: int = 2) -> list[User]:
    """Reviewer accounts."""
    return [make_user(db, role=Role.REVIEWER) for _ in range(n)]


def applicant(db, *, campaign: Campaign, first: str, last: str, locale: str = "en") -> Candidacy:
    """An applicant with a sealed identity and a candidacy that has not started."""
    user = make_user(db, locale=locale, email=f"{first.lower()}.{last.lower()}@example.org")
    store_identity(db, user=user, fields={"first": first, "last": last,
                                          "phone": "+7 900 000-00-00", "city": "Kazan"})
    candidacy = Candidacy(user_id=user.id, campaign_id=campaign.id, state=State.APPLIED.value,
                          current_stage_id=campaign.stages[0].id)
    db.add(candidacy)
    db.flush()
    return candidacy


def hand_in(db, *, candidacy: Candidacy, stage: Stage, by: list[User],
            scores: Mapping[str, int], default: int = 3, reviews_wanted: int | None = None,
            check_status: str = "released", at: datetime | None = None) -> Submission:
    """The candidacy starts and submits ``stage``; each reviewer in ``by`` scores every answer
    with ``scores`` (criterion key → 1–5, ``default`` for keys not given)."""
    now = at or utcnow()
    candidacy.state = transition(State(candidacy.state), Event.START_STAGE).value
    candidacy.current_stage_id = stage.id
    submission = Submission(candidacy_id=candidacy.id, stage_id=stage.id, started_at=now,
                            deadline_at=now + timedelta(minutes=stage.time_limit_minutes),
                            submitted_at=now)
    db.add(submission)
    db.flush()
    candidacy.state = transition(State(candidacy.state), Event.SUBMIT_STAGE).value
    for task in stage.tasks:
        answer = Answer(submission_id=submission.id, task_id=task.id, text="An answer.",
                        version=1, saved_at=now, redacted_text="An answer.",
                        check_status=check_status,
                        released_at=now if check_status == "released" else None,
                        reviews_wanted=len(by) if reviews_wanted is None else reviews_wanted,
                        reviews_done=len(by))
        db.add(answer)
        db.flush()
        values = {c.key: scores.get(c.key, default) for c in task.criteria}
        raw = scoring.weighted_score(scores=values, weights={c.key: c.weight
                                                             for c in task.criteria})
        for reviewer in by:
            assignment = ReviewAssignment(answer_id=answer.id, reviewer_id=reviewer.id,
                                          status="submitted", leased_at=now,
                                          lease_expires_at=now, completed_at=now)
            db.add(assignment)
            db.flush()
            review = Review(assignment_id=assignment.id, answer_id=answer.id,
                            reviewer_id=reviewer.id, score_raw=raw, submitted_at=now)
            review.scores = [CriterionScore(criterion_id=c.id, value=values[c.key])
                             for c in task.criteria]
            db.add(review)
    db.flush()
    return submission


def flat(value: int) -> dict[str, int]:
    """The same score on every criterion of the shipped tracks."""
    return {k: value for k in ("literacy", "clarity", "tone", "empathy", "rules", "judgement")}
