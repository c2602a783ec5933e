"""The front page, the language switch and the health check."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from recruit import access
from recruit.db import get_db
from recruit.web.forms import ConfirmForm

bp = Blueprint("main", __name__)

HOME = {
    access.Who.APPLICANT: "applicant.home",
    access.Who.REVIEWER: "review.home",
    access.Who.COORDINATOR: "coordinator.home",
    access.Who.CUSTODIAN: "coordinator.home",
}


@bp.route("/")
@access.public
def index():
    """Each role's home; visitors see what the programme is and how to apply."""
    endpoint = HOME.get(access.who(current_user))
    if endpoint:
        return redirect(url_for(endpoint))
    return render_template("index.html")


@bp.route("/lang/<language>", methods=["POST"])
@access.public
def set_language(language: str):
    """Switch the interface language (remembered on the account when logged in)."""
    form = ConfirmForm()
    if form.validate_on_submit() and language in current_app.config["LANGUAGES"]:
        session["lang"] = language
        if current_user.is_authenticated:
            current_user.locale = language
    target = request.referrer or ""
    host = request.host_url.rstrip("/")
    return redirect(target if target.startswith(host + "/") else url_for("main.index"))


@bp.route("/favicon.ico")
@access.public
def favicon():
    """Browsers and tools that ask for the icon at the old address get the site's icon."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.route("/healthz")
@access.public
def healthz():
    """For a load balancer: 200 when the database answers."""
    try:
        get_db().execute(text("SELECT 1"))
    except Exception as exc:
        current_app.logger.warning("health check failed: %s", exc)
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok"}
