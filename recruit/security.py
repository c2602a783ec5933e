"""Response headers, session cookie policy and input hygiene common to every route."""

from __future__ import annotations

from datetime import timedelta

from flask import Request, current_app, request, session
from flask_babel import gettext as _
from flask_login import current_user, user_logged_in
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

# No 'unsafe-inline' anywhere: scripts and styles come from our own static files only, so an
# injected <script> or style attribute does nothing even if escaping ever failed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
                          "interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}

# A "keep me logged in" cookie outlives the browser session, but not by months.
REMEMBER_FOR = timedelta(days=14)


def _clean(value):
    """Drop NUL characters: never meaningful in text, and PostgreSQL cannot store them."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


class CleanMultiDict(ImmutableMultiDict):
    """Query and form values with NUL characters removed."""

    def __init__(self, mapping=None):
        if isinstance(mapping, MultiDict):
            mapping = list(mapping.items(multi=True))
        if isinstance(mapping, dict):
            mapping = {_clean(k): _clean(v) for k, v in mapping.items()}
        elif mapping is not None:
            mapping = [(_clean(k), _clean(v)) for k, v in mapping]
        super().__init__(mapping)


class CleanRequest(Request):
    """A request whose text input (query, form, JSON) never carries NUL characters."""

    parameter_storage_class = CleanMultiDict

    def get_json(self, *args, **kwargs):
        """The parsed JSON body, NUL characters removed from every string."""
        return _clean(super().get_json(*args, **kwargs))


def _set_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config["SESSION_COOKIE_SECURE"]:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    # Pages of a logged-in user may show identities and answers: no shared or disk cache.
    if (request.endpoint != "static" and "Cache-Control" not in response.headers
            and getattr(current_user, "is_authenticated", False)):
        response.headers["Cache-Control"] = "no-store"
    return response


def _json_bodies_are_objects():
    # Flask-WTF turns a JSON body into form data and fails with a server error on anything
    # but an object (a bare `true` or `["x"]`); every JSON endpoint here takes an object.
    if request.is_json and request.method not in ("GET", "HEAD", "OPTIONS"):
        body = request.get_json(silent=True)
        if body is not None and not isinstance(body, dict):
            return {"error": "bad_request",
                    "message": _("The request could not be understood. Please go back and try "
                                 "again.")}, 400
    return None


def _make_session_permanent(_app, **_extra) -> None:
    # A permanent session ends PERMANENT_SESSION_LIFETIME after the last request instead of
    # living as long as the browser stays open (often weeks on phones).
    session.permanent = True


def init_app(app) -> None:
    """Install the headers, the cookie policy and the NUL-free request class."""
    app.request_class = CleanRequest
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
    if not isinstance(lifetime, timedelta):
        app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=int(lifetime))
    app.config.setdefault("REMEMBER_COOKIE_DURATION", REMEMBER_FOR)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    if app.config.get("SESSION_COOKIE_SAMESITE") not in ("Lax", "Strict"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.before_request(_json_bodies_are_objects)
    app.after_request(_set_headers)
    user_logged_in.connect(_make_session_permanent, app, weak=False)
