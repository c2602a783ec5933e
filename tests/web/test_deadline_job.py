"""The deadline job at scale: bounded batches, safe from several processes at once, never a
stage handed in twice, never the last save before the deadline passed over; a save after the
deadline is refused in the applicant's language and changes nothing."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from recruit import ROOT, clock
from recruit.cli import cli
from recruit.db import get_db
from recruit.domain import applications, tracks
from recruit.models import Answer, Candidacy, OutboxMessage, Role, Submission, User
from tests.conftest import Client, cli_env
from tests.factories import make_user, wave_with_expired_stages

GRACE = timedelta(seconds=30)


def _first_answer(db, submission_id: int) -> Answer:
    """The answer of a submission that holds the factory's draft (texts are sealed at rest)."""
    return next(a for a in db.scalars(sa.select(Answer).where(
        Answer.submission_id == submission_id)) if a.text == "draft 0")


def test_two_deadline_jobs_at_once_hand_in_every_stage_exactly_once(fresh_app, tmp_path):
    ids = wave_with_expired_stages(fresh_app, 40)
    command = [sys.executable, "-c", "from recruit.cli import main; main()",
               "stages", "close-expired", "--batch", "3"]
    # Two hosts' cron firing in the same second.
    jobs = [subprocess.Popen(command, cwd=ROOT, env=cli_env(fresh_app, tmp_path),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [job.communicate(timeout=300) for job in jobs]
    for job, (out, err) in zip(jobs, outputs, strict=True):
        assert job.returncode == 0, out + err
    counts = [int(re.search(r"Submitted (\d+) expired", out).group(1)) for out, _ in outputs]
    assert sum(counts) == 40, counts
    with fresh_app.app_context():
        db = get_db()
        submissions = db.scalars(sa.select(Submission).where(Submission.id.in_(ids))).all()
        assert all(s.auto_submitted and s.submitted_at == s.deadline_at for s in submissions)
        assert {s.candidacy.state for s in submissions} == {"submitted"}
        # Redaction ran for every answer, and what it redacted is the saved draft.
        # Texts are sealed at rest: compare them in Python, not in SQL.
        drafts = [a for a in db.scalars(sa.select(Answer)) if a.text.startswith("draft ")]
        assert len(drafts) == 40
        assert all(a.redacted_text == a.text and a.check_status == "released" for a in drafts)
        # Each applicant is told once that the drafts were handed in.
        receipts = db.scalars(sa.select(OutboxMessage)
                              .where(OutboxMessage.template == "stage_submitted")).all()
        assert len(receipts) == 40 == len({m.to_address for m in receipts})
        assert all("ran out" in m.body_text and "nothing you saved is lost" in m.body_text
                   for m in receipts)


def test_the_job_commits_in_batches_of_the_given_size(fresh_app):
    wave_with_expired_stages(fresh_app, 5, texts=False)
    with fresh_app.app_context():
        db = get_db()
        assert applications.close_expired(db, now=clock.now(), limit=2) == 2
        db.commit()
        assert applications.close_expired(db, now=clock.now(), limit=2) == 2
        assert applications.close_expired(db, now=clock.now(), limit=2) == 1
        assert applications.close_expired(db, now=clock.now(), limit=2) == 0


def test_the_job_waits_its_grace_period_after_a_deadline(fresh_app):
    (submission_id,) = wave_with_expired_stages(fresh_app, 1)
    with fresh_app.app_context():
        db = get_db()
        deadline = db.get(Submission, submission_id).deadline_at
        assert applications.close_expired(db, now=deadline + GRACE - timedelta(seconds=1),
                                          grace=GRACE) == 0
        assert applications.close_expired(db, now=deadline + GRACE, grace=GRACE) == 1


def test_the_last_save_before_the_deadline_is_what_is_handed_in(fresh_app):
    """A stage read before a save committed is handed in with the saved text, not the copy
    the closing session held in memory."""
    (submission_id,) = wave_with_expired_stages(fresh_app, 1)
    with fresh_app.app_context():
        closer = get_db()
        stale = closer.get(Submission, submission_id)
        assert "draft 0" in [a.text for a in stale.answers]  # loaded, then kept in memory
        closer.commit()
        with fresh_app.app_context():
            writer = get_db()
            answer = _first_answer(writer, submission_id)
            # Saved (and acknowledged) a second before the deadline.
            applications.save_answer(writer, answer=answer, text="the final words",
                                     base_version=answer.version,
                                     now=stale.deadline_at - timedelta(seconds=1))
            writer.commit()
        assert applications.close_expired(closer, now=stale.deadline_at + GRACE,
                                          grace=GRACE) == 1
        closer.commit()
        handed_in = {a.text: a.redacted_text for a in stale.answers}
        assert handed_in.get("the final words") == "the final words"
        assert "draft 0" not in handed_in


def test_a_stage_submitted_by_hand_meanwhile_is_not_handed_in_again(fresh_app):
    (submission_id,) = wave_with_expired_stages(fresh_app, 1)
    with fresh_app.app_context():
        job = get_db()
        seen = job.get(Submission, submission_id)
        assert seen.submitted_at is None
        job.commit()  # the copy in memory outlives the transaction that read it
        with fresh_app.app_context():
            other = get_db()
            applications.close_expired(other, now=clock.now())
            other.commit()
        # The job's copy still says "open"; the claim in the database says otherwise.
        assert applications.submit_stage(job, submission=seen, now=clock.now(),
                                         auto=True) is False
        assert seen.submitted_at is not None


def test_the_job_passes_by_a_stage_whose_autosave_is_in_flight(fresh_app, db_kind):
    """PostgreSQL: a save holding its lock makes the job skip the stage, not read around it;
    the next batch hands in the saved text."""
    if db_kind != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises writers (see the test above)")
    (submission_id,) = wave_with_expired_stages(fresh_app, 1)
    saving, closing = threading.Event(), threading.Event()
    with fresh_app.app_context():
        writer = get_db()
        answer = _first_answer(writer, submission_id)
        deadline = answer.submission.deadline_at
        # The request read the clock before the deadline; its transaction is still open.
        applications.save_answer(writer, answer=answer, text="written in time",
                                 base_version=answer.version,
                                 now=deadline - timedelta(milliseconds=5))
        counts: list[int] = []

        def job():
            with fresh_app.app_context():
                db = get_db()
                counts.append(applications.close_expired(db, now=deadline + GRACE, grace=GRACE,
                                                         skip_locked=True))
                db.commit()
                closing.set()
                saving.wait(timeout=60)
                counts.append(applications.close_expired(db, now=deadline + GRACE, grace=GRACE,
                                                         skip_locked=True))
                db.commit()

        thread = threading.Thread(target=job)
        thread.start()
        assert closing.wait(timeout=60)
        writer.commit()
        saving.set()
        thread.join(timeout=60)
    assert counts == [0, 1]
    with fresh_app.app_context():
        stored = next(a for a in get_db().scalars(sa.select(Answer))
                      if a.text == "written in time")
        assert stored is not None and stored.redacted_text == "written in time"
        assert stored.submission.submitted_at is not None


def test_a_save_waiting_on_the_job_is_refused_once_the_stage_is_handed_in(fresh_app, db_kind):
    """PostgreSQL: the stage is checked when the row is written, not when it was read."""
    if db_kind != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises writers")
    (submission_id,) = wave_with_expired_stages(fresh_app, 1)
    with fresh_app.app_context():
        saver = get_db()
        answer = _first_answer(saver, submission_id)
        deadline = answer.submission.deadline_at
        # Read while the stage was open, as the request does before it writes.
        assert answer.submission.submitted_at is None
        assert answer.submission.candidacy.state == "in_stage"
        saver.commit()
        with fresh_app.app_context():
            job = get_db()
            assert applications.close_expired(job, now=deadline + GRACE, grace=GRACE) == 1
            job.commit()
        with pytest.raises(applications.ApplicationError) as refused:
            applications.save_answer(saver, answer=answer, text="too late",
                                     base_version=answer.version,
                                     now=deadline - timedelta(milliseconds=5))
        assert refused.value.code == "submitted"
        saver.rollback()
    with fresh_app.app_context():
        assert not [a for a in get_db().scalars(sa.select(Answer)) if a.text == "too late"]


def test_pages_that_close_a_stage_take_the_write_lock_on_get(fresh_app, db_kind):
    if db_kind != "sqlite":
        pytest.skip("BEGIN IMMEDIATE is SQLite's")
    ids = wave_with_expired_stages(fresh_app, 1)
    with fresh_app.app_context():
        db = get_db()
        submission = db.get(Submission, ids[0])
        candidacy = submission.candidacy
        user = db.get(User, candidacy.user_id)
        stage_id = submission.stage_id
        db.expunge_all()
    begins: list[str] = []
    engine = fresh_app.extensions["recruit.engine"]

    def record(_conn, _cursor, statement, *_args):
        if statement.startswith("BEGIN"):
            begins.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    client = Client(fresh_app)
    client.login(user)
    try:
        with fresh_app.app_context():
            for url in ("/me/", f"/me/candidacies/{candidacy.id}",
                        f"/me/candidacies/{candidacy.id}/stages/{stage_id}"):
                begins.clear()
                assert client.get(url).status_code == 200
                assert begins and set(begins) == {"BEGIN IMMEDIATE"}, (url, begins)
            begins.clear()
            assert client.get("/me/data").status_code == 200
            assert begins == ["BEGIN"]  # a page that only reads does not queue for the lock
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    with fresh_app.app_context():
        assert get_db().get(Submission, ids[0]).submitted_at is not None
        assert get_db().get(Candidacy, candidacy.id).state == "submitted"


def _russian_applicant_in_stage(db, *, now):
    tracks.load_shipped(db)
    wave = tracks.create_campaign(db, track_key="support-agent", key="ru-wave",
                                  opens_at=now - timedelta(days=1),
                                  closes_at=now + timedelta(days=1))
    user = make_user(db, role=Role.APPLICANT, locale="ru")
    candidacy = applications.apply(db, user=user, campaign=wave, now=now)
    return user, applications.start_stage(db, candidacy=candidacy, stage=wave.stages[0],
                                          now=now)


def test_a_save_after_the_deadline_is_refused_in_russian_and_changes_nothing(
        client, db, monkeypatch):
    now = clock.now()
    user, submission = _russian_applicant_in_stage(db, now=now)
    answer = submission.answers[0]
    applications.save_answer(db, answer=answer, text="Последний черновик", base_version=0,
                             now=now)
    db.flush()
    monkeypatch.setattr(clock, "now", lambda: submission.deadline_at + timedelta(seconds=2))
    client.login(user)
    response = client.post(f"/me/answers/{answer.id}/autosave",
                           json={"text": "Дописано после звонка", "version": 1},
                           headers={"X-CSRFToken": client.csrf_token(),
                                    "Accept": "application/json"})
    assert response.status_code == 409 and response.json["error"] == "deadline"
    message = response.json["message"]
    assert "Время вышло" in message and "останется в этом браузере" in message, message
    assert not re.search(r"[A-Za-z]{3,}", message), message  # no English left in it
    db.expire_all()
    assert (answer.text, answer.version) == ("Последний черновик", 1)
    assert submission.submitted_at is None  # the job, not a refused save, hands it in


def test_the_receipt_of_a_stage_handed_in_by_hand_is_in_the_applicants_language(db):
    now = clock.now()
    user, submission = _russian_applicant_in_stage(db, now=now)
    for answer in submission.answers:
        applications.save_answer(db, answer=answer, text="слово " * answer.task.min_words,
                                 base_version=0, now=now)
    assert applications.submit_stage(db, submission=submission, now=now) is True
    receipt = db.scalar(sa.select(OutboxMessage).where(OutboxMessage.to_address == user.email,
                                                       OutboxMessage.template ==
                                                       "stage_submitted"))
    assert receipt.subject.startswith("Ответы на этап 1 получены")
    assert "Вы отправили ответы на этап" in receipt.body_text
    assert "проверяющим" in receipt.body_text and "истекло" not in receipt.body_text


def test_on_sqlite_the_job_leaves_the_write_lock_free_between_small_batches(
        fresh_app, db_kind, monkeypatch):
    """SQLite's waiting writers poll for the lock: a job taking it again at once would starve
    the site's saves for as long as it runs (the storm saw reviews wait past the busy
    timeout). PostgreSQL locks rows and needs no pause."""
    from recruit.cli import applicant as command

    wave_with_expired_stages(fresh_app, 12, texts=False)
    pauses: list[float] = []
    monkeypatch.setattr(command.time, "sleep", pauses.append)
    result = fresh_app.test_cli_runner().invoke(cli, ["stages", "close-expired",
                                                      "--grace", "0"])
    assert result.exit_code == 0, result.output
    assert "Submitted 12 expired stage(s)." in result.output
    if db_kind == "sqlite":
        assert len(pauses) == 3  # batches of 5, 5 and 2, a pause after each
        assert all(0 <= p <= 1.0 for p in pauses)
    else:
        assert pauses == []
