"""Candidacies, eligibility checks, stage submissions, answers and decisions."""

from __future__ import annotations

import random
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recruit.db import Base, SealedText, UTCDateTime, utcnow
from recruit.domain.pseudonyms import new_answer_token, new_candidacy_code

REVIEW_POOL_SQL = "check_status = 'released' AND reviews_wanted > reviews_done + reviews_leased"


_RANDOM = random.SystemRandom()


def _exponential_step() -> float:
    # Memoryless steps keep the smallest key of a pool equally likely to be any answer's.
    return _RANDOM.expovariate(1.0)


# Queries repeat these predicates word for word so both databases use the partial indexes.
RANKED_SQL = "submitted_at IS NOT NULL"
STALE_SQL = "submitted_at IS NOT NULL AND scores_at IS NULL"
OPEN_SQL = "submitted_at IS NULL"


class EligibilityCheck(Base):
    """The outcome of one eligibility check, kept for statistics even when it failed."""

    __tablename__ = "eligibility_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    campaign_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    passed: Mapped[bool]
    # Reason codes of every failed rule, e.g. ["too_young", "citizenship"].
    reasons: Mapped[list] = mapped_column(sa.JSON, default=list)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Candidacy(Base):
    """An applicant in one campaign, known to staff only by its random code."""

    __tablename__ = "candidacy"
    __table_args__ = (sa.UniqueConstraint("user_id", "campaign_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True, default=new_candidacy_code)
    # NULL once the applicant erased the account: the pseudonymous record stays for statistics.
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(sa.String(20), default="applied", index=True)
    current_stage_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stage.id"))
    invited_from_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("candidacy.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    campaign = relationship("Campaign")
    current_stage = relationship("Stage")
    submissions: Mapped[list[Submission]] = relationship(back_populates="candidacy")


class Submission(Base):
    """A candidacy's work on one stage: started, deadline fixed at start, submitted."""

    __tablename__ = "submission"
    __table_args__ = (
        sa.UniqueConstraint("candidacy_id", "stage_id"),
        # The decision page reads a stage best score first, 50 at a time, from this index.
        sa.Index("ix_submission_ranking", "stage_id", "rank_key", "candidacy_id",
                 sqlite_where=sa.text(RANKED_SQL), postgresql_where=sa.text(RANKED_SQL)),
        # Submissions whose scores must be computed again (see recruit.domain.stage_scores):
        # few at any time, so finding them costs nothing.
        sa.Index("ix_submission_stale", "stage_id",
                 sqlite_where=sa.text(STALE_SQL), postgresql_where=sa.text(STALE_SQL)),
        # The deadline job looks for open submissions whose time ran out: only the open ones
        # are in this index, so a job every minute stays cheap however many were submitted.
        sa.Index("ix_submission_open", "deadline_at",
                 sqlite_where=sa.text(OPEN_SQL), postgresql_where=sa.text(OPEN_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidacy_id: Mapped[int] = mapped_column(sa.ForeignKey("candidacy.id", ondelete="CASCADE"))
    stage_id: Mapped[int] = mapped_column(sa.ForeignKey("stage.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    auto_submitted: Mapped[bool] = mapped_column(default=False)
    # The stage result as scoring.candidate_scores defines it, kept by
    # recruit.domain.stage_scores; scores_at NULL means "compute again before showing".
    score: Mapped[float | None] = mapped_column(sa.Float)
    score_raw: Mapped[float | None] = mapped_column(sa.Float)
    score_spread: Mapped[float] = mapped_column(sa.Float, default=0.0, server_default="0")
    reviews_count: Mapped[int] = mapped_column(default=0, server_default="0")
    reviews_missing: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    check_pending: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The score, or -1 when there is none yet: sorts unscored last on every database.
    rank_key: Mapped[float] = mapped_column(sa.Float, default=-1.0, server_default="-1")
    scores_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Integrity flags, kept here so the ranking reads them with the row (no query per row):
    # the highest similarity (0–1) of any answer of this submission to another applicant's,
    # and the highest share of an answer that arrived by paste (None: nothing was recorded).
    similarity_max: Mapped[float | None] = mapped_column(sa.Float)
    pasted_share: Mapped[float | None] = mapped_column(sa.Float)
    # When the candidate first opened their feedback on this stage (the campaign report
    # counts them); later visits leave it as it is.
    feedback_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    candidacy: Mapped[Candidacy] = relationship(back_populates="submissions")
    stage = relationship("Stage")
    answers: Mapped[list[Answer]] = relationship(back_populates="submission")


class Answer(Base):
    """An applicant's text for one task; the redacted copy is all reviewers ever see."""

    __tablename__ = "answer"
    __table_args__ = (
        sa.UniqueConstraint("submission_id", "task_id"),
        sa.CheckConstraint(
            "check_status IN ('draft', 'pending', 'released')", name="check_status"
        ),
        # The review pool: answers of a task with a free review slot, by draw key. A draw takes
        # the smallest key a reviewer may take (recruit.domain.assignment, which repeats this
        # predicate word for word so both SQLite and PostgreSQL match the partial index). It
        # also holds everything a draw reads (submission, token, the predicate's columns), so a
        # draw never reads the answer row itself, whose long texts come before its counters:
        # 2 ms → 0.16 ms a draw at 1 M answers.
        sa.Index(
            "ix_answer_review_pool", "task_id", "draw_key", "submission_id", "token",
            "check_status", "reviews_wanted", "reviews_done", "reviews_leased",
            sqlite_where=sa.text(REVIEW_POOL_SQL), postgresql_where=sa.text(REVIEW_POOL_SQL),
        ),
        # The task's draw clock: the largest key a draw has taken (see draw_base).
        sa.Index("ix_answer_draw_clock", "task_id", "draw_base"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Random per answer, so recognising one answer links no other answer of the candidacy.
    token: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_answer_token)
    # NULL for a calibration answer (recruit.domain.calibration): it belongs to no candidacy,
    # so every query that reaches candidacies through the submission leaves it out.
    submission_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("submission.id", ondelete="CASCADE"))
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("task.id", ondelete="CASCADE"), index=True)
    # The original, as the applicant wrote it (signatures included): encrypted at rest, read
    # only by the applicant, the redactor and the custodian's check. This attribute is the
    # one way to it; reviewers and coordinators read ``redacted_text``.
    text: Mapped[str] = mapped_column(SealedText, default="")
    version: Mapped[int] = mapped_column(default=0)
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redacted_text: Mapped[str | None] = mapped_column(sa.Text)
    redaction_spans: Mapped[list] = mapped_column(sa.JSON, default=list)
    # draft → pending (custodian check) → released (in the review pool).
    check_status: Mapped[str] = mapped_column(sa.String(10), default="draft", index=True)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviews_wanted: Mapped[int] = mapped_column(default=0)
    reviews_done: Mapped[int] = mapped_column(default=0)
    # Review slots held by a lease right now (ReviewAssignment rows in status 'leased').
    reviews_leased: Mapped[int] = mapped_column(default=0, server_default="0")
    # How the text arrived, as counted by the stage page (autosave.js): characters typed,
    # characters pasted (or dropped) and the longest single paste. Counts only, never what
    # was pasted; added up with each save that stores a new version (see save_answer).
    typed_chars: Mapped[int] = mapped_column(default=0, server_default="0")
    pasted_chars: Mapped[int] = mapped_column(default=0, server_default="0")
    longest_paste: Mapped[int] = mapped_column(default=0, server_default="0")
    # Hand-out order: an exponential "alarm time" on the task's draw clock. A draw takes the
    # smallest key, stores it in draw_base and moves the key on by a fresh exponential step;
    # an answer entering the pool gets the clock (the task's largest draw_base) plus a step.
    draw_key: Mapped[float] = mapped_column(sa.Float, default=_exponential_step,
                                            server_default="0")
    draw_base: Mapped[float] = mapped_column(sa.Float, default=0.0, server_default="0")

    submission: Mapped[Submission | None] = relationship(back_populates="answers")
    task = relationship("Task")


class Decision(Base):
    """A coordinator's decision on a candidacy at a stage: who, when, why."""

    __tablename__ = "decision"
    __table_args__ = (
        sa.CheckConstraint("outcome IN ('advance', 'reject', 'hold')", name="outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidacy_id: Mapped[int] = mapped_column(
        sa.ForeignKey("candidacy.id", ondelete="CASCADE"), index=True
    )
    stage_id: Mapped[int] = mapped_column(sa.ForeignKey("stage.id", ondelete="CASCADE"))
    outcome: Mapped[str] = mapped_column(sa.String(10))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    via_cutoff: Mapped[bool] = mapped_column(default=False)
    # On a rejection: keys of the job roles the matcher found, so the message the candidate got
    # can be checked and the coordinator can list alternates without recomputing every profile.
    alternate_roles: Mapped[list] = mapped_column(sa.JSON, default=list)
    # The integrity flags the coordinator saw when deciding (integrity.decision_flags), so
    # a decision on a flagged candidacy keeps its reason beside what it was flagged for.
    flags: Mapped[list] = mapped_column(sa.JSON, default=list, server_default="[]")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
