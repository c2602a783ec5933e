"""Versioned questionnaire snapshots, job roles, and campaigns created from a track version."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recruit.domain.questionnaires import Document, load_file
from recruit.models import Campaign, Criterion, JobRole, Stage, Task, TrackVersion
from recruit.models.campaigns import DEFAULT_TIME_ZONE

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"
# What coordinators may set on a campaign's review: (lowest, highest).
LEASE_MINUTES = (5, 480)
CALIBRATION_RATE = (0, 50)
CALIBRATION_BOUND = (Decimal("0.25"), Decimal("4.00"))


class CampaignError(Exception):
    """A campaign cannot be created as asked; the message says why."""


def store_document(db: Session, *, document: Document, source_name: str) -> tuple[TrackVersion,
                                                                                    bool]:
    """Keep a snapshot of a document; loading the same content twice stores it once."""
    version = db.scalar(select(TrackVersion).where(TrackVersion.key == document.key,
                                                   TrackVersion.content_hash ==
                                                   document.content_hash))
    created = version is None
    if created:
        version = TrackVersion(kind=document.kind, key=document.key,
                               content_hash=document.content_hash, data=document.data,
                               source_name=source_name)
        db.add(version)
        db.flush()
    if document.kind == "job-roles":
        sync_job_roles(db, document=document)
    return version, created


def load_path(db: Session, *, path: Path) -> tuple[TrackVersion, bool]:
    """Validate and store one questionnaire file (raises QuestionnaireError on problems)."""
    return store_document(db, document=load_file(path), source_name=path.name)


def sync_job_roles(db: Session, *, document: Document) -> list[JobRole]:
    """Create or update the job roles a job-roles document lists."""
    existing = {r.key: r for r in db.scalars(select(JobRole))}
    roles = []
    for spec in document.data["roles"]:
        role = existing.get(spec["key"]) or JobRole(key=spec["key"])
        offer = spec["offer"]
        role.title_en, role.title_ru = spec["title"]["en"], spec["title"]["ru"]
        role.track_key = spec.get("track")
        role.requirements = dict(spec.get("requirements") or {})
        role.salary_min = int(offer["salary_min"])
        role.currency = offer["currency"]
        role.period = offer.get("period") or "month"
        role.work_format = offer["work_format"]
        role.conditions_en = offer["conditions"]["en"]
        role.conditions_ru = offer["conditions"]["ru"]
        role.content_hash = document.content_hash
        db.add(role)
        roles.append(role)
    db.flush()
    return roles


def latest_version(db: Session, *, key: str) -> TrackVersion | None:
    """The newest stored snapshot of a track."""
    return db.scalar(select(TrackVersion).where(TrackVersion.key == key, TrackVersion.kind ==
                                                "track").order_by(TrackVersion.id.desc())
                     .limit(1))


def _unique_key(db: Session, base: str) -> str:
    taken = set(db.scalars(select(Campaign.key).where(Campaign.key.like(f"{base}%"))))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _title_key(title: str) -> str:
    return " ".join(title.split()).casefold()


def title_clash(db: Session, *, title_en: str, title_ru: str,
                campaign_id: int | None = None) -> str | None:
    """The language ('en' or 'ru') in which another campaign already has this title, if any.

    Titles are compared ignoring case and runs of spaces: reviewers and coordinators tell
    waves apart by them.
    """
    others = db.execute(select(Campaign.title_en, Campaign.title_ru)
                        .where(Campaign.id != (campaign_id or -1))).all()
    for language, title in (("en", title_en), ("ru", title_ru)):
        wanted = _title_key(title)
        if any(_title_key(other_en if language == "en" else other_ru) == wanted
               for other_en, other_ru in others):
            return language
    return None


def distinct_titles(db: Session, *, title_en: str, title_ru: str) -> tuple[str, str]:
    """Default titles made distinct: the second wave of a track in a month is "… (wave 2)"."""
    count = db.scalar(select(func.count()).select_from(Campaign)) or 0
    candidates = [(title_en, title_ru)] + [(f"{title_en} (wave {n})", f"{title_ru} (волна {n})")
                                           for n in range(2, count + 3)]
    for en, ru in candidates:
        if title_clash(db, title_en=en, title_ru=ru) is None:
            return en, ru
    raise AssertionError("unreachable: count + 2 candidates cannot all be taken")


def create_campaign(db: Session, *, track_key: str, opens_at: datetime, closes_at: datetime,
                    capacity: int | None = None, key: str | None = None,
                    title_en: str | None = None, title_ru: str | None = None,
                    version: TrackVersion | None = None,
                    time_zone: str = DEFAULT_TIME_ZONE) -> Campaign:
    """Create a wave from the newest (or the given) version of a track; copies it, so later
    edits of the file never change this campaign. ``time_zone`` (IANA) is the zone its dates
    mean and its deadlines are shown in. Titles come out distinct from every other
    campaign's (see :func:`distinct_titles`)."""
    version = version or latest_version(db, key=track_key)
    if version is None:
        raise CampaignError(f"no track {track_key!r} is loaded; run `recruit questionnaire load`")
    if closes_at <= opens_at:
        raise CampaignError("the campaign must close after it opens")
    try:
        zone = ZoneInfo(time_zone)
    except (ValueError, ZoneInfoNotFoundError):
        raise CampaignError(f"unknown time zone {time_zone!r}") from None
    if capacity is not None and capacity < 1:
        raise CampaignError("capacity must be at least 1")
    if key is not None and not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", key):
        raise CampaignError("the key may hold lowercase Latin letters, digits and hyphens")
    if key is not None and db.scalar(select(Campaign.id).where(Campaign.key == key)):
        raise CampaignError(f"a campaign with key {key!r} exists")
    data = version.data
    role = db.scalar(select(JobRole).where(JobRole.key == data.get("role")))
    # Named after the month it opens in, as its own time zone sees it.
    local_opening = opens_at.astimezone(zone)
    month = local_opening.strftime("%Y-%m")
    month_ru = format_date(local_opening, "LLLL yyyy", locale="ru")
    default_en, default_ru = distinct_titles(
        db, title_en=title_en or f"{data['title']['en']} — {local_opening:%B %Y}",
        title_ru=title_ru or f"{data['title']['ru']} — {month_ru}")
    campaign = Campaign(
        key=key or _unique_key(db, f"{version.key}-{month}"),
        title_en=default_en,
        title_ru=default_ru,
        track_version=version,
        job_role=role,
        opens_at=opens_at,
        closes_at=closes_at,
        time_zone=time_zone,
        capacity=capacity,
        min_age=data["eligibility"]["min_age"],
        citizenships=list(data["eligibility"]["citizenships"]),
        acknowledgements=[
            {"key": a["key"], "en": a["text"]["en"], "ru": a["text"]["ru"]}
            for a in data["eligibility"].get("acknowledgements", [])
        ],
    )
    for s_pos, stage_data in enumerate(data["stages"], start=1):
        stage = Stage(
            position=s_pos,
            key=stage_data["key"],
            title_en=stage_data["title"]["en"],
            title_ru=stage_data["title"]["ru"],
            instructions_en=(stage_data.get("instructions") or {}).get("en", ""),
            instructions_ru=(stage_data.get("instructions") or {}).get("ru", ""),
            time_limit_minutes=stage_data["time_limit_minutes"],
            pass_rule_kind=stage_data["pass_rule"]["kind"],
            pass_rule_value=stage_data["pass_rule"]["value"],
        )
        for t_pos, task_data in enumerate(stage_data["tasks"], start=1):
            task = Task(
                position=t_pos,
                key=task_data["key"],
                prompt_en=task_data["prompt"]["en"],
                prompt_ru=task_data["prompt"]["ru"],
                guidance_en=(task_data.get("guidance") or {}).get("en", ""),
                guidance_ru=(task_data.get("guidance") or {}).get("ru", ""),
                min_words=task_data["min_words"],
                max_words=task_data["max_words"],
            )
            for c_pos, crit in enumerate(task_data["rubric"], start=1):
                task.criteria.append(Criterion(
                    position=c_pos,
                    key=crit["key"],
                    title_en=crit["title"]["en"],
                    title_ru=crit["title"]["ru"],
                    weight=float(crit["weight"]),
                    descriptors=crit["descriptors"],
                ))
            stage.tasks.append(task)
        campaign.stages.append(stage)
    db.add(campaign)
    db.flush()
    return campaign


