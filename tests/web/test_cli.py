"""The `recruit` command: instance, database, staff accounts, questionnaires, demo."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from recruit.cli import cli
from recruit.db import get_db
from recruit.models import AuditEvent, Campaign, TrackVersion, User

ROOT = Path(__file__).resolve().parents[2]


def run(app, *args):
    runner = CliRunner()
    return runner.invoke(cli, list(args), obj=_script_info(app), catch_exceptions=False)


def _script_info(app):
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=lambda: app)


def test_demo_prints_passwords_once_and_they_work(fresh_app):
    first = run(fresh_app, "demo", "load")
    assert first.exit_code == 0, first.output
    passwords = dict(re.findall(r"(\S+@\S+)\s+(\S+)\n", first.output))
    assert "coordinator@demo.example.org" in passwords
    second = run(fresh_app, "demo", "load")
    assert "passwords kept" in second.output
    assert not set(passwords.values()) & set(second.output.split())

    client = fresh_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"csrf_token": token,
                                           "email": "coordinator@demo.example.org",
                                           "password": passwords["coordinator@demo.example.org"]})
    assert response.status_code == 302
    assert client.get("/coordinate/").status_code == 200


def test_demo_applicants_have_submitted_stage_one_and_signed_names_are_redacted(fresh_app):
    from recruit.models import Answer, Candidacy

    run(fresh_app, "demo", "load")
    with fresh_app.app_context():
        db = get_db()
        states = db.scalars(sa.select(Candidacy.state)).all()
        assert states == ["submitted"] * 8
        answers = db.scalars(sa.select(Answer)).all()
        assert answers and all(a.check_status in ("released", "pending") for a in answers)
        # Applicants 3 and 6 sign their first answer with their names.
        signed = [a for a in answers if "С уважением" in a.text]
        assert {"Лебедева", "Мкртчян"} <= {a.text.split()[-1] for a in signed}
        assert all(a.text.split()[-1] not in a.redacted_text for a in signed)


def test_demo_answers_are_real_varied_and_within_each_tasks_limits(fresh_app):
    from recruit.domain.applications import word_count
    from recruit.models import Answer, Task

    run(fresh_app, "demo", "load")
    with fresh_app.app_context():
        rows = get_db().execute(sa.select(Answer.text, Task.key, Task.min_words,
                                          Task.max_words).join(Task)).all()
    by_task: dict[str, list[str]] = {}
    for text, key, low, high in rows:
        assert low <= word_count(text) <= (high or 10**6), (key, word_count(text))
        by_task.setdefault(key, []).append(text)
    assert len(by_task) == 3
    for key, texts in by_task.items():
        assert len(set(texts)) == len(texts) == 8, f"every applicant writes their own {key}"
    # Each task gets answers about that task, not shuffled sentences shared between tasks.
    assert all("гус" in text.lower() or "динозавр" in text.lower()
               for text in by_task["dinosaur-or-geese"])
    assert all("язык" in text.lower() for text in by_task["language"])
    assert not set(" ".join(by_task["language"]).split(". ")) & set(
        " ".join(by_task["caps-lock"]).split(". "))


def test_the_demo_shows_coordinators_one_copied_and_pasted_answer(fresh_app):
    """Applicant 8 pastes an edited copy of applicant 2's caps-lock answer: the pair is found
    and the paste counted, and every other answer was typed (no other flag)."""
    from recruit.domain import integrity
    from recruit.models import Answer, SimilarPair, Submission

    run(fresh_app, "demo", "load")
    with fresh_app.app_context():
        db = get_db()
        campaign = db.scalars(sa.select(Campaign)).one()
        pairs = db.scalars(sa.select(SimilarPair)).all()
        assert len(pairs) == 1 and pairs[0].similarity * 100 >= campaign.similarity_threshold
        pasted = db.scalars(sa.select(Answer).where(Answer.pasted_chars > 0)).all()
        assert [a.id for a in pasted] in ([pairs[0].answer_id], [pairs[0].other_answer_id])
        flagged = set()
        for submission in db.scalars(sa.select(Submission)):
            for flags in integrity.candidacy_flags(db, candidacy=submission.candidacy,
                                                   stage=submission.stage):
                if flags.paste_flagged or any(m.flagged for m in flags.matches):
                    flagged.add(submission.candidacy.code)
        assert len(flagged) == 2


def test_the_demo_funnel_has_people_who_were_not_eligible(fresh_app):
    from recruit.domain import funnel
    from recruit.models import EligibilityCheck

    run(fresh_app, "demo", "load")
    with fresh_app.app_context():
        db = get_db()
        campaign = db.scalars(sa.select(Campaign)).one()
        numbers = funnel.campaign_funnel(db, campaign=campaign)
        reasons = sorted(r for rs in db.scalars(sa.select(EligibilityCheck.reasons)
                                                .where(~EligibilityCheck.passed)) for r in rs)
    assert (numbers.registered, numbers.eligible, numbers.applied) == (10, 8, 8)
    assert reasons == ["citizenship", "too_young"]


def test_users_create_and_custodian_handover_is_audited(fresh_app):
    result = run(fresh_app, "users", "create", "--email", "Anna@Example.org", "--role",
                 "coordinator", "--custodian")
    assert "password:" in result.output
    run(fresh_app, "users", "create", "--email", "boris@example.org", "--role", "coordinator")
    handover = run(fresh_app, "users", "make-custodian", "boris@example.org")
    assert "boris@example.org is now the custodian (was anna@example.org)" in handover.output
    with fresh_app.app_context():
        db = get_db()
        custodians = db.scalars(sa.select(User.email).where(User.is_custodian)).all()
        assert custodians == ["boris@example.org"]
        actions = db.scalars(sa.select(AuditEvent.action)).all()
        assert actions.count("custodian.handover") == 2
    verify = run(fresh_app, "audit", "verify")
    assert "Audit log intact: 2 events." in verify.output


def test_a_reviewer_cannot_become_custodian(fresh_app):
    run(fresh_app, "users", "create", "--email", "r@example.org", "--role", "reviewer")
    runner = CliRunner()
    result = runner.invoke(cli, ["users", "make-custodian", "r@example.org"],
                           obj=_script_info(fresh_app))
    assert result.exit_code != 0
    assert "only a coordinator can be the custodian" in result.output


def test_questionnaire_check_reports_problems_with_exit_code(fresh_app):
    good = run(fresh_app, "questionnaire", "check", *map(str, (ROOT / "questionnaires")
                                                          .glob("*.toml")))
    assert good.exit_code == 0
    runner = CliRunner()
    bad = runner.invoke(cli, ["questionnaire", "check",
                              str(ROOT / "tests/fixtures/questionnaires/syntax-error.toml")],
                        obj=_script_info(fresh_app))
    assert bad.exit_code == 1
    assert "syntax-error.toml:" in bad.output


def test_loading_twice_is_idempotent_and_campaigns_keep_their_version(fresh_app, tmp_path):
    source = (ROOT / "questionnaires/support-agent.toml").read_text(encoding="utf-8")
    track = tmp_path / "support-agent.toml"
    track.write_text(source, encoding="utf-8")
    (tmp_path / "job-roles.toml").write_text(
        (ROOT / "questionnaires/job-roles.toml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "moderator.toml").write_text(
        (ROOT / "questionnaires/moderator.toml").read_text(encoding="utf-8"), encoding="utf-8")
    files = [str(tmp_path / n) for n in ("job-roles.toml", "moderator.toml",
                                         "support-agent.toml")]
    assert "loaded" in run(fresh_app, "questionnaire", "load", *files).output
    assert run(fresh_app, "questionnaire", "load", *files).output.count("unchanged") == 3
    created = run(fresh_app, "campaign", "create", "--track", "support-agent", "--opens",
                  "2027-01-10", "--closes", "2027-02-10", "--capacity", "40")
    assert "Created campaign support-agent-2027-01" in created.output

    track.write_text(source.replace("time_limit_minutes = 90", "time_limit_minutes = 45", 1),
                     encoding="utf-8")
    reloaded = run(fresh_app, "questionnaire", "load", str(track))
    assert "support-agent loaded" in reloaded.output
    with fresh_app.app_context():
        db = get_db()
        assert db.scalar(sa.select(sa.func.count()).select_from(TrackVersion)
                         .where(TrackVersion.key == "support-agent")) == 2
        campaign = db.scalar(sa.select(Campaign))
        assert campaign.stages[0].time_limit_minutes == 90
        assert campaign.track_version.data["stages"][0]["time_limit_minutes"] == 90


def test_campaign_create_explains_bad_dates(fresh_app):
    runner = CliRunner()
    result = runner.invoke(cli, ["campaign", "create", "--track", "support-agent", "--opens",
                                 "next monday", "--closes", "2027-02-10"],
                           obj=_script_info(fresh_app))
    assert result.exit_code != 0
    assert "is not a day like 2026-12-01" in result.output


def test_campaign_dates_on_the_command_line_mean_whole_days_in_its_zone(fresh_app):
    from datetime import UTC, datetime

    from recruit.db import get_db
    from recruit.models import Campaign

    runner = CliRunner()
    with fresh_app.app_context():
        from recruit.domain import tracks

        tracks.load_shipped(get_db())
        get_db().commit()
    result = runner.invoke(cli, ["campaign", "create", "--track", "support-agent", "--opens",
                                 "2027-12-01", "--closes", "2027-12-31", "--key", "winter",
                                 "--time-zone", "Asia/Yekaterinburg"],
                           obj=_script_info(fresh_app))
    assert result.exit_code == 0, result.output
    with fresh_app.app_context():
        campaign = get_db().query(Campaign).filter_by(key="winter").one()
        stored = (campaign.time_zone, campaign.opens_at, campaign.closes_at)
    # Yekaterinburg is UTC+5: the first minute of 1 December and the last of 31 December.
    assert stored == ("Asia/Yekaterinburg", datetime(2027, 11, 30, 19, 0, tzinfo=UTC),
                      datetime(2027, 12, 31, 18, 59, 59, tzinfo=UTC))


def test_unconfigured_instance_gets_a_clear_message_not_a_traceback(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("RECRUIT_")}
    env["RECRUIT_INSTANCE_PATH"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", "from recruit.cli import main; main()", "db", "upgrade"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "recruit instance init" in result.stderr
