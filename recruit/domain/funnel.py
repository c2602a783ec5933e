"""A campaign's funnel, from registration to hire, as plain counts.

The campaign page draws it as a chart and shows each stage's review progress from it; the
campaign report prints the same numbers, so the two never disagree. Everything is counted
in a few grouped queries, whatever the size of the campaign.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from recruit.models import (
    Answer,
    Campaign,
    Candidacy,
    Decision,
    EligibilityCheck,
    Offer,
    Stage,
    Submission,
    Task,
)


@dataclass(frozen=True)
class StageFunnel:
    """One stage: how many started, submitted, are fully reviewed and decided; review work."""

    stage_id: int
    position: int
    started: int
    submitted: int
    reviewed: int
    decided: int
    reviews_done: int
    reviews_wanted: int
    pending_check: int
    # Handed in, not yet taken in by an intake worker (INTAKE = "worker").
    in_intake: int = 0

    @property
    def review_share(self) -> float | None:
        """Reviews done out of those wanted so far (0–1); None while nothing is in review."""
        if not self.reviews_wanted:
            return None
        return min(self.reviews_done / self.reviews_wanted, 1.0)


@dataclass(frozen=True)
class CampaignFunnel:
    """People at each step of the campaign, first to last."""

    registered: int
    eligible: int
    applied: int
    stages: list[StageFunnel]
    offered: int
    accepted: int


def _people(db: Session, *, campaign: Campaign) -> tuple[int, int, int]:
    """(registered, eligible, applied): everyone who tried, everyone who passed, candidacies.

    A person is counted once however often they retried the check. Candidacies without a
    check of this campaign (an invitation from another one) were eligible by definition.
    """
    checks = sa.select(EligibilityCheck.user_id.label("user_id"),
                       EligibilityCheck.passed.label("passed")).where(
        EligibilityCheck.campaign_id == campaign.id, EligibilityCheck.user_id.is_not(None))
    candidacies = sa.select(Candidacy.user_id.label("user_id"),
                            sa.true().label("passed")).where(
        Candidacy.campaign_id == campaign.id, Candidacy.user_id.is_not(None))
    known = sa.union_all(checks, candidacies).subquery()
    registered, eligible = db.execute(
        sa.select(sa.func.count(sa.distinct(known.c.user_id)),
                  sa.func.count(sa.distinct(known.c.user_id)).filter(known.c.passed))
    ).one()
    # Erased accounts leave their checks and candidacies behind without a user.
    erased_failed, applied, erased_applied = db.execute(
        sa.select(
            sa.select(sa.func.count()).where(
                EligibilityCheck.campaign_id == campaign.id,
                EligibilityCheck.user_id.is_(None),
                sa.not_(EligibilityCheck.passed)).scalar_subquery(),
            sa.select(sa.func.count()).where(
                Candidacy.campaign_id == campaign.id).scalar_subquery(),
            sa.select(sa.func.count()).where(
                Candidacy.campaign_id == campaign.id,
                Candidacy.user_id.is_(None)).scalar_subquery())
    ).one()
    return (int(registered) + int(erased_failed) + int(erased_applied),
            int(eligible) + int(erased_applied), int(applied))


def campaign_funnel(db: Session, *, campaign: Campaign) -> CampaignFunnel:
    """Count the campaign's funnel and each stage's review progress."""
    registered, eligible, applied = _people(db, campaign=campaign)
    stages = db.execute(sa.select(Stage.id, Stage.position)
                        .where(Stage.campaign_id == campaign.id)
                        .order_by(Stage.position)).all()
    stage_ids = [s.id for s in stages]
    submissions = {r.stage_id: r for r in db.execute(
        sa.select(Submission.stage_id, sa.func.count().label("started"),
                  sa.func.count(Submission.submitted_at).label("submitted"))
        .where(Submission.stage_id.in_(stage_ids)).group_by(Submission.stage_id))}
    released = Answer.check_status == "released"
    unfinished = sa.or_(sa.not_(released), Answer.reviews_done < Answer.reviews_wanted)
    answers = {r.stage_id: r for r in db.execute(
        sa.select(Task.stage_id,
                  sa.func.coalesce(sa.func.sum(Answer.reviews_done).filter(released), 0)
                  .label("done"),
                  sa.func.coalesce(sa.func.sum(Answer.reviews_wanted).filter(released), 0)
                  .label("wanted"),
                  sa.func.count().filter(Answer.check_status == "pending").label("pending"),
                  sa.func.count(sa.distinct(Answer.submission_id))
                  .filter(Answer.check_status == "draft").label("in_intake"),
                  sa.func.count(sa.distinct(Answer.submission_id)).filter(unfinished)
                  .label("unfinished"))
        .join(Task, Task.id == Answer.task_id)
        .join(Submission, Submission.id == Answer.submission_id)
        .where(Task.stage_id.in_(stage_ids), Submission.submitted_at.is_not(None))
        .group_by(Task.stage_id))}
    decided = dict(db.execute(
        sa.select(Decision.stage_id, sa.func.count(sa.distinct(Decision.candidacy_id)))
        .where(Decision.stage_id.in_(stage_ids), Decision.outcome.in_(("advance", "reject")))
        .group_by(Decision.stage_id)).all())
    offered, accepted = db.execute(
        sa.select(sa.func.count(sa.distinct(Offer.candidacy_id)),
                  sa.func.count(sa.distinct(Offer.candidacy_id))
                  .filter(Offer.status == "accepted"))
        .join(Candidacy, Candidacy.id == Offer.candidacy_id)
        .where(Candidacy.campaign_id == campaign.id)).one()
    result = []
    for stage in stages:
        sub, ans = submissions.get(stage.id), answers.get(stage.id)
        submitted = sub.submitted if sub else 0
        result.append(StageFunnel(
            stage_id=stage.id, position=stage.position,
            started=sub.started if sub else 0, submitted=submitted,
            reviewed=submitted - (ans.unfinished if ans else 0),
            decided=decided.get(stage.id, 0),
            reviews_done=int(ans.done) if ans else 0, reviews_wanted=int(ans.wanted) if ans else 0,
            pending_check=ans.pending if ans else 0, in_intake=ans.in_intake if ans else 0))
    return CampaignFunnel(registered=registered, eligible=eligible, applied=applied,
                          stages=result, offered=int(offered), accepted=int(accepted))