def load_shipped(db: Session) -> list[TrackVersion]:
    """Load every file of the shipped questionnaires folder (job roles first)."""
    files = sorted(QUESTIONNAIRES.glob("*.toml"), key=lambda p: (p.name != "job-roles.toml",
                                                                 p.name))
    return [load_path(db, path=path)[0] for path in files]


def criterion_titles(db: Session) -> dict[str, dict[str, str]]:
    """Criterion key → its title per language, as the loaded tracks name it (newest first)."""
    titles: dict[str, dict[str, str]] = {}
    for data in db.scalars(select(TrackVersion.data).where(TrackVersion.kind == "track")
                           .order_by(TrackVersion.id.desc())):
        for stage in data.get("stages", []):
            for task in stage.get("tasks", []):
                for criterion in task.get("rubric", []):
                    titles.setdefault(criterion["key"], dict(criterion["title"]))
    return titles


def change_settings(db: Session, *, campaign: Campaign, title_en: str, title_ru: str,
                    lease_minutes: int, calibration_rate: int,
                    calibration_bound: Decimal) -> None:
    """Rename a campaign and set its review settings; a title another campaign has is refused."""
    title_en, title_ru = " ".join(title_en.split()), " ".join(title_ru.split())
    if not title_en or not title_ru:
        raise CampaignError("a campaign needs a title in both languages")
    clash = title_clash(db, title_en=title_en, title_ru=title_ru, campaign_id=campaign.id)
    if clash is not None:
        raise CampaignError(f"another campaign already has the {clash} title")
    if not LEASE_MINUTES[0] <= lease_minutes <= LEASE_MINUTES[1]:
        raise CampaignError(f"a lease lasts {LEASE_MINUTES[0]} to {LEASE_MINUTES[1]} minutes")
    if not CALIBRATION_RATE[0] <= calibration_rate <= CALIBRATION_RATE[1]:
        raise CampaignError(f"the calibration rate is {CALIBRATION_RATE[0]} to "
                            f"{CALIBRATION_RATE[1]} per cent")
    if not CALIBRATION_BOUND[0] <= calibration_bound <= CALIBRATION_BOUND[1]:
        raise CampaignError(f"the drift bound is {CALIBRATION_BOUND[0]} to "
                            f"{CALIBRATION_BOUND[1]} points")
    campaign.title_en, campaign.title_ru = title_en, title_ru
    campaign.lease_minutes = lease_minutes
    campaign.calibration_rate = calibration_rate
    campaign.calibration_bound = calibration_bound
    db.flush()
