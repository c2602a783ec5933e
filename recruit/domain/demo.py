"""The demo of `make run`: questionnaires, an open wave and staff accounts."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from recruit import vault
from recruit.db import utcnow
from recruit.domain import accounts, applications, tracks
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

SENTENCES = (
    "Я стараюсь писать так, чтобы человеку на том конце было понятно и спокойно.",
    "Русский язык для меня — рабочий инструмент и предмет любви одновременно.",
    "Когда пользователь сердится, я сначала признаю его чувства, а потом объясняю правило.",
    "Мне важно не спорить, а найти решение, которое сработает для человека.",
    "Я отвечаю коротко, но не сухо, и всегда говорю, что будет дальше.",
    "Правила сети защищают всех, поэтому их нужно объяснять, а не просто цитировать.",
    "Если я ошибся, я говорю об этом прямо и исправляю ошибку.",
    "Гуси кажутся мне опаснее динозавра: их много, и договориться с ними труднее.",
    "Хорошая поддержка — это когда после ответа у человека меньше вопросов, чем было.",
    "Я люблю разбираться в сложных случаях и записывать, что помогло.",
)


def _demo_text(rng_seed: int, words: int) -> str:
    """Plausible answer text of at least ``words`` words."""
    out: list[str] = []
    i = rng_seed
    while sum(len(s.split()) for s in out) < words:
        out.append(SENTENCES[i % len(SENTENCES)])
        i += 3
    return " ".join(out)


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
        vault.store_identity(db, user=user, fields={
            "first": first, "middle": middle, "last": last, "city": city,
            "birth_date": f"199{n % 10}-0{1 + n % 9}-1{n % 9}", "citizenship": "RU",
            "phone": f"+7 912 555-0{n:01d}-{10 + n}"})
        candidacy = applications.apply(db, user=user, campaign=campaign, now=now)
        submission = applications.start_stage(db, candidacy=candidacy, stage=stage, now=now)
        for answer, task in zip(submission.answers, stage.tasks, strict=True):
            text = _demo_text(n + task.position, task.min_words + 10)
            if n % 3 == 0 and task.position == 1:
                text += f"\n\nС уважением,\n{first} {last}"
            applications.save_answer(db, answer=answer, text=text, base_version=answer.version,
                                     now=now)
        applications.submit_stage(db, submission=submission, now=now)
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
        created.append((f"applicant01…{len(DEMO_PEOPLE):02d}@demo.example.org", "applicant",
                        password))
    return created
