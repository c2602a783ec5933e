"""The audit log cannot be cut short, wiped or rebuilt unnoticed: the chain is keyed (HMAC with
a key from the instance config) and its head is checkpointed in the instance folder."""

from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.cli import ScriptInfo

from recruit import create_app
from recruit.cli import cli
from recruit.config import ConfigError
from recruit.db import get_db, make_engine
from recruit.domain import audit
from recruit.migrate import upgrade
from recruit.models import AuditEvent
from tests.conftest import app_config


def run(app, *args):
    return CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app),
                              catch_exceptions=False)


def _events(app, n: int) -> None:
    with app.app_context():
        db = get_db()
        for i in range(n):
            audit.record(db, action="identity.view", actor_id=None, subject=f"candidacy:{i}")
        db.commit()


@contextmanager
def _raw(app):
    """A connection of its own, outside the app: what someone at the database would use."""
    engine = make_engine(app.config["DATABASE_URL"])
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def _sql(app, statement: str) -> None:
    with _raw(app) as conn:
        conn.exec_driver_sql(statement)


def test_an_intact_log_verifies_against_its_checkpoint(fresh_app):
    _events(fresh_app, 3)
    checkpoint = json.loads(Path(fresh_app.config["AUDIT_CHECKPOINT"]).read_text())
    assert checkpoint["seq"] == 3
    result = run(fresh_app, "audit", "verify")
    assert result.exit_code == 0
    assert "Audit log intact: 3 events." in result.output


def test_deleting_the_newest_events_is_caught(fresh_app):
    _events(fresh_app, 5)
    _sql(fresh_app, "DELETE FROM audit_event WHERE seq > 3")
    result = run(fresh_app, "audit", "verify")
    assert result.exit_code == 1
    assert "the newest 2 events were removed" in result.output


def test_a_wiped_log_is_caught(fresh_app):
    _events(fresh_app, 2)
    _sql(fresh_app, "DELETE FROM audit_event")
    result = run(fresh_app, "audit", "verify")
    assert result.exit_code == 1
    assert "the log was wiped" in result.output


def test_a_chain_rebuilt_without_the_key_is_caught(fresh_app):
    _events(fresh_app, 3)
    # What anyone with write access to the database alone can do: recompute plain hashes.
    with _raw(fresh_app) as conn:
        rows = conn.execute(sa.text("SELECT id, seq FROM audit_event ORDER BY seq")).all()
        prev = "0" * 64
        for row in rows:
            new = hashlib.sha256(f"{prev}forged{row.seq}".encode()).hexdigest()
            conn.execute(sa.text("UPDATE audit_event SET prev_hash = :p, hash = :h, "
                                 "subject = 'forged' WHERE id = :i"),
                         {"p": prev, "h": new, "i": row.id})
            prev = new
    result = run(fresh_app, "audit", "verify")
    assert result.exit_code == 1
    assert "not signed with this instance's audit key" in result.output


def test_a_chain_rebuilt_with_the_key_is_caught_by_the_checkpoint(fresh_app):
    _events(fresh_app, 3)
    # Even someone holding the key cannot replace the history behind the checkpoint.
    with fresh_app.app_context():
        db = get_db()
        newest = db.scalar(sa.select(AuditEvent).order_by(AuditEvent.seq.desc()))
        newest.subject = "candidacy:replaced"
        audit.resign(db, key=fresh_app.config["AUDIT_KEYS"][0])
        db.info.pop("recruit.audit_head", None)
        db.commit()
    result = run(fresh_app, "audit", "verify")
    assert result.exit_code == 1
    assert "differs from the checkpoint" in result.output


def test_a_missing_checkpoint_is_named(fresh_app):
    _events(fresh_app, 1)
    Path(fresh_app.config["AUDIT_CHECKPOINT"]).unlink()
    result = run(fresh_app, "audit", "verify")
    assert result.exit_code == 1
    assert "there is no checkpoint at" in result.output
    # After checking the log, an operator can start the checkpoint again.
    assert run(fresh_app, "audit", "checkpoint").exit_code == 0
    assert run(fresh_app, "audit", "verify").exit_code == 0


