"""Languages: English and Russian, following the browser unless the user chose."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import flask_babel
from babel.numbers import get_decimal_symbol
from flask import current_app, has_request_context, request, session
from flask_babel import Babel, get_locale
from flask_login import current_user

babel = Babel()


def select_locale() -> str:
    """The user's choice, then the session's, then the browser's best match."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        # CLI commands and workers: the default, unless force_locale() says otherwise.
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def current_language() -> str:
    """The two-letter code of the language of this request."""
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


@lru_cache(maxsize=8)
def _decimal_symbol(language: str) -> str:
    return get_decimal_symbol(language)


def format_score(value: float) -> str:
    """A score with two decimals in the reader's language (3.25, 3,25).

    Scores lie between 1 and 5, so there is no grouping to do; this is format_decimal's
    "0.00" without parsing the pattern and the locale again for every cell of a table.
    """
    return f"{value:.2f}".replace(".", _decimal_symbol(current_language()))


def format_count(value: float) -> str:
    """A count in the reader's language (1,200 or 1 200)."""
    return flask_babel.format_decimal(value)


def init_app(app) -> None:
    """Set up Flask-Babel with our translations folder."""
    app.config.setdefault(
        "BABEL_TRANSLATION_DIRECTORIES", str(Path(__file__).parent / "translations")
    )
    # Flask-Babel also installs new-style gettext callables (_, ngettext) into Jinja.
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(
        format_date=flask_babel.format_date,
        format_datetime=flask_babel.format_datetime,
        format_decimal=flask_babel.format_decimal,
        format_currency=flask_babel.format_currency,
        format_timedelta=flask_babel.format_timedelta,
    )
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["format_score"] = format_score
