"""recruit: fair, blind recruitment of support agents in waves."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: config, database, i18n, login, CSRF, blueprints, security, limits."""
    instance_path = os.environ.get("RECRUIT_INSTANCE_PATH") or str(ROOT / "instance")
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
    )
    from recruit import config

    config.apply_config(app, test_config)

    from recruit import db, i18n, limits, mail, security, vault
    from recruit.web import init_app as init_web

    db.init_app(app)
    security.install_converters(app)
    app.extensions["recruit.vault"] = vault.Vault(app.config["ENCRYPTION_KEYS"])
    i18n.init_app(app)
    mail.init_app(app)
    init_web(app)
    security.init_app(app)
    # After the blueprints: the limiter wraps the views marked with a named limit.
    limits.init_app(app)
    return app
