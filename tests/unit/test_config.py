"""Configuration order and the refusal to run without real keys."""

from __future__ import annotations

import stat

import pytest

from recruit import create_app
from recruit.config import write_instance_config


def test_missing_keys_stop_the_app_with_instructions(tmp_path, monkeypatch):
    monkeypatch.setenv("RECRUIT_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("RECRUIT_SECRET_KEY", raising=False)
    monkeypatch.delenv("RECRUIT_ENCRYPTION_KEYS", raising=False)
    with pytest.raises(RuntimeError, match="recruit instance init"):
        create_app()


def test_instance_file_is_private_and_never_overwritten(tmp_path):
    target = write_instance_config(tmp_path)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    first = target.read_text()
    assert write_instance_config(tmp_path) is None
    assert target.read_text() == first
    other = write_instance_config(tmp_path / "other")
    assert other.read_text() != first, "keys must be random per instance"


def test_environment_overrides_the_instance_file(tmp_path, monkeypatch):
    write_instance_config(tmp_path)
    monkeypatch.setenv("RECRUIT_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("RECRUIT_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("RECRUIT_DATABASE_URL", f"sqlite:///{tmp_path}/env.sqlite3")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["DATABASE_URL"].endswith("env.sqlite3")
    assert len(app.config["ENCRYPTION_KEYS"]) == 1


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    write_instance_config(tmp_path)
    monkeypatch.setenv("RECRUIT_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("RECRUIT_DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path}/recruit.sqlite3"


def test_secure_cookies_switch(tmp_path):
    from tests.conftest import app_config

    app = create_app(app_config("sqlite://", tmp_path, SECURE_COOKIES=True))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
