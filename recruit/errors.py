"""Error pages in the user's language, shared by the web layer and the rate limiter."""

from __future__ import annotations

from flask import render_template
from flask_babel import lazy_gettext as _l

ERROR_TEXT = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try "
                                "again.")),
    403: (_l("Access denied"), _l("Your account is not allowed to open this page.")),
    404: (_l("Page not found"), _l("There is nothing at this address. It may have moved or "
                                   "never existed.")),
    405: (_l("Method not allowed"), _l("This address does not accept that kind of request.")),
    413: (_l("Too large"), _l("This is more than the site takes in one go. Nothing was saved.")),
    429: (_l("Too many requests"), _l("You are doing that too often. Please wait a minute and "
                                      "try again.")),
    500: (_l("Something went wrong"), _l("An unexpected error happened on our side. Nothing you "
                                         "saved before was lost; please try again.")),
}


def render_error(code: int, message: str | None = None):
    """An error page in the user's language."""
    title, text = ERROR_TEXT.get(code, ERROR_TEXT[500])
    return render_template("error.html", code=code, title=title, text=message or text), code
