"""A campaign with a realistic history for the report and letter tests: eligibility checks,
three stages of answers with reviews, decisions and offers — built from model rows directly.

Scores are drawn from a seeded generator, so every run builds the same campaign.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from recruit.db import utcnow
from recruit.domain import scoring, tracks
from recruit.models import (
    Answer,
    Campaign,
    CampaignReviewer,
    Candidacy,
    CriterionScore,
    Decision,
    EligibilityCheck,
    JobRole,
    Offer,
    Review,
    ReviewAssignment,
    Role,
    Submission,
    User,
)
from recruit.vault import store_identity
from tests.factories import make_user

#: The one candidate whose identity the tests look for in pseudonymous documents.
MARIA = {
    "first": "Мария",
    "middle": "Сергеевна",
    "last": "Иванова",
    "birth_date": "1999-02-28",
    "citizenship": "RU",
    "phone": "+7 921 555-01-02",
    "city": "Вологда",
    "vk": "maria_ivanova_vologda",
}
MARIA_EMAIL = "maria.ivanova@example.com"

_OTHERS = [
    ("Алексей", "Петров"), ("Ольга", "Смирнова"), ("Дмитрий", "Кузнецов"), ("Анна", "Попова"),
    ("Игорь", "Соколов"), ("Елена", "Лебедева"), ("Сергей", "Козлов"), ("Наталья", "Новикова"),
    ("Павел", "Морозов"), ("Ирина", "Волкова"), ("Никита", "Зайцев"),
]

COMMENTS = [
    "Warm and clear; the next step for the user is obvious.",
    "Polite, but the answer never says what the user should do now.",
    "Good structure. A couple of commas missing, nothing that hurts reading.",
    "Тон хороший, но ответ слишком длинный для пользователя в стрессе.",
    "",
    "Explains the rule without hiding behind it. Would send as is.",
]


@dataclass
class ReportWorld:
    """Handles on what the tests need, by name."""

    campaign: Campaign
    maria: User
    maria_candidacy: Candidacy
    maria_offer: Offer
    reviewers: list[User]
    coordinator: User
    custodian: User
    other_applicant: User
    candidacies: list[Candidacy] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    reviewer_emails: list[str] = field(default_factory=list)


def _review_stage(db, rng, *, stage, candidacies, reviewers, now, quality) -> None:
    """Submit every task of ``stage`` for each candidacy and have two reviewers score it."""
    # Rows are added in batches with one flush per kind: a flush per row makes this slow.
    submissions = []
    for candidacy in candidacies:
        submitted = now - timedelta(days=rng.randint(6, 12), hours=rng.randint(0, 23))
        submissions.append(Submission(candidacy_id=candidacy.id, stage_id=stage.id,
                                      started_at=submitted - timedelta(minutes=70),
                                      deadline_at=submitted + timedelta(minutes=20),
                                      submitted_at=submitted))
    db.add_all(submissions)
    db.flush()
    answers = []
    for candidacy, submission in zip(candidacies, submissions, strict=True):
        for task in stage.tasks:
            answers.append((candidacy, submission, task, Answer(
                submission_id=submission.id, task_id=task.id, text="Здравствуйте! " * 40,
                version=3, saved_at=submission.submitted_at,
                redacted_text="Здравствуйте! " * 40, check_status="released",
                released_at=submission.submitted_at, reviews_wanted=2, reviews_done=2)))
    db.add_all([answer for *_rest, answer in answers])
    db.flush()
    planned = []
    for candidacy, submission, task, answer in answers:
        for reviewer in rng.sample(reviewers, 2):
            scores = {c.key: max(1, min(5, round(rng.gauss(quality[candidacy.id], 0.8))))
                      for c in task.criteria}
            assignment = ReviewAssignment(
                answer_id=answer.id, reviewer_id=reviewer.id, status="submitted",
                leased_at=submission.submitted_at,
                lease_expires_at=submission.submitted_at + timedelta(hours=1),
                completed_at=submission.submitted_at + timedelta(hours=2))
            planned.append((task, answer, reviewer, scores, assignment))
    db.add_all([assignment for *_rest, assignment in planned])
    db.flush()
    rows = []
    for task, answer, reviewer, scores, assignment in planned:
        raw = scoring.weighted_score(scores=scores,
                                     weights={c.key: c.weight for c in task.criteria})
        review = Review(assignment_id=assignment.id, answer_id=answer.id,
                        reviewer_id=reviewer.id, score_raw=raw, comment=rng.choice(COMMENTS),
                        submitted_at=assignment.completed_at
                        + timedelta(hours=rng.randint(0, 38)))
        review.scores = [CriterionScore(criterion_id=c.id, value=scores[c.key])
                         for c in task.criteria]
        rows.append((review, answer.id, scores))
    db.add_all([review for review, *_rest in rows])
    db.flush()
    normalised = scoring.normalise([
        scoring.RawReview(review_id=r.id, reviewer_id=r.reviewer_id, answer_id=a,
                          score=r.score_raw, criteria=s)
        for r, a, s in rows
    ], min_reviews=4)
    for review, _answer, _scores in rows:
        review.score_normalised = normalised[review.id]


def _decide(db, rng, *, candidacy, stage, outcome, reason, coordinator, now) -> None:
    db.add(Decision(candidacy_id=candidacy.id, stage_id=stage.id, outcome=outcome,
                    reason=reason, decided_by_id=coordinator.id,
                    decided_at=now - timedelta(days=rng.randint(0, 4))))


def build_report_world(db) -> ReportWorld:
    """Load the shipped tracks and play a campaign through to its offers."""
    rng = random.Random(20250303)
    tracks.load_shipped(db)
    now = utcnow()
    campaign = tracks.create_campaign(db, track_key="support-agent", key="spring-wave",
                                      title_en="Support agents — spring 2025",
                                      title_ru="Специалисты поддержки — весна 2025",
                                      opens_at=now - timedelta(days=40),
                                      closes_at=now + timedelta(days=20), capacity=10)
    coordinator = make_user(db, role=Role.COORDINATOR, email="olga.coordinator@example.org")
    custodian = make_user(db, role=Role.COORDINATOR, custodian=True,
                          email="vera.custodian@example.org")
    reviewers = [make_user(db, role=Role.REVIEWER, email=f"reviewer.{name}@example.org")
                 for name in ("anton", "boris", "galina", "darya")]
    for reviewer in reviewers:
        db.add(CampaignReviewer(campaign_id=campaign.id, user_id=reviewer.id))

    maria = make_user(db, role=Role.APPLICANT, email=MARIA_EMAIL, locale="ru")
    store_identity(db, user=maria, fields=MARIA)
    applicants = [maria]
    for n, (first, last) in enumerate(_OTHERS):
        user = make_user(db, role=Role.APPLICANT, locale="ru" if n % 3 else "en")
        store_identity(db, user=user, fields={"first": first, "last": last,
                                               "birth_date": f"199{n % 10}-05-1{n % 9}",
                                               "citizenship": "RU",
                                               "phone": f"+7 900 000-00-{n:02d}"})
        applicants.append(user)
    other_applicant = make_user(db, role=Role.APPLICANT)

    # Eligibility: everyone above passed; five more failed (one of them twice, same rule).
    for user in applicants:
        db.add(EligibilityCheck(user_id=user.id, campaign_id=campaign.id, passed=True))
    failed = [["too_young"], ["citizenship"], ["citizenship", "acknowledgement_missing"],
              ["too_young"], ["acknowledgement_missing"]]
    for reasons in failed:
        user = make_user(db, role=Role.APPLICANT)
        db.add(EligibilityCheck(user_id=user.id, campaign_id=campaign.id, passed=False,
                                reasons=reasons))
        if reasons == ["too_young"]:
            db.add(EligibilityCheck(user_id=user.id, campaign_id=campaign.id, passed=False,
                                    reasons=reasons))

    stage1, stage2, stage3 = campaign.stages
    candidacies = []
    for user in applicants:
        candidacy = Candidacy(user_id=user.id, campaign_id=campaign.id, state="submitted",
                              current_stage_id=stage1.id,
                              created_at=now - timedelta(days=30))
        db.add(candidacy)
        candidacies.append(candidacy)
    db.flush()
    quality = {c.id: rng.uniform(2.2, 4.6) for c in candidacies}
    quality[candidacies[0].id] = 4.4  # Maria does well

    _review_stage(db, rng, stage=stage1, candidacies=candidacies, reviewers=reviewers,
                  now=now - timedelta(days=20), quality=quality)
    # Maria goes first through every stage, so her offer is the first one.
    ranked = [candidacies[0], *sorted(candidacies[1:], key=lambda c: -quality[c.id])]
    through1, out1 = ranked[:7], ranked[7:]
    for c in through1:
        _decide(db, rng, candidacy=c, stage=stage1, outcome="advance",
                reason="Clear, kind answers above the stage cut-off.",
                coordinator=coordinator, now=now - timedelta(days=15))
    for c in out1:
        _decide(db, rng, candidacy=c, stage=stage1, outcome="reject",
                reason="Below the stage cut-off.", coordinator=coordinator,
                now=now - timedelta(days=15))
        c.state = "not_passed"

    _review_stage(db, rng, stage=stage2, candidacies=through1, reviewers=reviewers,
                  now=now - timedelta(days=10), quality=quality)
    through2, out2 = through1[:4], through1[4:]
    for c in through2:
        _decide(db, rng, candidacy=c, stage=stage2, outcome="advance",
                reason="Strong judgement on the privacy case.", coordinator=coordinator,
                now=now - timedelta(days=6))
    for c in out2:
        _decide(db, rng, candidacy=c, stage=stage2, outcome="reject",
                reason="Tone too formal for our users.", coordinator=coordinator,
                now=now - timedelta(days=6))
        c.state = "not_passed"

    _review_stage(db, rng, stage=stage3, candidacies=through2, reviewers=reviewers,
                  now=now - timedelta(days=4), quality=quality)
    for c in through2:
        _decide(db, rng, candidacy=c, stage=stage3, outcome="advance",
                reason="Passed the final stage.", coordinator=coordinator, now=now)
        c.state = "passed"

    support = campaign.job_role
    moderator = db.query(JobRole).filter_by(key="moderator").one()
    offers = []
    plans = [(through2[0], support, False, "issued"), (through2[1], support, False, "accepted"),
             (through2[2], support, False, "declined"), (through2[3], support, False, "accepted"),
             (out2[0], moderator, True, "issued")]
    for candidacy, role, alternate, status in plans:
        offer = Offer(
            candidacy_id=candidacy.id, job_role_id=role.id, alternate=alternate,
            salary=role.salary_min + 4000, currency=role.currency, period=role.period,
            start_date=date.today() + timedelta(days=30), work_format=role.work_format,
            conditions=[{"en": role.conditions_en.strip(), "ru": role.conditions_ru.strip()},
                        {"en": "Probation period of three months.",
                         "ru": "Испытательный срок — три месяца."}],
            expires_on=date.today() + timedelta(days=14), status=status,
            issued_by_id=coordinator.id, issued_at=now - timedelta(days=1),
            responded_at=now if status != "issued" else None)
        db.add(offer)
        candidacy.state = {"issued": "offered", "accepted": "hired",
                           "declined": "declined"}[status]
        offers.append(offer)
    db.flush()
    return ReportWorld(campaign=campaign, maria=maria, maria_candidacy=candidacies[0],
                       maria_offer=offers[0], reviewers=reviewers, coordinator=coordinator,
                       custodian=custodian, other_applicant=other_applicant,
                       candidacies=candidacies, offers=offers,
                       reviewer_emails=[r.email for r in reviewers])
