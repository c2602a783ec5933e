"""The benchmark data generator: a wave of N applicants, written with bulk inserts.

What one applicant gets: an account, a sealed identity, a passed eligibility check, a
candidacy in a campaign made from the shipped support-agent track, and a stage-1 submission
with three answers of 150–400 Russian words (drawn from a word list, redacted copy set).
Most answers are released and carry two reviews from a pool of reviewers, with criterion
scores and normalised scores; a slice is released but not reviewed yet (so the reviewer
queue has work to hand out), a few candidacies are still writing (autosave has a draft to
save) and a few hold an offer (the offer letter has something to print).

Everything is drawn from a fixed seed, so two runs produce the same data. The rows go in
through the SQLAlchemy core (``connection.execute(insert(table), rows)``, one executemany per
chunk): the ORM unit of work would spend minutes building objects nobody reads.
"""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from recruit.db import utcnow
from recruit.domain import scoring, tracks
from recruit.domain.accounts import hash_password
from recruit.domain.pseudonyms import CODE_ALPHABET
from recruit.models import (
    Answer,
    Campaign,
    CampaignReviewer,
    Candidacy,
    CriterionScore,
    EligibilityCheck,
    Identity,
    JobRole,
    Offer,
    Review,
    ReviewAssignment,
    Role,
    Submission,
    User,
)
from recruit.vault import Vault

#: The one password of every seeded account: the benchmark logs in with it.
PASSWORD = "bench-password-not-secret"  # noqa: S105 - seeds only an empty database
DOMAIN = "bench.test"
CAMPAIGN_KEY = "bench-wave"
REVIEWERS = 50
CHUNK = 5_000  # applicants per transaction: bounds memory, keeps each executemany large

def _words(prose: str) -> tuple[str, ...]:
    return tuple(prose.split())


# Common Russian words, enough for texts that look and weigh like real answers (≈7 letters,
# two bytes each in UTF-8).
WORDS = _words("""
я вы мы он она они это тот этот весь свой который мочь сказать говорить знать стать хотеть
думать видеть понимать работать жить помогать писать читать отвечать спрашивать объяснять
пользователь клиент поддержка служба сообщение письмо вопрос ответ проблема решение ситуация
аккаунт страница профиль пароль доступ настройка правило сообщество модерация жалоба ошибка
человек время день год раз работа слово язык русский текст мысль чувство смысл пример случай
важно нужно можно нельзя всегда иногда часто редко сразу потом сначала спокойно вежливо
понятно честно внимательно подробно коротко правильно грамотно аккуратно быстро медленно
хороший плохой новый старый большой маленький главный простой сложный трудный лёгкий
интересный настоящий обычный вежливый терпеливый внимательный спокойный дружелюбный
и в не на с что как а но по к у из за от о же для до бы уже ещё только если когда потому
чтобы поэтому однако например кроме того конечно наверное действительно особенно именно
друг семья мама книга школа университет город улица дом компания команда коллега
руководитель задача цель опыт навык знание умение желание интерес причина результат
сеть социальный интернет телефон компьютер приложение сайт ссылка фотография группа
запрос заявка обращение благодарность извинение просьба претензия совет помощь забота
""")
FIRST = _words("Анна Мария Елена Ольга Наталья Ирина Татьяна Светлана Юлия Дарья Алексей "
               "Дмитрий Сергей Андрей Иван Михаил Никита Павел Артём Егор")
MIDDLE = _words("Александровна Сергеевна Ивановна Дмитриевна Андреевна Алексеевич Сергеевич "
                "Иванович Дмитриевич Андреевич")
LAST = _words("Иванова Смирнова Кузнецова Попова Васильева Петрова Соколова Михайлова Новикова "
              "Фёдорова Морозов Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов "
              "Николаев")
CITIES = _words("Санкт-Петербург Москва Казань Новосибирск Екатеринбург Самара Минск Ереван "
                "Алматы Бишкек")
CITIZENSHIPS = ("RU", "RU", "RU", "RU", "BY", "KZ", "AM", "KG")


@dataclass
class SeedReport:
    """What a seeding run wrote and how long it took."""

    applicants: int
    campaign_id: int
    stage_id: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    scores_seconds: float | None = None  # of which storing the stage results
    password: str = PASSWORD

    @property
    def answers(self) -> int:
        """How many answers the wave holds."""
        return self.rows.get("answer", 0)


