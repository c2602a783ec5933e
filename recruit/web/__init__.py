"""Blueprints, login, CSRF, error pages and template helpers."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from recruit import access

csrf = CSRFProtect()

ERROR_TEXT = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try "
                                "again.")),
    403: (_l("Access denied"), _l("Your account is not allowed to open this page.")),
    404: (_l("Page not found"), _l("There is nothing at this address. It may have moved or "
                                   "never existed.")),
    405: (_l("Method not allowed"), _l("This address does not accept that kind of request.")),
    429: (_l("Too many requests"), _l("You are doing that too often. Please wait a minute and "
                                      "try again.")),
    500: (_l("Something went wrong"), _l("An unexpected error happened on our side. Nothing you "
                                         "saved before was lost; please try again.")),
}


def render_error(code: int, message: str | None = None):
    """An error page in the user's language."""
    title, text = ERROR_TEXT.get(code, ERROR_TEXT[500])
    return render_template("error.html", code=code, title=title, text=message or text), code


def init_app(app) -> None:
    """Register everything the web layer needs."""
    from recruit.web import (
        applicant,
        auth,
        coordinator,
        custodian,
        decisions,
        labels,
        main,
        offers,
        reports,
        review,
        reviewers,
    )

    csrf.init_app(app)
    auth.login_manager.init_app(app)
    for module in (main, auth, applicant, review, reviewers, coordinator, decisions, offers,
                   reports, custodian):
        app.register_blueprint(module.bp)
    if app.config.get("BENCH"):
        # Baselines of `make bench` only: not part of the site, so never registered otherwise.
        from recruit.web import bench

        app.register_blueprint(bench.bp)

    for code in (400, 403, 404, 405, 429, 500):
        app.register_error_handler(code, lambda e, code=code: render_error(code))

    @app.errorhandler(CSRFError)
    def _csrf_error(e):
        if request.is_json or request.accept_mimetypes.best == "application/json":
            return {"error": "csrf", "message": str(_l("Your session has expired. Log in again; "
                                                        "your text is kept in this browser."))}, 400
        return render_error(400, str(_l("The form has expired. Please reload the page and send "
                                        "it again.")))

    app.jinja_env.globals.update(state_text=labels.state_label,
                                 outcome_text=labels.outcome_label)

    @app.context_processor
    def _inject():
        return {"access": access, "who": access.who(current_user)}
