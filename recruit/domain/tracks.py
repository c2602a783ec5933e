"""Versioned questionnaire snapshots, job roles, and campaigns created from a track version."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.orm import Session

from recruit.domain.questionnaires import Document, load_file
from recruit.models import Campaign, Criterion, JobRole, Stage, Task, TrackVersion
from recruit.models.campaigns import DEFAULT_TIME_ZONE

QUESTIONNAIRES = Path(__file__).resolve().parents[2] / "questionnaires"


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


def create_campaign(db: Session, *, track_key: str, opens_at: datetime, closes_at: datetime,
                    capacity: int | None = None, key: str | None = None,
                    title_en: str | None = None, title_ru: str | None = None,
                    version: TrackVersion | None = None,
                    time_zone: str = DEFAULT_TIME_ZONE) -> Campaign:
    """Create a wave from the newest (or the given) version of a track; copies it, so later
    edits of the file never change this campaign. ``time_zone`` (IANA) is the zone its dates
    mean and its deadlines are shown in."""
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
    campaign = Campaign(
        key=key or _unique_key(db, f"{version.key}-{month}"),
        title_en=title_en or f"{data['title']['en']} — {local_opening:%B %Y}",
        title_ru=title_ru or f"{data['title']['ru']} — {month_ru}",
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
