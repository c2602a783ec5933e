"""Configuration: defaults, then instance/config.py, then RECRUIT_* environment variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet


class ConfigError(RuntimeError):
    """The instance is not configured well enough to start; the message says how to fix it."""


DEFAULTS: dict[str, object] = {
    # DATABASE_URL is filled in from the instance folder when left unset.
    "DATABASE_URL": None,
    "SECRET_KEY": None,
    # First key encrypts; the others still decrypt (key rotation).
    "ENCRYPTION_KEYS": None,
    # HMAC keys of the audit chain; the first signs new events, the others still verify.
    "AUDIT_KEYS": None,
    # Head of the audit chain kept outside the database; default: in the instance folder.
    "AUDIT_CHECKPOINT": None,
    "LANGUAGES": ("en", "ru"),
    "BABEL_DEFAULT_LOCALE": "en",
    # Times are stored in UTC and shown in this zone (the company works on Moscow time).
    "BABEL_DEFAULT_TIMEZONE": "Europe/Moscow",
    "COMPANY_NAME": "Social network support team",
    "COMPANY_NAME_RU": "Служба поддержки социальной сети",
    "COMPANY_ADDRESS": "Saint Petersburg, Russia",
    # Where the site is reached: the base of every absolute link (e-mails, PDFs). Requests
    # for any other host are refused, except the names in ALLOWED_HOSTS. Left unset, it is
    # http://127.0.0.1:5000, or the port `recruit run` serves on.
    "PUBLIC_URL": None,
    "ALLOWED_HOSTS": (),
    # Reverse proxies in front of the app whose X-Forwarded-* headers are believed. 0 trusts
    # none: the client address is the socket's, so nobody can pick their own rate-limit key.
    "PROXY_HOPS": 0,
    # Request bodies beyond this are refused with 413 before they are read. A stage form with
    # three full answers in Cyrillic (3 × 60,000 characters, six bytes each once URL-encoded)
    # is about 1.1 MB.
    "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
    "COMPANY_ADDRESS_RU": "Санкт-Петербург, Россия",
    "MAIL_BACKEND": "file",
    "MAIL_FROM": "recruit@localhost",
    "MAIL_OUTBOX_DIR": None,
    "SMTP_HOST": "localhost",
    "SMTP_PORT": 25,
    "SMTP_SECURITY": "none",  # none | starttls | ssl
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,
    "SMTP_TIMEOUT": 20,
    "MAIL_MAX_ATTEMPTS": 8,
    # Who takes a handed-in stage in (redacts, indexes and confirms it): "request", the
    # request or deadline job that hands it in; or "worker", `recruit intake worker`, so that
    # a hand-in is a short write and a wave's last minute stays fast (see the README).
    "INTAKE": "request",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SECURE_COOKIES": False,
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_ENABLED": True,
    "EMAIL_TOKEN_MAX_AGE": 3 * 24 * 3600,
    "BENCH": False,
    # The demo of `make run`: mail is delivered after each request and the custodian can read
    # it on the outbox page. Never in production: the page shows applicants' addresses.
    "DEMO": False,
}

INSTANCE_CONFIG = "config.py"


def apply_config(app, test_config: dict | None) -> None:
    """Fill ``app.config`` from the defaults, the instance file, the environment and tests."""
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile(INSTANCE_CONFIG, silent=True)
        app.config.from_prefixed_env(prefix="RECRUIT")
    else:
        app.config.from_mapping(test_config)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = "sqlite:///" + str(Path(app.instance_path, "recruit.sqlite3"))
    if not app.config["MAIL_OUTBOX_DIR"]:
        app.config["MAIL_OUTBOX_DIR"] = str(Path(app.instance_path, "outbox"))
    if not app.config["AUDIT_CHECKPOINT"]:
        app.config["AUDIT_CHECKPOINT"] = str(Path(app.instance_path, "audit-checkpoint.json"))
    for name in ("ENCRYPTION_KEYS", "AUDIT_KEYS", "ALLOWED_HOSTS"):
        app.config[name] = _as_list(app.config[name])
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config["SECURE_COOKIES"])
    app.config["REMEMBER_COOKIE_SECURE"] = bool(app.config["SECURE_COOKIES"])
    missing = [k for k in ("SECRET_KEY", "ENCRYPTION_KEYS", "AUDIT_KEYS")
               if not app.config.get(k)]
    if missing:
        # A made-up fallback would silently make sessions forgeable and identities unreadable
        # after a restart; refuse instead and say how to fix it.
        raise ConfigError(
            f"{', '.join(missing)} not configured: run `recruit instance init` "
            f"(or `make run`) to create {Path(app.instance_path, INSTANCE_CONFIG)} or add the "
            "missing keys to it (existing keys are kept), or set "
            + " / ".join(f"RECRUIT_{k}" for k in missing) + "."
        )
    if app.config["INTAKE"] not in ("request", "worker"):
        raise ConfigError(f"INTAKE must be \"request\" or \"worker\", not "
                          f"{app.config['INTAKE']!r}.")
    app.config["PUBLIC_URL_CONFIGURED"] = bool(app.config["PUBLIC_URL"])
    set_public_url(app, app.config["PUBLIC_URL"] or "http://127.0.0.1:5000")
    try:
        app.config["PROXY_HOPS"] = int(app.config["PROXY_HOPS"])
    except (TypeError, ValueError):
        app.config["PROXY_HOPS"] = -1
    if app.config["PROXY_HOPS"] < 0:
        raise ConfigError("PROXY_HOPS must be the number of reverse proxies in front of the "
                          "app (0 when clients connect directly).")


def _as_list(value) -> list[str]:
    """A list setting given as a list or as one comma-separated string."""
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


LOOPBACK = ("127.0.0.1", "localhost")


def set_public_url(app, url: str) -> None:
    """Make ``url`` the site's public address and accept requests for its host only
    (plus ALLOWED_HOSTS; on a loopback address both 127.0.0.1 and localhost)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"PUBLIC_URL must be an http(s) address like https://jobs.example.org, "
                          f"not {url!r}")
    app.config["PUBLIC_URL"] = url.rstrip("/")
    hosts = [parts.hostname, *app.config["ALLOWED_HOSTS"]]
    if parts.hostname in LOOPBACK:
        hosts.extend(LOOPBACK)
    # Flask checks the Host header against this list (the port is not compared) and answers
    # 400 for any other host, so no link can be built from an attacker's Host header.
    app.config["TRUSTED_HOSTS"] = list(dict.fromkeys(hosts))
    app.config["PREFERRED_URL_SCHEME"] = parts.scheme


