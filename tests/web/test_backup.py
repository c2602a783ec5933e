"""`recruit backup` and `recruit restore`: a round trip gives back every row of every table.

Runs against the database kind under test (SQLite by default, PostgreSQL with --db=postgresql).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from recruit import create_app, ops
from recruit.cli import cli
from recruit.db import get_db, get_engine, make_engine
from recruit.domain import audit
from recruit.migrate import upgrade
from recruit.models import Role, User
from recruit.vault import open_identity_of, store_identity
from tests.conftest import app_config
from tests.factories import make_user
from tests.world import build_world


def _run(app, *args):
    return app.test_cli_runner().invoke(cli, list(args))


def _populate(app) -> int:
    """A world with an identity and an audit event, committed; returns the applicant's id."""
    with app.app_context():
        db = get_db()
        world = build_world(db)
        applicant = world.users["applicant"]
        store_identity(db, user=applicant, fields={"first": "Анна", "last": "O'Brien",
                                                   "phone": "+7 900 000-00-00"})
        audit.record(db, action="test.event", actor_id=None, subject="backup",
                     details={"note": "ünïcode ✓"})
        db.commit()
        return applicant.id


@pytest.fixture
def empty_app(fresh_app, new_database, tmp_path):
    """A second app on a migrated, empty database, with the same keys: where backups go."""
    url = new_database()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    application = create_app(app_config(url, tmp_path / "restored",
                                        ENCRYPTION_KEYS=fresh_app.config["ENCRYPTION_KEYS"],
                                        AUDIT_KEYS=fresh_app.config["AUDIT_KEYS"]))
    yield application
    application.extensions["recruit.engine"].dispose()


def _rows(app):
    with app.app_context():
        return ops.table_rows(get_engine())


def test_backup_and_restore_give_back_every_row_of_every_table(fresh_app, empty_app,
                                                               tmp_path):
    applicant_id = _populate(fresh_app)
    original = _rows(fresh_app)
    assert original["identity"] and original["answer"] and original["audit_event"]

    file = tmp_path / "backups" / "recruit.backup"
    result = _run(fresh_app, "backup", str(file))
    assert result.exit_code == 0, result.output
    assert "Backup written" in result.output and file.stat().st_size > 0

    result = _run(empty_app, "restore", str(file))
    assert result.exit_code == 0, result.output
    restored = _rows(empty_app)
    assert restored.keys() == original.keys()
    for table, rows in original.items():
        assert restored[table] == rows, table

    with empty_app.app_context():
        db = get_db()
        identity = open_identity_of(db, user_id=applicant_id)
        assert identity.first == "Анна" and identity.last == "O'Brien"
        assert audit.verify(db)[1] is None
        # Sequences came back too: new rows do not collide with restored ones.
        make_user(db, role=Role.REVIEWER)
        db.commit()


def test_restore_refuses_a_database_with_data_unless_forced(fresh_app, tmp_path):
    _populate(fresh_app)
    file = tmp_path / "recruit.backup"
    assert _run(fresh_app, "backup", str(file)).exit_code == 0
    with fresh_app.app_context():
        db = get_db()
        extra = make_user(db, role=Role.REVIEWER, email="after-backup@example.org")
        extra_id = extra.id
        db.commit()

    refused = _run(fresh_app, "restore", str(file))
    assert refused.exit_code != 0
    assert "not empty" in refused.output and "--force" in refused.output
    with fresh_app.app_context():
        assert get_db().get(User, extra_id) is not None

    forced = _run(fresh_app, "restore", "--force", str(file))
    assert forced.exit_code == 0, forced.output
    with fresh_app.app_context():
        assert get_db().get(User, extra_id) is None, "the backup's state is back"


def test_restore_refuses_a_file_that_is_not_a_backup(empty_app, tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a database", encoding="utf-8")
    result = _run(empty_app, "restore", str(bogus))
    assert result.exit_code != 0 and "not a" in result.output
    with empty_app.app_context():
        assert ops.is_empty(get_engine())


def test_a_fresh_migrated_database_counts_as_empty(empty_app):
    with empty_app.app_context():
        engine = get_engine()
        assert ops.is_empty(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT 1"))
        assert "user" in ops.user_tables(engine) and "alembic_version" not in \
            ops.user_tables(engine)
