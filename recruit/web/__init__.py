"""Blueprints, login, CSRF, error pages and template helpers."""

from __future__ import annotations

from flask import request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from recruit import access
from recruit import labels as shared_labels
from recruit.domain.redaction import split_markers
from recruit.errors import render_error

csrf = CSRFProtect()

def init_app(app) -> None:
    """Register everything the web layer needs."""
    from recruit.web import (
        applicant,
        auth,
        calibration,
        coordinator,
        custodian,
        decisions,
        demo,
        feedback,
        labels,
        main,
        offers,
        reports,
        review,
        reviewers,
    )

    csrf.init_app(app)
    auth.login_manager.init_app(app)
    for module in (main, auth, applicant, review, reviewers, calibration, coordinator, decisions,
                   feedback, offers, reports, custodian, demo):
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

    app.jinja_env.globals.update(
        state_text=labels.state_label, outcome_text=labels.outcome_label,
        label_table=shared_labels.table, offer_status_text=shared_labels.offer_status_label,
        work_format_text=shared_labels.work_format_label,
        period_text=shared_labels.period_label,
        audit_action_text=shared_labels.audit_action_label,
        audit_subject=shared_labels.audit_subject,
        track_kind_text=shared_labels.track_kind_label,
        cutoff_reason_text=shared_labels.cutoff_reason, redacted_parts=split_markers)

    @app.context_processor
    def _inject():
        return {"access": access, "who": access.who(current_user)}