def serve_on_port(app, *, port: int) -> None:
    """`recruit run --port N` without a configured PUBLIC_URL: the site is http://127.0.0.1:N."""
    if not app.config["PUBLIC_URL_CONFIGURED"]:
        set_public_url(app, f"http://127.0.0.1:{port}")


def write_instance_config(instance_path: Path) -> Path | None:
    """Create ``instance/config.py`` with fresh random keys (mode 600); None if it exists."""
    instance_path.mkdir(parents=True, exist_ok=True)
    target = instance_path / INSTANCE_CONFIG
    if target.exists():
        return None
    body = (
        "# Generated by `recruit instance init`. Keep this file secret and backed up:\n"
        "# without ENCRYPTION_KEYS the stored identities cannot be read.\n"
        + "".join(f"{name} = {make()!r}\n" for name, make in KEY_MAKERS.items())
    )
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(body)
    return target


KEY_MAKERS = {
    "SECRET_KEY": lambda: secrets.token_urlsafe(48),
    "ENCRYPTION_KEYS": lambda: [Fernet.generate_key().decode()],
    "AUDIT_KEYS": lambda: [secrets.token_urlsafe(32)],
}


def add_missing_keys(instance_path: Path) -> list[str]:
    """Append the keys an older ``instance/config.py`` lacks (existing ones are never touched);
    returns their names."""
    from flask import Config

    target = instance_path / INSTANCE_CONFIG
    present = Config(str(instance_path))
    present.from_pyfile(str(target))
    missing = {name: make for name, make in KEY_MAKERS.items() if not present.get(name)}
    if missing:
        with target.open("a", encoding="utf-8") as fh:
            fh.write("\n# Added by `recruit instance init` (keys this version needs).\n")
            fh.writelines(f"{name} = {make()!r}\n" for name, make in missing.items())
    return list(missing)