def test_a_rolled_back_event_does_not_move_the_checkpoint(fresh_app):
    _events(fresh_app, 2)
    with fresh_app.app_context():
        db = get_db()
        audit.record(db, action="identity.view", actor_id=None, subject="never")
        db.rollback()
    assert json.loads(Path(fresh_app.config["AUDIT_CHECKPOINT"]).read_text())["seq"] == 2
    assert run(fresh_app, "audit", "verify").exit_code == 0


def test_the_checkpoint_never_moves_back(tmp_path):
    path = tmp_path / "checkpoint.json"
    assert audit.write_checkpoint(path, audit.Checkpoint(5, "e" * 64))
    assert not audit.write_checkpoint(path, audit.Checkpoint(4, "d" * 64))
    assert audit.read_checkpoint(path) == audit.Checkpoint(5, "e" * 64)
    assert path.stat().st_mode & 0o777 == 0o600


def test_rotating_the_audit_key_re_signs_the_chain(fresh_app, tmp_path):
    _events(fresh_app, 3)
    old = list(fresh_app.config["AUDIT_KEYS"])
    result = run(fresh_app, "audit", "rotate-key")
    assert result.exit_code == 0, result.output
    new = fresh_app.config["AUDIT_KEYS"]
    assert new[1:] == old and new[0] not in old
    with fresh_app.app_context():
        db = get_db()
        # Every event now verifies with the new key alone; new events are signed with it.
        assert audit.verify(db, keys=[new[0]]) == (3, None)
        audit.record(db, action="identity.view", actor_id=None, subject="after")
        db.commit()
        assert audit.verify(db, keys=[new[0]],
                            checkpoint=audit.checkpoint_path()) == (4, None)


def test_an_instance_config_without_an_audit_key_gets_a_clear_message_and_init_adds_one(
        tmp_path, database_url, monkeypatch):
    from recruit.cli import instance as instance_cli

    folder = tmp_path / "instance"
    folder.mkdir()
    config = folder / "config.py"
    config.write_text("SECRET_KEY = 'old-secret'\n"
                      "ENCRYPTION_KEYS = ['" + app_config("", tmp_path)["ENCRYPTION_KEYS"][0]
                      + "']\n")
    monkeypatch.setenv("RECRUIT_INSTANCE_PATH", str(folder))
    monkeypatch.setenv("RECRUIT_DATABASE_URL", database_url)
    with pytest.raises(ConfigError, match="AUDIT_KEYS not configured: run `recruit instance "
                                          "init`"):
        create_app()
    result = CliRunner().invoke(instance_cli.instance, ["init"], catch_exceptions=False)
    assert "added AUDIT_KEYS" in result.output
    text = config.read_text()
    assert "SECRET_KEY = 'old-secret'" in text and "AUDIT_KEYS = [" in text
    application = create_app()
    try:
        assert application.config["SECRET_KEY"] == "old-secret"
        assert application.config["AUDIT_KEYS"]
    finally:
        application.extensions["recruit.engine"].dispose()


def _legacy_digest(prev_hash, at, actor_id, action, subject, details) -> str:
    payload = json.dumps([prev_hash, at, actor_id, action, subject, details], sort_keys=True,
                         ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def test_upgrading_a_database_keys_its_old_chain_and_says_it_was_intact(new_database, tmp_path):
    url = new_database()
    engine = make_engine(url)
    upgrade(engine, "0001")
    prev = "0" * 64
    with engine.begin() as conn:
        for n in range(2):
            at = f"2026-01-0{n + 1}T10:00:00.000000+00:00"
            new = _legacy_digest(prev, at, None, "identity.view", f"candidacy:{n}", {})
            conn.execute(sa.text(
                "INSERT INTO audit_event (at, actor_id, action, subject, details, prev_hash, "
                "hash) VALUES (:at, NULL, 'identity.view', :s, '{}', :p, :h)"),
                {"at": f"2026-01-0{n + 1} 10:00:00.000000", "s": f"candidacy:{n}", "p": prev,
                 "h": new})
            prev = new
    engine.dispose()
    application = create_app(app_config(url, tmp_path))
    try:
        with application.app_context():
            upgrade(application.extensions["recruit.engine"])
            db = get_db()
            count, broken = audit.verify(db, checkpoint=audit.checkpoint_path())
            assert (count, broken) == (3, None)
            keyed = db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "audit.keyed"))
            assert keyed.details == {"events": 2}
    finally:
        application.extensions["recruit.engine"].dispose()
