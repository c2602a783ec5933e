"""`recruit bench seed` fills an empty database with a small, consistent wave (CI never runs
the full benchmark; this proves the generator and its data still fit the models)."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.cli import ScriptInfo

from bench import seed
from recruit.cli import cli
from recruit.db import get_db, utcnow
from recruit.models import (
    Answer,
    Campaign,
    Candidacy,
    Criterion,
    CriterionScore,
    Identity,
    Offer,
    Review,
    ReviewAssignment,
    Role,
    Stage,
    Submission,
    Task,
    User,
)
from recruit.vault import get_vault

pytestmark = pytest.mark.e2e

APPLICANTS = 50


def _count(db, model, *where) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


@pytest.fixture
def seeded(fresh_app):
    result = CliRunner().invoke(cli, ["bench", "seed", "--applicants", str(APPLICANTS)],
                                obj=ScriptInfo(create_app=lambda: fresh_app),
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"Seeded {APPLICANTS} applicants ({APPLICANTS * 3} answers)" in result.output
    with fresh_app.app_context():
        yield get_db()


def test_seed_writes_a_consistent_wave(seeded):
    db = seeded
    plan = seed.make_plan(APPLICANTS, unreviewed=0.1, rng=random.Random(1))
    assert _count(db, User, User.role == Role.APPLICANT) == APPLICANTS
    assert _count(db, User, User.role == Role.REVIEWER) == seed.REVIEWERS
    assert _count(db, Identity) == APPLICANTS
    assert _count(db, Candidacy) == _count(db, Submission) == APPLICANTS
    assert _count(db, Answer) == APPLICANTS * 3
    reviewed = APPLICANTS - len(plan.drafting) - len(plan.unreviewed)
    assert _count(db, Review) == _count(db, ReviewAssignment) == reviewed * 3 * 2
    assert _count(db, Answer, Answer.reviews_done == 2) == reviewed * 3
    assert _count(db, Answer, Answer.check_status == "draft") == len(plan.drafting) * 3
    assert _count(db, Offer) == len(plan.offered)
    if hasattr(Submission, "scores_at"):  # stored stage results are computed, not left stale
        assert not _count(db, Submission, Submission.submitted_at.is_not(None),
                          Submission.scores_at.is_(None))
    # Every review scores each criterion of its task once.
    assert _count(db, CriterionScore) == db.scalar(
        sa.select(sa.func.count()).select_from(Review)
        .join(Answer, Answer.id == Review.answer_id)
        .join(Criterion, Criterion.task_id == Answer.task_id))
    # Two different reviewers per answer.
    pairs = db.execute(sa.select(Review.answer_id, sa.func.count(sa.distinct(Review.reviewer_id)))
                       .group_by(Review.answer_id)).all()
    assert {n for _, n in pairs} == {2}


def test_seeded_texts_are_realistic_and_identities_open(seeded):
    db = seeded
    words = [len(t.split()) for t in db.scalars(
        sa.select(Answer.redacted_text).where(Answer.check_status == "released"))]
    assert min(words) >= 150 and max(words) <= 400
    sealed = db.scalar(sa.select(Identity.sealed).limit(1))
    assert get_vault().open(sealed).first


def test_seeding_refuses_a_database_with_accounts(seeded, fresh_app):
    again = CliRunner().invoke(cli, ["bench", "seed", "--applicants", "5"],
                               obj=ScriptInfo(create_app=lambda: fresh_app))
    assert again.exit_code != 0
    assert "already has accounts" in again.output


def test_a_seeded_reviewer_is_handed_an_unreviewed_answer(seeded):
    assignment = pytest.importorskip("recruit.domain.assignment")
    db = seeded
    reviewer = db.scalar(sa.select(User).where(User.email == seed.reviewer_email(1)))
    task = db.scalar(sa.select(Task).join(Stage).join(Campaign)
                     .where(Campaign.key == seed.CAMPAIGN_KEY)
                     .order_by(Stage.position, Task.position).limit(1))
    handout = assignment.next_answer(db, reviewer=reviewer, task=task, lease_minutes=30,
                                     now=utcnow())
    assert handout is not None
    answer = db.scalar(sa.select(Answer).where(Answer.token == handout.token))
    assert answer.check_status == "released"
    assert answer.reviews_done < answer.reviews_wanted
    assert len(answer.redacted_text.split()) >= 150


def test_baseline_endpoints_exist_only_with_the_bench_flag(fresh_app, tmp_path):
    from recruit import create_app
    from tests.conftest import app_config

    assert "bench.read_row" not in fresh_app.view_functions
    bench_app = create_app(app_config(fresh_app.config["DATABASE_URL"], tmp_path, BENCH=True,
                                      WTF_CSRF_ENABLED=False))
    try:
        client = bench_app.test_client()
        assert client.post("/bench/insert", json={}).get_json() == {"ok": True}
        assert client.get("/bench/list").status_code == 200
        assert client.get("/bench/row/999999").status_code == 404
    finally:
        bench_app.extensions["recruit.engine"].dispose()
