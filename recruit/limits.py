"""Rate limits (Flask-Limiter): login, registration, password reset, confirmation mail, autosave.

Views are marked with the named limits below, in any decorator order::

    @bp.route("/login", methods=["GET", "POST"])
    @access.public
    @limits.login
    def login(): ...

:func:`init_app` gives every app its own :class:`~flask_limiter.Limiter` (Flask-Limiter keeps
its on/off switch and storage on the extension object, so one shared object would let one
test app's settings leak into another) and wraps each marked view with its limit. Storage is
``RATELIMIT_STORAGE_URI``: ``memory://`` by default (per process), a Redis URI
(``RECRUIT_RATELIMIT_STORAGE_URI=redis://…``) to share the counts between workers and hosts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, request
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_login import current_user
from werkzeug.local import LocalProxy

from recruit.errors import render_error

EXTENSION = "recruit.limiter"


def by_address() -> str:
    """Key of a limit counted per client address (visitors are not logged in yet)."""
    return "addr:" + (get_remote_address() or "unknown")


def by_user() -> str:
    """Key of a limit counted per account, falling back to the address for visitors."""
    if getattr(current_user, "is_authenticated", False):
        return f"user:{current_user.id}"
    return by_address()


@dataclass(frozen=True)
class NamedLimit:
    """A limit that marks views; :func:`init_app` enforces it on every app."""

    name: str
    value: str
    key: Callable[[], str]
    # Only these methods count: showing the login page is free, trying a password is not.
    methods: tuple[str, ...] = ("POST",)

    def __call__(self, view: Callable) -> Callable:
        """Mark ``view`` with this limit (the view itself is returned unchanged)."""
        view.__rate_limit__ = self
        return view


login = NamedLimit("login", "10/minute;50/hour", by_address)
registration = NamedLimit("registration", "5/minute;20/hour", by_address)
password_reset = NamedLimit("password_reset", "5/minute;20/hour", by_address)
# Each sends an e-mail: the same budget as a password reset, so nobody floods an inbox.
confirmation_mail = NamedLimit("confirmation_mail", "3/minute;10/hour", by_user)
# A browser autosaves every few seconds while someone types; far above that, far below abuse.
autosave = NamedLimit("autosave", "120/minute", by_user, methods=("POST", "PUT"))


def _current() -> Limiter:
    return current_app.extensions[EXTENSION]


#: The limiter of the current app (for ``limiter.limit(...)`` inside a view or a test reset).
limiter: Limiter = LocalProxy(_current)  # type: ignore[assignment]


def message() -> str:
    """The localised explanation shown when a limit is hit."""
    return _("You are doing that too often. Please wait a minute and try again.")


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def init_app(app) -> None:
    """Create this app's limiter and enforce the named limits on its marked views.

    Call after the blueprints are registered.
    """
    instance = Limiter(
        key_func=by_address,
        storage_uri=app.config["RATELIMIT_STORAGE_URI"],
        enabled=bool(app.config["RATELIMIT_ENABLED"]),
        headers_enabled=True,
        # A broken Redis must not lock everyone out of the site: count in memory meanwhile.
        in_memory_fallback_enabled=True,
        key_prefix="recruit",
    )
    app.config["RATELIMIT_ENABLED"] = bool(app.config["RATELIMIT_ENABLED"])
    instance.init_app(app)
    app.extensions[EXTENSION] = instance
    for endpoint, view in list(app.view_functions.items()):
        named = getattr(view, "__rate_limit__", None)
        if named is None:
            continue
        app.view_functions[endpoint] = instance.limit(
            named.value, key_func=named.key, methods=list(named.methods),
            error_message=message,
        )(view)

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc):
        if _wants_json():
            return {"error": "rate_limit", "message": message()}, 429
        return render_error(429, message())
