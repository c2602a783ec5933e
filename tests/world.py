"""A small but complete world for route tests: one user per role and one object of each kind,
so that every URL parameter of every route can be filled with a real value.

Extend ``build_world`` and ``url_params`` when a route needs a new kind of parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from recruit.db import utcnow
from recruit.domain import tracks
from recruit.models import (
    Answer,
    Campaign,
    CampaignReviewer,
    Candidacy,
    ContactRequest,
    Offer,
    ReviewAssignment,
    Role,
    SimilarPair,
    Submission,
    TrackVersion,
    User,
)
from tests.factories import make_user

ROLES = ("anonymous", "applicant", "reviewer", "coordinator", "custodian")


@dataclass
class World:
    """Everything a route may need, by name."""

    users: dict[str, User | None]
    campaign: Campaign
    version: TrackVersion
    candidacy: Candidacy
    submission: Submission
    answers: list[Answer]
    extra: dict = field(default_factory=dict)


def build_world(db) -> World:
    """Users of every role, the shipped tracks, an open campaign and a submitted stage 1."""
    tracks.load_shipped(db)
    now = utcnow()
    campaign = tracks.create_campaign(db, track_key="support-agent", key="world-wave",
                                      opens_at=now - timedelta(days=1),
                                      closes_at=now + timedelta(days=30), capacity=5)
    users = {
        "anonymous": None,
        "applicant": make_user(db, role=Role.APPLICANT),
        "reviewer": make_user(db, role=Role.REVIEWER),
        "coordinator": make_user(db, role=Role.COORDINATOR),
        "custodian": make_user(db, role=Role.COORDINATOR, custodian=True),
    }
    db.add(CampaignReviewer(campaign_id=campaign.id, user_id=users["reviewer"].id))
    stage = campaign.stages[0]
    candidacy = Candidacy(user_id=users["applicant"].id, campaign_id=campaign.id,
                          state="submitted", current_stage_id=stage.id)
    db.add(candidacy)
    db.flush()
    submission = Submission(candidacy_id=candidacy.id, stage_id=stage.id, started_at=now,
                            deadline_at=now + timedelta(minutes=90), submitted_at=now)
    db.add(submission)
    db.flush()
    answers = []
    for task in stage.tasks:
        answer = Answer(submission_id=submission.id, task_id=task.id, text="An answer. " * 30,
                        version=1, saved_at=now, redacted_text="An answer. " * 30,
                        check_status="released", released_at=now, reviews_wanted=2)
        db.add(answer)
        answers.append(answer)
    db.flush()
    # The reviewer holds a lease on the first answer, so review pages have a real assignment.
    db.add(ReviewAssignment(answer_id=answers[0].id, reviewer_id=users["reviewer"].id,
                            status="leased", leased_at=now,
                            lease_expires_at=now + timedelta(minutes=30), draft={}))
    answers[0].reviews_leased = 1
    db.flush()
    contact = ContactRequest(candidacy_id=candidacy.id, requested_by_id=users["coordinator"].id,
                             message="Please ask whether they can start in June.")
    db.add(contact)
    db.flush()
    world = World(users=users, campaign=campaign, version=campaign.track_version,
                  candidacy=candidacy, submission=submission, answers=answers)
    world.extra["contact_request_id"] = contact.id
    # An offer addressed to the applicant, so offer routes (letters, answers) have one.
    role = campaign.job_role
    offer = Offer(candidacy_id=candidacy.id, job_role_id=role.id, salary=role.salary_min,
                  currency=role.currency, start_date=now.date() + timedelta(days=30),
                  work_format=role.work_format, expires_on=now.date() + timedelta(days=14))
    db.add(offer)
    db.flush()
    world.extra["offer_id"] = offer.id
    # Another applicant whose first answer was found alike (issue 18's pair page).
    other = Candidacy(user_id=make_user(db, role=Role.APPLICANT).id, campaign_id=campaign.id,
                      state="submitted", current_stage_id=stage.id)
    db.add(other)
    db.flush()
    other_submission = Submission(candidacy_id=other.id, stage_id=stage.id, started_at=now,
                                  deadline_at=now + timedelta(minutes=90), submitted_at=now)
    db.add(other_submission)
    db.flush()
    copy = Answer(submission_id=other_submission.id, task_id=stage.tasks[0].id,
                  text="Ответ кандидата. " * 30, version=1, saved_at=now,
                  redacted_text="Ответ кандидата. " * 30, check_status="released",
                  released_at=now)
    db.add(copy)
    db.flush()
    pair = SimilarPair(answer_id=min(answers[0].id, copy.id),
                       other_answer_id=max(answers[0].id, copy.id), estimated=0.9,
                       similarity=0.9)
    db.add(pair)
    db.flush()
    world.extra["pair_id"] = pair.id
    return world


def url_params(world: World) -> dict[str, object]:
    """A real value for every URL parameter name used by the routes."""
    stage = world.campaign.stages[0]
    return {
        "campaign_id": world.campaign.id,
        "stage_id": stage.id,
        "task_id": stage.tasks[0].id,
        "version_id": world.version.id,
        "track_key": world.version.key,
        "code": world.candidacy.code,
        "candidacy_id": world.candidacy.id,
        "token": world.answers[0].token,
        "answer_id": world.answers[0].id,
        "user_id": world.users["reviewer"].id,
        "signed": "not-a-valid-signature",
        "language": "ru",
        "filename": "style.css",
        **world.extra,
    }
