"""The demo of `make run`: questionnaires, an open wave, staff accounts and a first wave of
applicants who wrote stage 1 (their answers: recruit.domain.demo_answers)."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from recruit import vault
from recruit.db import utcnow
from recruit.domain import accounts, applications, tracks
from recruit.domain.demo_answers import ANSWERS, COPIED
from recruit.models import Campaign, CampaignReviewer, Candidacy, Role

# Made-up people for the demo wave; their answers mention some of them, so the custodian's
# redaction queue has work too.
DEMO_PEOPLE = (
    ("Алина", "Сергеевна", "Воронцова", "Казань"),
    ("Тимур", "Ринатович", "Галиев", "Уфа"),
    ("Мария", "Олеговна", "Лебедева", "Пермь"),
    ("Арман", "Ержанович", "Сейткали", "Алматы"),
    ("Ольга", "Викторовна", "Малиновская", "Минск"),
    ("Гор", "Ашотович", "Мкртчян", "Ереван"),
    ("Айгуль", "Маратовна", "Абдыкадырова", "Бишкек"),
    ("Денис", "Павлович", "Крылов", "Самара"),
)

# Two more people register but are not eligible (too young; a citizenship the wave does not
# take), so the funnel and the report have someone who did not get through.
NOT_ELIGIBLE = (
    ("Вера", "Игоревна", "Соколова", "Тверь", "2010-04-02", "RU"),
    ("Oksana", "", "Melnyk", "Kyiv", "1994-09-17", "UA"),
)


def _answer(task_key: str, n: int, *, city: str) -> str:
    """Applicant ``n``'s own answer to a stage-1 task of the shipped agent track."""
    try:
        texts = ANSWERS[task_key]
    except KeyError:
        raise ValueError(f"the demo has no answers for task {task_key!r}: update "
                         "recruit/domain/demo_answers.py with the track") from None
    return texts[(n - 1) % len(texts)].format(city=city)


def _check(db: Session, *, user, campaign: Campaign, birth_date: str, citizenship: str, now):
    """The eligibility check as the apply page runs it, every acknowledgement given."""
    return applications.check_eligibility(
        db, user=user, campaign=campaign, birth_date=date.fromisoformat(birth_date),
        citizenship=citizenship, acknowledged=[a["key"] for a in campaign.acknowledgements],
        on=now.date(), now=now)


def _load_applicants(db: Session, *, campaign: Campaign, now) -> str | None:
    """Demo applicants who submitted stage 1; returns their shared password if created now."""
    if db.scalar(select(Candidacy.id).where(Candidacy.campaign_id == campaign.id).limit(1)):
        return None
    password = secrets.token_urlsafe(12)
    stage = campaign.stages[0]
    for n, (first, middle, last, city) in enumerate(DEMO_PEOPLE, start=1):
        user, _new = accounts.register_applicant(db, email=f"applicant{n:02d}@demo.example.org",
                                                 password=password, locale="ru")
        user.email_confirmed_at = now
        birth_date = f"199{n % 10}-0{1 + n % 9}-1{n % 9}"
        vault.store_identity(db, user=user, fields={
            "first": first, "middle": middle, "last": last, "city": city,
            "birth_date": birth_date, "citizenship": "RU",
            "phone": f"+7 912 555-0{n:01d}-{10 + n}"})
        _check(db, user=user, campaign=campaign, birth_date=birth_date, citizenship="RU",
               now=now)
        candidacy = applications.apply(db, user=user, campaign=campaign, now=now)
        submission = applications.start_stage(db, candidacy=candidacy, stage=stage, now=now)
        for answer, task in zip(submission.answers, stage.tasks, strict=True):
            text = _answer(task.key, n, city=city)
            if n % 3 == 0 and task.position == 1:
                text += f"\n\nС уважением,\n{first} {last}"
            # Typed in the form, as the stage page counts it; the one copy arrives by paste.
            counts = applications.InputCounts(typed=len(text))
            if (n, task.key) in COPIED:
                text = COPIED[n, task.key][1]
                counts = applications.InputCounts(pasted=len(text), longest_paste=len(text))
            applications.save_answer(db, answer=answer, text=text, base_version=answer.version,
                                     now=now, counts=counts)
        applications.submit_stage(db, submission=submission, now=now)
    for k, (first, middle, last, city, birth_date, citizenship) in enumerate(
            NOT_ELIGIBLE, start=len(DEMO_PEOPLE) + 1):
        user, _new = accounts.register_applicant(
            db, email=f"applicant{k:02d}@demo.example.org", password=password, locale="ru")
        user.email_confirmed_at = now
        vault.store_identity(db, user=user, fields={
            "first": first, "middle": middle, "last": last, "city": city,
            "birth_date": birth_date, "citizenship": citizenship})
        _check(db, user=user, campaign=campaign, birth_date=birth_date,
               citizenship=citizenship, now=now)
    return password


STAFF = (
    ("custodian@demo.example.org", Role.COORDINATOR, True),
    ("coordinator@demo.example.org", Role.COORDINATOR, False),
    ("reviewer1@demo.example.org", Role.REVIEWER, False),
    ("reviewer2@demo.example.org", Role.REVIEWER, False),
    ("reviewer3@demo.example.org", Role.REVIEWER, False),
)


def load_demo(db: Session) -> list[tuple[str, str, str]]:
    """Load what is missing; returns (e-mail, role, password) of accounts created now."""
    tracks.load_shipped(db)
    now = utcnow()
    campaign = db.scalar(select(Campaign).where(Campaign.key == "support-demo"))
    if campaign is None:
        campaign = tracks.create_campaign(
            db, track_key="support-agent", key="support-demo", opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=60), capacity=20)
    created = []
    for email, role, custodian in STAFF:
        if accounts.find_user(db, email=email) is not None:
            continue
        user, password = accounts.create_staff(db, email=email, role=role, custodian=custodian)
        label = "coordinator (custodian)" if custodian else role.value
        created.append((email, label, password))
        if role is Role.REVIEWER:
            db.add(CampaignReviewer(campaign_id=campaign.id, user_id=user.id))
    db.flush()
    password = _load_applicants(db, campaign=campaign, now=now)
    if password:
        last = len(DEMO_PEOPLE) + len(NOT_ELIGIBLE)
        created.append((f"applicant01…{last:02d}@demo.example.org", "applicant", password))
    return created
