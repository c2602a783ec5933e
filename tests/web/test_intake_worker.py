"""INTAKE = "worker": a hand-in only records the stage; `recruit intake worker` redacts,
indexes and confirms it. Two workers take each stage in once; a name is hidden whoever
takes the stage in; an applicant erased before the worker came is redacted first."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta

import pytest
import sqlalchemy as sa

from recruit import ROOT, clock, create_app
from recruit.config import ConfigError
from recruit.db import get_db
from recruit.domain import applications, intake, tracks
from recruit.models import (
    Answer,
    AnswerSignature,
    Identity,
    OutboxMessage,
    Role,
    Submission,
    User,
)
from recruit.vault import store_identity
from tests.conftest import Client, app_config, cli_env
from tests.factories import make_user, wave_with_expired_stages


def _queued(db) -> list[int]:
    return list(db.scalars(intake.queued()))


@pytest.fixture
def worker_app(fresh_app):
    fresh_app.config["INTAKE"] = "worker"
    return fresh_app


def test_a_hand_in_only_records_the_stage_and_two_workers_take_each_in_once(worker_app,
                                                                           tmp_path):
    ids = wave_with_expired_stages(worker_app, 24)
    with worker_app.app_context():
        db = get_db()
        assert applications.close_expired(db, now=clock.now()) == 24
        db.commit()
        # Handed in: the stage is closed to saves, nothing is redacted or confirmed yet.
        assert sorted(_queued(db)) == sorted(ids)
        assert db.scalar(sa.select(sa.func.count()).select_from(Submission).where(
            Submission.id.in_(ids), Submission.submitted_at.is_(None))) == 0
        assert db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
        assert db.scalar(sa.select(sa.func.count()).select_from(Answer).where(
            Answer.redacted_text.is_not(None))) == 0
    command = [sys.executable, "-c", "from recruit.cli import main; main()",
               "intake", "worker", "--once", "--batch", "2"]
    env = cli_env(worker_app, tmp_path, INTAKE="worker")
    workers = [subprocess.Popen(command, cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    outputs = [w.communicate(timeout=300) for w in workers]
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, out + err
    taken = [int(re.search(r"Took in (\d+) stage", out).group(1)) for out, _ in outputs]
    assert sum(taken) == 24, taken
    with worker_app.app_context():
        db = get_db()
        assert _queued(db) == []
        answers = db.scalars(sa.select(Answer).where(Answer.submission_id.in_(ids))).all()
        assert {a.check_status for a in answers} == {"released"}
        drafts = [a for a in answers if a.text.startswith("draft ")]
        assert len(drafts) == 24 and all(a.redacted_text == a.text for a in drafts)
        # Indexed once each, confirmed once each.
        assert db.scalar(sa.select(sa.func.count()).select_from(AnswerSignature)) == \
            len([a for a in answers if a.redacted_text is not None])
        receipts = db.scalars(sa.select(OutboxMessage.to_address)
                              .where(OutboxMessage.template == "stage_submitted")).all()
        assert len(receipts) == 24 == len(set(receipts))


def _applicant_with_a_signed_draft(db, *, text: str):
    now = clock.now()
    tracks.load_shipped(db)
    wave = tracks.create_campaign(db, track_key="support-agent", key="intake",
                                  opens_at=now - timedelta(days=1),
                                  closes_at=now + timedelta(days=1))
    user = make_user(db, role=Role.APPLICANT)
    store_identity(db, user=user, fields={"first": "Евгения", "last": "Скворцова",
                                          "birth_date": "1996-03-14"})
    candidacy = applications.apply(db, user=user, campaign=wave, now=now)
    submission = applications.start_stage(db, candidacy=candidacy, stage=wave.stages[0],
                                          now=now)
    for n, answer in enumerate(sorted(submission.answers, key=lambda a: a.task.position)):
        words = " ".join(["слово"] * ((answer.task.min_words or 0) + 5))
        applications.save_answer(db, answer=answer, base_version=0, now=now,
                                 text=(text + " " + words) if n == 0 else words)
    db.commit()
    return user, candidacy, submission


SIGNED = "Всем привет, это Женя Скворцова, родилась 14 марта 1996 года."


def test_the_submit_button_records_the_stage_and_the_worker_hides_the_name(worker_app):
    with worker_app.app_context():
        db = get_db()
        user, candidacy, submission = _applicant_with_a_signed_draft(db, text=SIGNED)
        client = Client(worker_app)
        client.login(user)
        stage_id = submission.stage_id
    with worker_app.app_context():
        response = client.post_form(
            f"/me/candidacies/{candidacy.id}/stages/{stage_id}/submit")
        assert response.status_code == 302
        page = client.raw.get(f"/me/candidacies/{candidacy.id}")
        assert page.status_code == 200
    with worker_app.app_context():
        db = get_db()
        assert _queued(db) == [submission.id]
        assert applications.take_in_queued(db, now=clock.now()) == [submission.id]
        db.commit()
        assert applications.take_in_queued(db, now=clock.now()) == []
        first = db.scalars(sa.select(Answer).where(Answer.submission_id == submission.id)
                           .order_by(Answer.task_id)).all()
        signed = next(a for a in first if "Скворцова" in a.text)
        for word in ("Женя", "Скворцова", "14 марта 1996"):
            assert word not in signed.redacted_text
        assert signed.check_status == "pending"  # a signed answer waits for the custodian


def test_an_applicant_erased_before_the_worker_came_is_redacted_first(worker_app):
    with worker_app.app_context():
        db = get_db()
        user, _candidacy, submission = _applicant_with_a_signed_draft(db, text=SIGNED)
        assert applications.submit_stage(db, submission=submission, now=clock.now())
        db.commit()
        assert _queued(db) == [submission.id]
        applications.erase_account(db, user=db.get(User, user.id), now=clock.now())
        db.commit()
        assert _queued(db) == []
        assert db.scalar(sa.select(sa.func.count()).select_from(Identity)) == 0
        texts = [a.redacted_text for a in db.scalars(
            sa.select(Answer).where(Answer.submission_id == submission.id))]
        assert all(t is not None and "Скворцова" not in t and "Женя" not in t for t in texts)


def test_work_prepared_for_another_text_is_not_used(worker_app):
    with worker_app.app_context():
        db = get_db()
        *_, submission = _applicant_with_a_signed_draft(db, text=SIGNED)
        assert applications.submit_stage(db, submission=submission, now=clock.now())
        db.commit()
        answers = list(submission.answers)
        stale = intake.prepare([Answer(id=a.id, task_id=a.task_id, text="Ничего личного.")
                                for a in answers], identity=None, now=clock.now())
        applications.take_in_queued(db, now=clock.now(), prepared={submission.id: stale})
        db.commit()
        texts = [a.redacted_text for a in db.scalars(
            sa.select(Answer).where(Answer.submission_id == submission.id))]
        assert "Ничего личного." not in texts
        assert any("слово" in t for t in texts)
        assert not any("Скворцова" in t for t in texts)


def test_with_intake_in_the_request_nothing_is_left_queued(fresh_app):
    wave_with_expired_stages(fresh_app, 3)
    with fresh_app.app_context():
        db = get_db()
        assert applications.close_expired(db, now=clock.now()) == 3
        db.commit()
        assert _queued(db) == []


def test_an_unknown_intake_setting_is_refused_with_what_it_may_be(tmp_path, database_url):
    with pytest.raises(ConfigError, match='INTAKE must be "request" or "worker"'):
        create_app({**app_config(database_url, tmp_path), "INTAKE": "later"})


def test_the_campaign_hub_says_how_many_stages_wait_for_intake_in_russian(worker_app):
    with worker_app.app_context():
        db = get_db()
        _user, candidacy, submission = _applicant_with_a_signed_draft(db, text=SIGNED)
        assert applications.submit_stage(db, submission=submission, now=clock.now())
        coordinator = make_user(db, role=Role.COORDINATOR, locale="ru")
        db.commit()
        campaign_id = candidacy.campaign_id
        client = Client(worker_app)
        client.login(coordinator)
        page = client.raw.get(f"/coordinate/campaigns/{campaign_id}").get_data(as_text=True)
        assert "1 сданный этап готовится к проверке" in page
        applications.take_in_queued(db, now=clock.now())
        db.commit()
        page = client.raw.get(f"/coordinate/campaigns/{campaign_id}").get_data(as_text=True)
        assert "готовится к проверке" not in page


def test_a_stage_another_worker_holds_is_passed_by_not_waited_for(worker_app, db_kind):
    if db_kind != "postgresql":
        pytest.skip("SQLite has one writer at a time: nothing to pass by")
    ids = wave_with_expired_stages(worker_app, 2)
    with worker_app.app_context():
        db = get_db()
        assert applications.close_expired(db, now=clock.now()) == 2
        db.commit()
        engine = worker_app.extensions["recruit.engine"]
        with engine.connect() as other:
            other.execute(sa.select(Submission.id).where(Submission.id == ids[0])
                          .with_for_update())
            taken = applications.take_in_queued(db, now=clock.now(), skip_locked=True)
            db.commit()
            assert taken == [ids[1]]
            other.rollback()
        assert applications.take_in_queued(db, now=clock.now(), skip_locked=True) == [ids[0]]
        db.commit()
        assert _queued(db) == []


def test_work_prepared_before_the_profile_changed_is_done_again(worker_app):
    """Redacted without the new surname (the applicant corrected their profile meanwhile):
    the stored redaction must hide the surname the profile holds now."""
    with worker_app.app_context():
        db = get_db()
        user, _candidacy, submission = _applicant_with_a_signed_draft(
            db, text="С уважением, Евгения Журавлёва.")
        assert applications.submit_stage(db, submission=submission, now=clock.now())
        db.commit()
        before = {"first": "Евгения", "last": "Скворцова"}
        stale = intake.prepare(list(submission.answers), identity=before, now=clock.now())
        store_identity(db, user=db.get(User, user.id),
                       fields={"first": "Евгения", "last": "Журавлёва"})
        db.commit()
        applications.take_in_queued(db, now=clock.now(), prepared={submission.id: stale})
        db.commit()
        texts = [a.redacted_text for a in db.scalars(
            sa.select(Answer).where(Answer.submission_id == submission.id))]
        assert not any("Журавлёва" in t for t in texts), texts
