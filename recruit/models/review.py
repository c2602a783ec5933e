"""Review slots handed out as leases, the reviews themselves and their criterion scores."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recruit.db import Base, UTCDateTime, utcnow


def _task_of_answer(context) -> int:
    """Default of ReviewAssignment.task_id: the task of the row's answer."""
    answer_id = context.get_current_parameters()["answer_id"]
    return context.connection.execute(
        sa.text("SELECT task_id FROM answer WHERE id = :id"), {"id": answer_id}).scalar_one()


class ReviewAssignment(Base):
    """A reviewer's hold on one answer: leased, then submitted, recused, expired or returned."""

    __tablename__ = "review_assignment"
    __table_args__ = (
        # A reviewer never reviews the same answer twice (nor after recusing).
        sa.UniqueConstraint("answer_id", "reviewer_id"),
        sa.CheckConstraint(
            "status IN ('leased', 'submitted', 'recused', 'expired', 'returned')", name="status"
        ),
        sa.Index("ix_review_assignment_reviewer_status", "reviewer_id", "status"),
        # A reviewer's work in one task (held lease, how many finished), however long their
        # history elsewhere.
        sa.Index("ix_review_assignment_reviewer_task", "reviewer_id", "task_id", "status"),
        # Expiry looks for live leases past their time; submitted rows keep an old expiry, so
        # an index on the time alone would walk the whole history.
        sa.Index("ix_review_assignment_status_expiry", "status", "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(sa.ForeignKey("answer.id", ondelete="CASCADE"))
    # The answer's task, kept here for the index above (filled in from the answer if not given).
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("task.id", ondelete="CASCADE"),
                                         default=_task_of_answer)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(sa.String(10), default="leased")
    leased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A half-done review survives a reload:
    # {"scores": {criterion_id: n}, "comment": "...", "candidate_comment": "..."}.
    draft: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    recuse_reason: Mapped[str | None] = mapped_column(sa.Text)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    answer = relationship("Answer")


class Review(Base):
    """A submitted review: raw weighted score, its normalised value, a note for coordinators
    and a comment written for the candidate."""

    __tablename__ = "review"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("review_assignment.id", ondelete="CASCADE"), unique=True
    )
    answer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("answer.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    score_raw: Mapped[float] = mapped_column(sa.Float)
    score_normalised: Mapped[float | None] = mapped_column(sa.Float)
    # The note for coordinators: never shown to the candidate.
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    # Written for the candidate, who reads it after the stage's decision, without the
    # reviewer's name; a coordinator may hide it (hidden_at set), and then it never reaches them.
    candidate_comment: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    candidate_comment_hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    candidate_comment_hidden_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    scores: Mapped[list[CriterionScore]] = relationship(
        back_populates="review", cascade="all, delete-orphan"
    )


class CriterionScore(Base):
    """One rubric line of a review, 1–5."""

    __tablename__ = "criterion_score"
    __table_args__ = (sa.CheckConstraint("value BETWEEN 1 AND 5", name="value_range"),)

    review_id: Mapped[int] = mapped_column(
        sa.ForeignKey("review.id", ondelete="CASCADE"), primary_key=True
    )
    criterion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("criterion.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[int]

    review: Mapped[Review] = relationship(back_populates="scores")


class CalibrationAnswer(Base):
    """An answer with reference scores, mixed into reviewers' queues to measure their drift.

    Its Answer row has no submission, so it belongs to no candidacy and never counts for one;
    reviewers get it like any other answer (same page, same kind of token).
    """

    __tablename__ = "calibration_answer"

    answer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("answer.id", ondelete="CASCADE"), primary_key=True
    )
    # The answer's task again: every hand-out asks "any calibration answer for this task?",
    # and this index answers it without walking the task's answers.
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("task.id", ondelete="CASCADE"),
                                         index=True)
    # The candidate's answer it was copied from (its redacted text), if any: a reviewer who saw
    # one of the two is never handed the other.
    source_answer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("answer.id", ondelete="SET NULL"), index=True
    )
    # {criterion_id: 1–5}, as strings, like a review draft.
    reference: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A retired calibration answer is handed out no more; its reviews still show drift.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