def reviewer_email(n: int) -> str:
    """The e-mail of the n-th seeded reviewer (1-based)."""
    return f"reviewer{n:02d}@{DOMAIN}"


def applicant_email(n: int) -> str:
    """The e-mail of the n-th seeded applicant (1-based)."""
    return f"applicant{n:06d}@{DOMAIN}"


COORDINATOR_EMAIL = f"coordinator@{DOMAIN}"
CUSTODIAN_EMAIL = f"custodian@{DOMAIN}"


@dataclass(frozen=True)
class Plan:
    """Which applicants are in which situation; drawn before anything is written."""

    applicants: int
    drafting: frozenset[int]  # still writing stage 1 (autosave targets)
    unreviewed: frozenset[int]  # submitted, released, no review yet (queue has work)
    offered: frozenset[int]  # hold an issued offer


def make_plan(applicants: int, *, unreviewed: float, rng: random.Random) -> Plan:
    """Pick the drafting, unreviewed and offered applicants (1-based numbers)."""
    numbers = list(range(1, applicants + 1))
    shuffled = numbers[:]
    rng.shuffle(shuffled)
    n_drafting = min(applicants, max(5, applicants // 100))
    n_offered = min(applicants - n_drafting, max(3, applicants // 2000))
    n_unreviewed = min(applicants - n_drafting - n_offered, round(applicants * unreviewed))
    drafting = frozenset(shuffled[:n_drafting])
    offered = frozenset(shuffled[n_drafting:n_drafting + n_offered])
    rest = shuffled[n_drafting + n_offered:]
    return Plan(applicants, drafting, frozenset(rest[:n_unreviewed]), offered)


class TextMaker:
    """Russian-looking prose of an exact length, from a pool of sentences made of the word list.

    Sentences are drawn once and then combined: drawing every word anew took as long as
    writing the rows.
    """

    POOL = 3_000

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.sentences: list[list[str]] = []
        for _ in range(self.POOL):
            words = rng.choices(WORDS, k=rng.randint(5, 16))
            words[0] = words[0][0].upper() + words[0][1:]
            words[-1] += rng.choice(".....!?")
            self.sentences.append(words)

    def text(self, words: int) -> str:
        """Exactly ``words`` words in sentences of 5–16 words, five sentences a paragraph."""
        picked: list[list[str]] = []
        total = 0
        while total < words:
            batch = self.rng.choices(self.sentences, k=words // 8 + 1)
            for sentence in batch:
                picked.append(sentence)
                total += len(sentence)
                if total >= words:
                    break
        excess = total - words
        if excess:
            last = picked[-1][:len(picked[-1]) - excess]
            picked[-1] = [*last[:-1], last[-1].rstrip(".!?") + "."]
        return "\n\n".join(" ".join(w for s in picked[i:i + 5] for w in s)
                             for i in range(0, len(picked), 5))


def _token(rng: random.Random) -> str:
    return base64.urlsafe_b64encode(rng.getrandbits(128).to_bytes(16, "big")).decode().rstrip("=")


def _codes(count: int, rng: random.Random) -> list[str]:
    seen: set[str] = set()
    out = []
    while len(out) < count:
        chars = "".join(rng.choices(CODE_ALPHABET, k=6))
        code = f"{chars[:2]}-{chars[2:]}"
        if code not in seen:
            seen.add(code)
            out.append(code)
    return out


def _next_ids(conn: sa.Connection, *models) -> dict[str, int]:
    """The first free primary key of each table: rows get explicit ids, no RETURNING needed."""
    return {
        m.__tablename__: (conn.execute(sa.select(sa.func.max(m.id))).scalar() or 0) + 1
        for m in models
    }


def _setup_campaign(session: Session, *, now, password_hash: str) -> tuple[Campaign, list[int],
                                                                            int, int]:
    """Load the shipped tracks, create the wave and the staff; return ids the rows need."""
    tracks.load_shipped(session)
    campaign = tracks.create_campaign(
        session, track_key="support-agent", key=CAMPAIGN_KEY,
        opens_at=now - timedelta(days=14), closes_at=now + timedelta(days=60),
        title_en="Benchmark wave", title_ru="Волна для нагрузочного теста")
    staff = []
    for email, role, custodian in ((COORDINATOR_EMAIL, Role.COORDINATOR, False),
                                   (CUSTODIAN_EMAIL, Role.COORDINATOR, True)):
        user = User(email=email, password_hash=password_hash, role=role,
                    email_confirmed_at=now, locale="en")
        session.add(user)
        session.flush()
        if custodian:
            # Set directly (not via accounts.make_custodian): a fresh database has no other
            # custodian and the audit chain is not what this data is for.
            user.is_custodian = True
        staff.append(user)
    reviewers = []
    for n in range(1, REVIEWERS + 1):
        user = User(email=reviewer_email(n), password_hash=password_hash, role=Role.REVIEWER,
                    email_confirmed_at=now, locale="ru")
        session.add(user)
        reviewers.append(user)
    session.flush()
    for user in reviewers:
        session.add(CampaignReviewer(campaign_id=campaign.id, user_id=user.id))
    session.flush()
    return campaign, [u.id for u in reviewers], staff[0].id, staff[1].id


@dataclass
class _Scores:
    """Every review's numbers, drawn up front so normalisation sees the whole stage."""

    reviewers: np.ndarray  # (answers, 2) reviewer index
    values: np.ndarray  # (answers, 2, criteria of the widest rubric), unused tail 0
    raw: np.ndarray  # (answers, 2)
    normalised: np.ndarray  # (answers, 2)


def _draw_scores(n_answers: int, reviewed: np.ndarray, weights: list[list[float]],
                 rng: np.random.Generator) -> _Scores:
    quality = rng.normal(3.2, 0.7, size=n_answers)
    harshness = rng.normal(0.0, 0.4, size=REVIEWERS)
    first = rng.integers(0, REVIEWERS, size=n_answers)
    second = (first + rng.integers(1, REVIEWERS, size=n_answers)) % REVIEWERS
    reviewers = np.stack([first, second], axis=1)
    widest = max(len(w) for w in weights)
    noise = rng.normal(0.0, 0.6, size=(n_answers, 2, widest))
    values = np.clip(np.rint(quality[:, None, None] + harshness[reviewers][:, :, None] + noise),
                     1, 5).astype(np.int64)
    raw = np.zeros((n_answers, 2))
    task_of = np.arange(n_answers) % 3
    for t, w in enumerate(weights):
        rows = task_of == t
        w_arr = np.array(w + [0.0] * (widest - len(w)))
        values[rows, :, len(w):] = 0
        raw[rows] = (values[rows] * w_arr).sum(axis=2) / sum(w)
    # Normalise as the application does: one stage, per-reviewer z-scores.
    flat = [
        scoring.RawReview(review_id=i, reviewer_id=int(reviewers.flat[i]), answer_id=i // 2,
                          score=float(raw.flat[i]), criteria={})
        for i in np.flatnonzero(np.repeat(reviewed, 2))
    ]
    mapped = scoring.normalise(flat)
    normalised = np.full(n_answers * 2, np.nan)
    for i, value in mapped.items():
        normalised[i] = value
    return _Scores(reviewers, values, raw, normalised.reshape(n_answers, 2))


def seed(engine: sa.Engine, *, applicants: int, keys: list[str], random_seed: int = 1,
         unreviewed: float = 0.1,
         progress: Callable[[int, int], None] | None = None) -> SeedReport:
    """Fill an empty, migrated database with a wave of ``applicants`` applicants."""
    if applicants < 1:
        raise ValueError("at least one applicant")
    started = time.perf_counter()
    rng = random.Random(random_seed)
    nrng = np.random.default_rng(random_seed)
    vault = Vault(keys)
    now = utcnow()
    password_hash = hash_password(PASSWORD)  # scrypt is slow: once, shared by every account

    with Session(engine, expire_on_commit=False) as session:
        if session.scalar(sa.select(sa.func.count()).select_from(User)):
            raise ValueError("the database already has accounts; seed only an empty one")
        campaign, reviewer_ids, _coordinator_id, _custodian_id = _setup_campaign(
            session, now=now, password_hash=password_hash)
        stage = campaign.stages[0]
        tasks_ = list(stage.tasks)
        criteria = [[(c.id, c.weight) for c in t.criteria] for t in tasks_]
        role_id = session.scalar(sa.select(JobRole.id).where(JobRole.key == "support-agent"))
        role = session.get(JobRole, role_id) if role_id else None
        campaign_id, stage_id = campaign.id, stage.id
        task_ids = [t.id for t in tasks_]
        session.commit()

    plan = make_plan(applicants, unreviewed=unreviewed, rng=rng)
    n_answers = applicants * 3
    numbers = np.arange(1, applicants + 1)
    reviewed_applicant = np.array([n not in plan.drafting and n not in plan.unreviewed
                                   for n in numbers.tolist()])
    scores = _draw_scores(n_answers, np.repeat(reviewed_applicant, 3),
                          [[w for _, w in c] for c in criteria], nrng)
    codes = _codes(applicants, rng)
    texts = TextMaker(rng)
    counts: dict[str, int] = {}

    def put(conn: sa.Connection, model, rows: list[dict]) -> None:
        if rows:
            conn.execute(sa.insert(model.__table__), rows)
            counts[model.__tablename__] = counts.get(model.__tablename__, 0) + len(rows)

    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # A throw-away benchmark database: durability per chunk is not worth the fsyncs.
            # (On the DBAPI connection: the engine's "begin" hook would open a transaction
            # first, and SQLite refuses to change the safety level inside one.)
            conn.connection.dbapi_connection.execute("PRAGMA synchronous=OFF")
        for chunk_start in range(1, applicants + 1, CHUNK):
            chunk = range(chunk_start, min(applicants, chunk_start + CHUNK - 1) + 1)
            with conn.begin():
                ids = _next_ids(conn, User, Identity, EligibilityCheck, Candidacy, Submission,
                                Answer, ReviewAssignment, Review, Offer)
                rows: dict[str, list[dict]] = {k: [] for k in ids}
                rows["criterion_score"] = []
                for k, n in enumerate(chunk):
                    user_id = ids["user"] + k
                    cand_id = ids["candidacy"] + k
                    sub_id = ids["submission"] + k
                    applied = now - timedelta(days=10, minutes=n % 7000)
                    drafting = n in plan.drafting
                    offered = n in plan.offered
                    rows["user"].append({
                        "id": user_id, "email": applicant_email(n),
                        "password_hash": password_hash, "role": Role.APPLICANT,
                        "is_custodian": False, "active": True, "locale": "ru",
                        "email_confirmed_at": applied, "created_at": applied,
                        "session_version": 1,
                    })
                    birth = date(1975, 1, 1) + timedelta(days=rng.randrange(0, 365 * 30))
                    fields = {"first": rng.choice(FIRST), "middle": rng.choice(MIDDLE),
                              "last": rng.choice(LAST), "birth_date": birth.isoformat(),
                              "citizenship": rng.choice(CITIZENSHIPS),
                              "phone": f"+7 9{rng.randrange(10**9):09d}",
                              "city": rng.choice(CITIES), "vk": f"id{rng.randrange(10**8)}",
                              "handle": f"@user{n}"}
                    rows["identity"].append({"id": ids["identity"] + k, "user_id": user_id,
                                             "sealed": vault.seal(fields), "created_at": applied,
                                             "updated_at": applied})
                    rows["eligibility_check"].append({
                        "id": ids["eligibility_check"] + k, "user_id": user_id,
                        "campaign_id": campaign_id, "passed": True, "reasons": [],
                        "checked_at": applied})
                    state = "in_stage" if drafting else "offered" if offered else "submitted"
                    rows["candidacy"].append({
                        "id": cand_id, "code": codes[n - 1], "user_id": user_id,
                        "campaign_id": campaign_id, "state": state,
                        "current_stage_id": stage_id, "created_at": applied,
                        "updated_at": applied})
                    started_at = now - timedelta(minutes=20) if drafting else applied
                    rows["submission"].append({
                        "id": sub_id, "candidacy_id": cand_id, "stage_id": stage_id,
                        "started_at": started_at,
                        # Drafting applicants keep writing for the whole benchmark.
                        "deadline_at": (now + timedelta(days=30) if drafting
                                        else started_at + timedelta(minutes=90)),
                        "submitted_at": None if drafting else started_at + timedelta(minutes=60),
                        "auto_submitted": False})
                    for t in range(3):
                        a = (n - 1) * 3 + t  # global answer index into the score arrays
                        answer_id = ids["answer"] + k * 3 + t
                        words = rng.randint(40, 120) if drafting else rng.randint(150, 400)
                        text = texts.text(words)
                        reviewed = not drafting and n not in plan.unreviewed
                        rows["answer"].append({
                            "id": answer_id, "token": _token(rng), "submission_id": sub_id,
                            "task_id": task_ids[t], "text": text, "version": 3,
                            "saved_at": started_at + timedelta(minutes=15 * (t + 1)),
                            "redacted_text": None if drafting else text,
                            "redaction_spans": [],
                            "check_status": "draft" if drafting else "released",
                            "released_at": None if drafting else started_at + timedelta(hours=2),
                            "reviews_wanted": 0 if drafting else 2,
                            "reviews_done": 2 if reviewed else 0})
                        if not reviewed:
                            continue
                        for r in range(2):
                            ra_id = ids["review_assignment"] + len(rows["review_assignment"])
                            rev_id = ids["review"] + len(rows["review"])
                            reviewer_id = reviewer_ids[int(scores.reviewers[a, r])]
                            done = started_at + timedelta(hours=3 + r)
                            rows["review_assignment"].append({
                                "id": ra_id, "answer_id": answer_id, "task_id": task_ids[t],
                                "reviewer_id": reviewer_id,
                                "status": "submitted", "leased_at": done - timedelta(minutes=12),
                                "lease_expires_at": done + timedelta(minutes=18), "draft": {},
                                "completed_at": done})
                            rows["review"].append({
                                "id": rev_id, "assignment_id": ra_id, "answer_id": answer_id,
                                "reviewer_id": reviewer_id, "score_raw": float(scores.raw[a, r]),
                                "score_normalised": float(scores.normalised[a, r]),
                                "comment": "", "submitted_at": done})
                            for (crit_id, _w), value in zip(criteria[t], scores.values[a, r],
                                                            strict=False):
                                rows["criterion_score"].append({
                                    "review_id": rev_id, "criterion_id": crit_id,
                                    "value": int(value)})
                    if offered and role is not None:
                        rows["offer"].append({
                            "id": ids["offer"] + len(rows["offer"]), "candidacy_id": cand_id,
                            "job_role_id": role.id, "alternate": False,
                            "salary": max(role.salary_min, 1) + 5000, "currency": role.currency,
                            "period": role.period, "start_date": (now + timedelta(days=21)).date(),
                            "work_format": role.work_format,
                            "conditions": [role.conditions_en] if role.conditions_en else [],
                            "expires_on": (now + timedelta(days=14)).date(), "status": "issued",
                            "issued_by_id": None, "issued_at": now - timedelta(days=1)})
                for model in (User, Identity, EligibilityCheck, Candidacy, Submission, Answer,
                              ReviewAssignment, Review, CriterionScore, Offer):
                    put(conn, model, rows[model.__tablename__])
            if progress is not None:
                progress(chunk[-1], applicants)
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
        elif conn.dialect.name == "postgresql":
            conn.commit()
            sync_sequences(conn)
            conn.exec_driver_sql("ANALYZE")
        conn.commit()

    counts["user"] = counts.get("user", 0) + 2 + REVIEWERS
    refreshed = _refresh_stage_scores(engine, stage_id=stage_id, now=now)
    return SeedReport(applicants=applicants, campaign_id=campaign_id, stage_id=stage_id,
                      rows=counts, seconds=time.perf_counter() - started,
                      scores_seconds=refreshed)


def sync_sequences(conn: sa.Connection) -> None:
    """PostgreSQL: move each id sequence past the ids written explicitly by the bulk inserts,
    so the running site's own inserts do not collide with them."""
    from recruit.db import Base

    for table in Base.metadata.sorted_tables:
        if "id" not in table.c or not table.c.id.autoincrement:
            continue
        name = conn.dialect.identifier_preparer.quote(table.name)  # "user" is a keyword
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608 - our tables
            f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)")
    conn.commit()


def _refresh_stage_scores(engine: sa.Engine, *, stage_id: int, now) -> float | None:
    """Store each submission's stage result, as a running site has it; returns seconds.

    The rows went in through the core, past the ORM events that mark results stale, so the
    stored results are computed here once, with the application's own function.
    """
    try:
        from recruit.domain import stage_scores
    except ImportError:  # an older tree without stored results
        return None
    started = time.perf_counter()
    with Session(engine) as session:
        stage_scores.refresh(session, stage_id=stage_id, now=now)
        session.commit()
    return time.perf_counter() - started
