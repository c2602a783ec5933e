"""Data at rest: answer originals encrypted with the vault's keys, sent mail bodies gone,
database, WAL, backup and mail files readable by their owner only, purged accounts keep no
address, and SQLite overwrites what it deletes."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from cryptography.fernet import Fernet
from flask.cli import ScriptInfo

from recruit import mail, ops
from recruit.cli import cli
from recruit.db import get_db, utcnow
from recruit.domain import applications
from recruit.models import Answer, OutboxMessage, Role, User
from recruit.vault import Vault
from tests.factories import PASSWORD, make_user
from tests.world import build_world

SIGNED = "Thank you for reading. Kind regards, Anna Ivanova"


def run(app, *args):
    return CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app),
                              catch_exceptions=False)


def _stored(db, answer_id: int) -> str:
    # The column as it lies in the database and its backups, without the decrypting type.
    return db.execute(sa.text("SELECT text FROM answer WHERE id = :i"), {"i": answer_id}).scalar()


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_an_answer_original_is_stored_encrypted_and_read_back_in_clear(db, app):
    world = build_world(db)
    answer = world.answers[0]
    answer.text = SIGNED
    db.flush()
    stored = _stored(db, answer.id)
    assert "Ivanova" not in stored and stored.startswith("gAAAA")
    assert Vault(app.config["ENCRYPTION_KEYS"]).open_text(stored) == SIGNED
    db.expire_all()
    assert db.get(Answer, answer.id).text == SIGNED
    # The redacted copy, what reviewers read, stays readable as it is.
    assert db.execute(sa.text("SELECT redacted_text FROM answer WHERE id = :i"),
                      {"i": answer.id}).scalar() == answer.redacted_text


def test_an_autosave_stores_the_draft_encrypted(db, client):
    world = build_world(db)
    user = make_user(db)
    now = utcnow()
    candidacy = applications.apply(db, user=user, campaign=world.campaign, now=now)
    submission = applications.start_stage(db, candidacy=candidacy,
                                          stage=world.campaign.stages[0], now=now)
    db.flush()
    answer = submission.answers[0]
    client.login(user)
    response = client.post(f"/me/answers/{answer.id}/autosave",
                           json={"text": SIGNED, "version": answer.version},
                           headers={"X-CSRFToken": client.csrf_token()})
    assert response.status_code == 200
    assert "Ivanova" not in _stored(db, answer.id)
    db.expire_all()
    assert db.get(Answer, answer.id).text == SIGNED


def test_rotating_the_keys_re_encrypts_answer_originals(fresh_app):
    with fresh_app.app_context():
        db = get_db()
        world = build_world(db)
        answer_id = world.answers[0].id
        answers = db.scalar(sa.select(sa.func.count()).select_from(Answer))
        db.commit()
        old = _stored(db, answer_id)
    old_keys = list(fresh_app.config["ENCRYPTION_KEYS"])
    result = run(fresh_app, "keys", "rotate")
    assert result.exit_code == 0, result.output
    assert f"and {answers} answer originals" in result.output
    # Without an instance config file the command prints the keys to set; the first is new.
    new_key = result.output.strip().splitlines()[-1].split(",")[0]
    assert new_key not in old_keys
    with fresh_app.app_context():
        db = get_db()
        new = _stored(db, answer_id)
        assert new != old
        assert Vault([new_key]).open_text(new).startswith("An answer.")
        assert db.get(Answer, answer_id).text.startswith("An answer.")


def test_a_sent_mail_keeps_no_body_and_its_file_is_private(fresh_app, tmp_path):
    with fresh_app.app_context():
        db = get_db()
        message = mail.queue(db, to="anna@example.org", template="reset", locale="en",
                             context={"link": "http://localhost/reset/secret-token"})
        db.commit()
        sent, failed = mail.deliver(db, sender=mail.FileSender(tmp_path / "outbox"),
                                    worker="test")
        assert (sent, failed) == (1, 0)
        db.expire_all()
        row = db.get(OutboxMessage, message.id)
        assert row.sent_at is not None
        assert row.body_text == "" and row.body_html is None
        assert row.to_address == "anna@example.org" and row.template == "reset"
    (eml,) = (tmp_path / "outbox").glob("*.eml")
    assert _mode(eml) == 0o600


def test_a_mail_not_yet_sent_keeps_its_body(db):
    message = mail.queue(db, to="anna@example.org", template="reset", locale="en",
                         context={"link": "http://localhost/reset/x"})
    db.flush()
    assert "reset/x" in message.body_text


@pytest.fixture
def sqlite_only(db_kind):
    if db_kind != "sqlite":
        pytest.skip("file modes and PRAGMAs of the embedded SQLite database")


def test_the_database_and_wal_files_are_private(fresh_app, sqlite_only):
    path = Path(sa.make_url(fresh_app.config["DATABASE_URL"]).database)
    os.chmod(path, 0o644)  # as an older version left it
    fresh_app.extensions["recruit.engine"].dispose()
    with fresh_app.app_context():
        db = get_db()
        make_user(db)
        db.commit()
        assert db.execute(sa.text("PRAGMA secure_delete")).scalar() == 1
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        assert name.exists(), name
        assert _mode(name) == 0o600, name


def test_a_backup_file_is_private(fresh_app, tmp_path):
    target = ops.backup(url=fresh_app.config["DATABASE_URL"], target=tmp_path / "b.backup")
    assert _mode(target) == 0o600


def test_purge_erases_the_address_and_closes_the_account(db, client):
    from recruit.vault import store_identity

    now = utcnow()
    user = make_user(db, email="gone@example.org")
    store_identity(db, user=user, fields={"first": "Anna", "last": "Ivanova"})
    mail.queue(db, to="gone@example.org", template="reset", locale="en",
               context={"link": "http://localhost/reset/x"})
    db.flush()
    # A profile that led to no candidacy and was untouched for a long time is purged.
    result = ops.purge_identities(db, older_than=timedelta(days=0),
                                  now=now + timedelta(days=1))
    assert user.id in result.user_ids
    db.expire_all()
    row = db.get(User, user.id)
    assert row.email == ops.tombstone_address(user.id) and "gone" not in row.email
    assert not row.active
    assert db.scalar(sa.select(OutboxMessage).where(
        OutboxMessage.to_address == "gone@example.org")) is None
    login = client.post_form("/login", {"email": "gone@example.org", "password": PASSWORD})
    assert "The e-mail or the password is wrong." in login.get_data(as_text=True)
    assert row.role is Role.APPLICANT


def test_a_token_sealed_under_an_unknown_key_is_a_vault_error(app):
    from recruit.vault import VaultError

    foreign = Vault([Fernet.generate_key().decode()]).seal_text("x")
    with pytest.raises(VaultError):
        Vault(app.config["ENCRYPTION_KEYS"]).open_text(foreign)
