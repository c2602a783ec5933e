"""Tracks, campaigns (waves), their stages, tasks and rubric criteria, job roles, reviewer pools."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recruit.db import Base, UTCDateTime, utcnow

#: The zone of campaigns created before campaigns had one, and of the company by default.
DEFAULT_TIME_ZONE = "Europe/Moscow"


class TrackVersion(Base):
    """An immutable snapshot of a questionnaire file, identified by its content hash."""

    __tablename__ = "track_version"
    __table_args__ = (sa.UniqueConstraint("key", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    key: Mapped[str] = mapped_column(sa.String(64), index=True)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    data: Mapped[dict] = mapped_column(sa.JSON)
    source_name: Mapped[str] = mapped_column(sa.String(255))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JobRole(Base):
    """A role candidates can be offered, with minimum per-criterion averages."""

    __tablename__ = "job_role"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    title_en: Mapped[str] = mapped_column(sa.String(200))
    title_ru: Mapped[str] = mapped_column(sa.String(200))
    track_key: Mapped[str | None] = mapped_column(sa.String(64))
    requirements: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    salary_min: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(sa.String(3), default="RUB")
    period: Mapped[str] = mapped_column(sa.String(16), default="month")
    work_format: Mapped[str] = mapped_column(sa.String(16), default="remote")
    conditions_en: Mapped[str] = mapped_column(sa.Text, default="")
    conditions_ru: Mapped[str] = mapped_column(sa.Text, default="")
    content_hash: Mapped[str | None] = mapped_column(sa.String(64))


class Campaign(Base):
    """A recruitment wave created from one track version."""

    __tablename__ = "campaign"
    __table_args__ = (
        sa.CheckConstraint("closes_at > opens_at", name="closes_after_opens"),
        sa.CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        sa.CheckConstraint("reviews_per_answer >= 1", name="reviews_per_answer_positive"),
        sa.CheckConstraint("max_reviews >= reviews_per_answer", name="max_reviews_enough"),
        sa.CheckConstraint("similarity_threshold BETWEEN 25 AND 100",
                           name="similarity_threshold_range"),
        sa.CheckConstraint("paste_threshold BETWEEN 10 AND 100", name="paste_threshold_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    title_en: Mapped[str] = mapped_column(sa.String(200))
    title_ru: Mapped[str] = mapped_column(sa.String(200))
    track_version_id: Mapped[int] = mapped_column(sa.ForeignKey("track_version.id"))
    job_role_id: Mapped[int | None] = mapped_column(sa.ForeignKey("job_role.id"))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The IANA zone the campaign's dates mean: "closes on 31 December" is the end of that day
    # here, and every deadline of the campaign is shown in it.
    time_zone: Mapped[str] = mapped_column(sa.String(64), default=DEFAULT_TIME_ZONE,
                                           server_default=DEFAULT_TIME_ZONE)
    capacity: Mapped[int | None]
    min_age: Mapped[int] = mapped_column(default=18)
    citizenships: Mapped[list] = mapped_column(sa.JSON, default=list)
    acknowledgements: Mapped[list] = mapped_column(sa.JSON, default=list)
    reviews_per_answer: Mapped[int] = mapped_column(default=2)
    max_reviews: Mapped[int] = mapped_column(default=4)
    disagreement_threshold: Mapped[Decimal] = mapped_column(sa.Numeric(4, 2), default=1.5)
    normalise_min_reviews: Mapped[int] = mapped_column(default=8)
    lease_minutes: Mapped[int] = mapped_column(default=30)
    # Per cent of hand-outs that give a calibration answer, while the reviewer has one left.
    calibration_rate: Mapped[int] = mapped_column(default=10, server_default="10")
    # A reviewer whose recent calibration scores stray further than this from the reference
    # (mean, in rubric points) is flagged.
    calibration_bound: Mapped[Decimal] = mapped_column(sa.Numeric(3, 2), default=Decimal("1.00"),
                                                       server_default="1.00")
    auto_release_hours: Mapped[int | None]
    # Answer integrity (recruit.domain.integrity): a pair of answers at least this similar
    # (per cent, Jaccard over shingles) and an answer with at least this share pasted are
    # flagged to coordinators; answers may also be compared with earlier campaigns' answers
    # to the same task of the same track.
    similarity_threshold: Mapped[int] = mapped_column(default=35, server_default="35")
    paste_threshold: Mapped[int] = mapped_column(default=50, server_default="50")
    compare_earlier: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Below this many scored candidates in a stage, candidates' feedback compares them with
    # nobody and shows whole-point ranges instead of exact averages (recruit.domain.feedback).
    feedback_min_pool: Mapped[int] = mapped_column(default=20, server_default="20")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    track_version: Mapped[TrackVersion] = relationship()
    job_role: Mapped[JobRole | None] = relationship()
    stages: Mapped[list[Stage]] = relationship(
        back_populates="campaign", order_by="Stage.position", cascade="all, delete-orphan"
    )

    def title(self, locale: str) -> str:
        """The title in the given language."""
        return self.title_ru if locale == "ru" else self.title_en

    def is_open(self, now: datetime) -> bool:
        """Whether applications are accepted at ``now``."""
        return self.opens_at <= now < self.closes_at


class Stage(Base):
    """One step of a campaign: tasks, a time limit from the applicant's start, a pass rule."""

    __tablename__ = "stage"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "position"),
        sa.CheckConstraint("time_limit_minutes > 0", name="time_limit_positive"),
        sa.CheckConstraint("pass_rule_kind IN ('top_n', 'min_score')", name="pass_rule_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id", ondelete="CASCADE"))
    position: Mapped[int]
    key: Mapped[str] = mapped_column(sa.String(64))
    title_en: Mapped[str] = mapped_column(sa.String(200))
    title_ru: Mapped[str] = mapped_column(sa.String(200))
    instructions_en: Mapped[str] = mapped_column(sa.Text, default="")
    instructions_ru: Mapped[str] = mapped_column(sa.Text, default="")
    time_limit_minutes: Mapped[int]
    pass_rule_kind: Mapped[str] = mapped_column(sa.String(16))
    pass_rule_value: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    # Set when a review is submitted; whoever next reads the stage's scores renormalises it
    # first (review_stats.normalise_due), so a submission never pays for the whole stage.
    normalisation_due: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Whether candidates get feedback on this stage once their decision on it is final.
    feedback_enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # Moves on whenever the stage's stored results or decisions change: the feedback
    # statistics kept for the stage (StageFeedback) are valid for one value of it.
    results_version: Mapped[int] = mapped_column(default=0, server_default="0")

    campaign: Mapped[Campaign] = relationship(back_populates="stages")
    tasks: Mapped[list[Task]] = relationship(
        back_populates="stage", order_by="Task.position", cascade="all, delete-orphan"
    )

    def title(self, locale: str) -> str:
        """The title in the given language."""
        return self.title_ru if locale == "ru" else self.title_en

    def instructions(self, locale: str) -> str:
        """The instructions in the given language."""
        return self.instructions_ru if locale == "ru" else self.instructions_en


