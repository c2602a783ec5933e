"""Dates in answers: the applicant's own birth date in any format, and other possible ones.

Pure like the rest of redaction: text in, positions out. Month names come from Babel's CLDR
data (every case pymorphy3 knows for the Russian ones), so "3 марта", "в марте 1990",
"March 3, 1990", "3rd of Mar 1990" and the numeric layouts are all read the same way.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from babel.dates import get_month_names

# Adult applicants: a year within this many years before today can be a birth year.
OLDEST_AGE = 80
YOUNGEST_AGE = 14


@dataclass(frozen=True)
class DateHit:
    """A date found in a text: ``own`` when it is the applicant's birth date."""

    start: int
    end: int
    own: bool


def parse_birth_date(value: str) -> date | None:
    """The birth date of an identity field (ISO ``YYYY-MM-DD``), or None if it is not one."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


@functools.cache
def _month_forms() -> dict[str, int]:
    """Every spelling of every month (lower case, no trailing dot) → its number."""
    from recruit.domain.redaction import _morph

    forms: dict[str, int] = {}
    for locale in ("ru", "en"):
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context, locale).items():
                    forms[name.lower().rstrip(".")] = number
    for number, name in get_month_names("wide", "stand-alone", "ru").items():
        for parse in _morph().parse(name):
            if "NOUN" in parse.tag:
                forms.update({f.word: number for f in parse.lexeme if "sing" in f.tag})
    forms["sept"] = 9
    return forms


@functools.cache
def _patterns() -> dict[str, re.Pattern[str]]:
    months = "|".join(sorted(map(re.escape, _month_forms()), key=len, reverse=True))
    month = rf"(?P<month>{months})\.?(?![\w])"
    year = r"(?P<year>(?:1[89]|20)\d\d)(?!\d)(?:\s*(?:г\.?\s?р\.?|году|года|год|г\.|г\b))?"
    day = r"(?<![\d\w])(?P<day>[0-3]?\d)(?:-?(?:го|е|ое|st|nd|rd|th))?"
    return {
        "numeric": re.compile(
            r"(?<![\d.,/-])(?P<a>\d{1,4})(?P<sep>\s?[./-]\s?)(?P<b>\d{1,2})(?P=sep)(?P<c>\d{2,4})"
            r"(?![\d]|[./-]\d)"),
        "day_month": re.compile(rf"{day}\s+(?:of\s+)?{month}(?:,?\s+{year})?", re.IGNORECASE),
        "month_day": re.compile(
            rf"(?<![\w]){month}\s+(?P<day>[0-3]?\d)(?:st|nd|rd|th)?(?!\d),?\s+{year}",
            re.IGNORECASE),
        "month_year": re.compile(rf"(?<![\w\d]){month}\s+{year}", re.IGNORECASE),
        "year": re.compile(r"(?<![\d\w.,/-])(?P<year>(?:19|20)\d\d)(?![\d]|[./-]\d)"
                           r"(?:\s*(?:г\.?\s?р\.?|году|года|год|г\.|г\b)(?:\s+рождения)?)?"),
    }


# Words that make a lone year a birth year: "родилась в 1997 году", "1997 г.р.", "born in 1997".
_BIRTH_CONTEXT = re.compile(
    r"родил(?:ся|ась|ись)|рожд[её]н|рождени|г\.\s?р\.|\bborn\b|\bbirth|\bb\.\s?\d|\bДР\b",
    re.IGNORECASE)
_CONTEXT_REACH = 40


def _full_year(text: str, today: date) -> int:
    value = int(text)
    if len(text) == 4:
        return value
    # Two-digit years: "95" is 1995, "03" is 2003 (nobody writes a year still to come).
    return 2000 + value if value <= today.year % 100 else 1900 + value


def _real(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _numeric_readings(m: re.Match[str], today: date) -> list[date]:
    a, b, c = m.group("a"), m.group("b"), m.group("c")
    if len(a) == 4:
        found = _real(int(a), int(b), int(c)) if len(c) <= 2 else None
        return [found] if found else []
    if len(a) > 2:
        return []
    year = _full_year(c, today)
    # Day first (Russian, European) and month first (American "07/04/1998").
    readings = [_real(year, int(b), int(a)), _real(year, int(a), int(b))]
    return [d for d in dict.fromkeys(readings) if d]


def _plausible_birth_year(year: int, today: date) -> bool:
    return today.year - OLDEST_AGE <= year <= today.year - YOUNGEST_AGE


def date_hits(text: str, *, birth: date | None, today: date) -> Iterator[DateHit]:
    """The applicant's birth date in any layout (``own``) and other dates that could be one."""
    patterns = _patterns()
    months = _month_forms()
    for m in patterns["numeric"].finditer(text):
        readings = _numeric_readings(m, today)
        if birth and birth in readings:
            yield DateHit(m.start(), m.end(), True)
        elif any(_plausible_birth_year(d.year, today) for d in readings):
            yield DateHit(m.start(), m.end(), False)
    for name in ("day_month", "month_day"):
        for m in patterns[name].finditer(text):
            month = months.get(m.group("month").lower().rstrip("."))
            day = int(m.group("day"))
            year = int(m.group("year")) if m.group("year") else None
            if month is None or not 1 <= day <= 31:
                continue
            if birth and (month, day) == (birth.month, birth.day) and year in (None, birth.year):
                yield DateHit(m.start(), m.end(), True)
            elif year and _real(year, month, day) and _plausible_birth_year(year, today):
                yield DateHit(m.start(), m.end(), False)
    if birth:
        for m in patterns["month_year"].finditer(text):
            month = months.get(m.group("month").lower().rstrip("."))
            if (month, int(m.group("year"))) == (birth.month, birth.year):
                yield DateHit(m.start(), m.end(), True)
    for m in patterns["year"].finditer(text):
        year = int(m.group("year"))
        if not _plausible_birth_year(year, today):
            continue
        window = text[max(0, m.start() - _CONTEXT_REACH): m.end() + _CONTEXT_REACH]
        if _BIRTH_CONTEXT.search(window) or re.search(r"г\.\s?р\.|рождения", m.group()):
            yield DateHit(m.start(), m.end(), bool(birth and year == birth.year))
