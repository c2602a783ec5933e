"""Languages: English and Russian, following the browser unless the user chose."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import flask_babel
from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.dates import get_timezone_location
from babel.numbers import format_currency as babel_format_currency
from babel.numbers import get_decimal_symbol
from flask import current_app, has_request_context, request, session
from flask_babel import Babel, get_locale
from flask_login import current_user

from recruit.clock import end_of_day

babel = Babel()
_LETTER_THEN_DIGIT = re.compile(r"([^\W\d_])(\d)")
_DIGIT_THEN_LETTER = re.compile(r"(\d)([^\W\d_])")


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


def score_formatter() -> Callable[[float | None], str]:
    """``format_score`` with the reader's decimal sign looked up once: for long tables."""
    symbol = _decimal_symbol(current_language())

    def formatted(value: float | None) -> str:
        return "—" if value is None else f"{value:.2f}".replace(".", symbol)

    return formatted


@lru_cache(maxsize=8)
def _money_pattern(language: str) -> str:
    # The locale's own currency pattern (symbol before or after, spacing) without cents:
    # salaries are whole amounts.
    pattern = Locale.parse(language).currency_formats["standard"].pattern
    return pattern.split(";")[0].replace(".00", "")


def format_money(amount: float, currency: str, *, language: str | None = None) -> str:
    """An amount of money as the reader's language writes it: 36 000 ₽, RUB 36,000."""
    language = language or current_language()
    text = babel_format_currency(amount, currency, format=_money_pattern(language),
                                 locale=language, currency_digits=False)
    # CLDR's currency spacing, which Babel leaves out: a symbol made of letters ("RUB") is
    # kept apart from the digits by a no-break space (RUB 36,000, not RUB36,000).
    return _LETTER_THEN_DIGIT.sub("\\1\u00a0\\2", _DIGIT_THEN_LETTER.sub("\\1\u00a0\\2", text))


def company_name(language: str | None = None) -> str:
    """The company's name in the reader's language (COMPANY_NAME_RU for Russian)."""
    language = language or current_language()
    config = current_app.config
    return (config.get("COMPANY_NAME_RU") if language == "ru" else None) or config["COMPANY_NAME"]


def company_address(language: str | None = None) -> str:
    """The company's address in the reader's language (COMPANY_ADDRESS_RU for Russian)."""
    language = language or current_language()
    config = current_app.config
    return ((config.get("COMPANY_ADDRESS_RU") if language == "ru" else None)
            or config["COMPANY_ADDRESS"])


def _zone(zone: str | None) -> ZoneInfo:
    return ZoneInfo(zone or current_app.config["BABEL_DEFAULT_TIMEZONE"])


def format_day(value: date | datetime, zone: str | None = None) -> str:
    """A day, the one way the reader's language writes it (31 December 2026, 31 декабря
    2026 г.); a moment is first seen in ``zone`` (the site's zone when not given)."""
    if isinstance(value, datetime):
        value = value.astimezone(_zone(zone)).date()
    return babel_format_date(value, format="long", locale=current_language())


def zone_label(zone: str | None = None, *, at: datetime | None = None) -> str:
    """A time zone as a reader recognises it: its city and offset (Москва, GMT+03:00)."""
    tz = _zone(zone)
    moment = (at or datetime.now(UTC)).astimezone(tz)
    language = current_language()
    city = get_timezone_location(tz, locale=language, return_city=True)
    offset = babel_format_time(moment, "ZZZZ", tzinfo=tz, locale=language)
    return f"{city}, {offset}"


def format_moment(value: datetime, zone: str | None = None) -> str:
    """A moment with its time zone, so a deadline is never ambiguous:
    31 December 2026, 11:59 PM (Moscow, GMT+03:00)."""
    language = current_language()
    tz = _zone(zone)
    day = babel_format_date(value.astimezone(tz).date(), format="long", locale=language)
    clock = babel_format_time(value, format="short", tzinfo=tz, locale=language)
    return f"{day}, {clock} ({zone_label(zone, at=value)})"


def format_last_day(day: date, zone: str | None = None) -> str:
    """A date given as a deadline, which lasts to the end of that day in ``zone``."""
    return format_moment(end_of_day(day, zone=zone or current_app.config[
        "BABEL_DEFAULT_TIMEZONE"]), zone)


def format_clock(value: datetime, zone: str | None = None) -> str:
    """The time of day only (23:59, 11:59 PM), for "saved at" notes that are not deadlines."""
    return babel_format_time(value, format="short", tzinfo=_zone(zone), locale=current_language())


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
    app.jinja_env.globals.update(current_language=current_language, format_score=format_score,
                                 score_formatter=score_formatter, format_money=format_money,
                                 company_name=company_name, company_address=company_address,
                                 format_day=format_day, format_moment=format_moment,
                                 format_last_day=format_last_day, format_clock=format_clock,
                                 zone_label=zone_label)