class StageFeedback(Base):
    """A stage's statistics for candidates' feedback, kept so that each candidate's page does
    not aggregate the whole stage: the pass line and how candidates' normalised averages are
    spread per criterion (counts in narrow bins, no candidacy). Valid while ``version`` equals
    the stage's ``results_version``; recomputed by the next reader otherwise."""

    __tablename__ = "stage_feedback"

    stage_id: Mapped[int] = mapped_column(
        sa.ForeignKey("stage.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int]
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Task(Base):
    """An open-ended question: there is no right answer, the rubric judges how."""

    __tablename__ = "task"
    __table_args__ = (
        sa.UniqueConstraint("stage_id", "position"),
        sa.CheckConstraint(
            "min_words >= 0 AND (max_words IS NULL OR max_words >= min_words)", name="word_limits"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(sa.ForeignKey("stage.id", ondelete="CASCADE"))
    position: Mapped[int]
    key: Mapped[str] = mapped_column(sa.String(64))
    prompt_en: Mapped[str] = mapped_column(sa.Text)
    prompt_ru: Mapped[str] = mapped_column(sa.Text)
    guidance_en: Mapped[str] = mapped_column(sa.Text, default="")
    guidance_ru: Mapped[str] = mapped_column(sa.Text, default="")
    min_words: Mapped[int] = mapped_column(default=0)
    max_words: Mapped[int | None]

    stage: Mapped[Stage] = relationship(back_populates="tasks")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="task", order_by="Criterion.position", cascade="all, delete-orphan"
    )

    def prompt(self, locale: str) -> str:
        """The prompt in the given language."""
        return self.prompt_ru if locale == "ru" else self.prompt_en

    def guidance(self, locale: str) -> str:
        """The reviewer guidance in the given language."""
        return self.guidance_ru if locale == "ru" else self.guidance_en


class Criterion(Base):
    """A rubric line of a task: scored 1–5, weighted."""

    __tablename__ = "criterion"
    __table_args__ = (
        sa.UniqueConstraint("task_id", "key"),
        sa.CheckConstraint("weight > 0", name="weight_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("task.id", ondelete="CASCADE"))
    position: Mapped[int]
    key: Mapped[str] = mapped_column(sa.String(64))
    title_en: Mapped[str] = mapped_column(sa.String(200))
    title_ru: Mapped[str] = mapped_column(sa.String(200))
    weight: Mapped[float] = mapped_column(sa.Float)
    # {"1": {"en": ..., "ru": ...}, "3": {...}, "5": {...}}
    descriptors: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    task: Mapped[Task] = relationship(back_populates="criteria")

    def title(self, locale: str) -> str:
        """The title in the given language."""
        return self.title_ru if locale == "ru" else self.title_en


class CampaignReviewer(Base):
    """Membership of a reviewer in a campaign's pool."""

    __tablename__ = "campaign_reviewer"

    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))


class WaitlistEntry(Base):
    """An eligible applicant waiting for the next wave."""

    __tablename__ = "waitlist_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
