"""Response headers, session cookie policy and input hygiene common to every route."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Request, abort, current_app, request, session
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, user_logged_in
from markupsafe import escape
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from recruit.errors import render_error

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


# Largest value of an INTEGER column on PostgreSQL (32-bit signed), which ids and versions
# are: beyond it PostgreSQL refuses even to compare ("integer out of range").
MAX_DB_INT = 2**31 - 1
# Deeper than any body this site takes (the deepest is two levels): refused unread.
MAX_JSON_DEPTH = 20
# More pages than any list here can have; the offset stays far inside MAX_DB_INT.
MAX_PAGE = 10**9

# A surrogate left alone (half of an emoji cut in two) cannot be encoded as UTF-8 and so
# cannot be stored; JSON can carry one ("\ud83d"), a form cannot.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class TooDeep(ValueError):
    """A JSON body nested deeper than any this site takes."""


def _clean(value, depth: int = 0):
    """Drop NUL characters (PostgreSQL cannot store them) and replace lone surrogates with
    U+FFFD, so the rest of a typed text is kept."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "")
        return _LONE_SURROGATE.sub("\ufffd", value)
    if depth > MAX_JSON_DEPTH:
        raise TooDeep("JSON nested too deep")
    if isinstance(value, list):
        return [_clean(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {_clean(k, depth + 1): _clean(v, depth + 1) for k, v in value.items()}
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

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        """The parsed JSON body, NUL characters removed from every string; a body nested
        deeper than any this site takes is a 400 (``None`` when ``silent``)."""
        try:
            return _clean(super().get_json(force=force, silent=silent, cache=cache))
        except (RecursionError, TooDeep) as exc:
            if silent:
                return None
            raise BadRequest("JSON nested too deep") from exc


class BoundedInt(IntegerConverter):
    """``<int:…>`` in URLs, up to the largest id a database stores: beyond it, 404."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_DB_INT)
        super().__init__(url_map, *args, **kwargs)


def install_converters(app) -> None:
    """Bound ``<int:…>`` URL parts; call before any blueprint is registered."""
    app.url_map.converters["int"] = BoundedInt


def page_arg() -> int:
    """``?page=``: 1 when absent or not a number; a page no list can have is a 400."""
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        return 1
    if page > MAX_PAGE:
        abort(400)
    return max(page, 1)


def _too_large(exc):
    limit = request.max_content_length or 0
    size = _("%(n)s MB", n=f"{limit / 1024 / 1024:.0f}")
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return {"error": "too_large",
                "message": _("This is more than the site takes in one go (%(size)s). Nothing "
                             "was saved; your text is kept in this browser.", size=size)}, 413
    return render_error(413, _("This is more than the site takes in one go (%(size)s). "
                               "Nothing was saved: go back, shorten the text and send it "
                               "again.", size=size))


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
        # Broken or absurdly deep JSON is refused here too, before a form reads it as empty.
        if (body is None and request.get_data(cache=True)) or (
                body is not None and not isinstance(body, dict)):
            return {"error": "bad_request",
                    "message": _("The request could not be understood. Please go back and try "
                                 "again.")}, 400
    return None


def _make_session_permanent(_app, **_extra) -> None:
    # A permanent session ends PERMANENT_SESSION_LIFETIME after the last request instead of
    # living as long as the browser stays open (often weeks on phones).
    session.permanent = True


def _untrusted_host(exc):
    # Refused before routing, so no URL can be built here: a page without links.
    current_app.logger.warning("refused a request for host %r: not PUBLIC_URL's host and not "
                               "in ALLOWED_HOSTS", request.environ.get("HTTP_HOST"))
    public = current_app.config["PUBLIC_URL"]
    text = escape(_("This site is not served under this address. Open it at %(url)s.",
                    url="\x00"))
    link = f'<a href="{escape(public)}/">{escape(public)}</a>'
    body = (f'<!doctype html><html lang="{escape(get_locale() or "en")}"><meta charset=utf-8>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>400</title><p>{str(text).replace(chr(0), link)}</p></html>")
    return body, 400, {"Content-Type": "text/html; charset=utf-8"}


def init_app(app) -> None:
    """Install the headers, the cookie policy, the NUL-free request class, the host check and
    the trusted proxies."""
    app.request_class = CleanRequest
    app.register_error_handler(SecurityError, _untrusted_host)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    hops = app.config["PROXY_HOPS"]
    if hops:
        # Only as many X-Forwarded-* values as there are proxies of our own are believed;
        # anything a client adds in front of them is ignored.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_port=hops, x_prefix=hops)
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
