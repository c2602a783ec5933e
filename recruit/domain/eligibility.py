"""Eligibility screen: age, citizenship and acknowledgements, each failure named."""

from __future__ import annotations

import gettext
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import pycountry

# Russia and the other member states of the Eurasian Economic Union, whose citizens may be
# employed without a work permit. The order is the order of the citizenship menu.
EAEU_CITIZENSHIPS: tuple[str, ...] = ("RU", "AM", "BY", "KZ", "KG")

EARLIEST_BIRTH_DATE = date(1900, 1, 1)


class InvalidInput(ValueError):
    """Input that cannot be judged at all (as opposed to input that fails a rule)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _check_country_code(code: str) -> None:
    # pycountry matches case-insensitively, but check() compares the upper-case code.
    if code != code.upper() or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")


@dataclass(frozen=True)
class Rules:
    """A campaign's eligibility rules."""

    min_age: int = 18
    citizenships: tuple[str, ...] = EAEU_CITIZENSHIPS
    acknowledgements: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # A typo in a campaign's settings would silently reject a whole country otherwise.
        for code in self.citizenships:
            _check_country_code(code)


@dataclass(frozen=True)
class Failure:
    """One failed rule: a code for the message catalogue and the values the message needs."""

    code: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """The result of an eligibility check: passed, or every rule that failed."""

    passed: bool
    failures: tuple[Failure, ...]


def age_on(*, birth_date: date, on: date) -> int:
    """Return a person's age in full years on a given day."""
    if on < birth_date:
        raise ValueError(f"{on} is before the birth date {birth_date}")
    # Comparing (month, day) tuples makes someone born on 29 February a year older on
    # 1 March in common years, since (3, 1) > (2, 29) > (2, 28).
    before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - before_birthday


def validate_birth_date(*, birth_date: date, today: date) -> None:
    """Reject a birth date that cannot be real, before judging eligibility on it."""
    if birth_date > today:
        raise InvalidInput("birth_date_future")
    if birth_date < EARLIEST_BIRTH_DATE:
        raise InvalidInput("birth_date_too_early")


def validate_citizenship(*, citizenship: str) -> None:
    """Reject a citizenship that is not an ISO 3166-1 alpha-2 code."""
    if pycountry.countries.get(alpha_2=citizenship) is None:
        raise InvalidInput("citizenship_unknown")


def check(
    *,
    rules: Rules,
    birth_date: date,
    citizenship: str,
    acknowledged: Collection[str],
    on: date,
) -> Outcome:
    """Check an applicant against a campaign's rules, reporting every rule that fails."""
    failures: list[Failure] = []
    age = age_on(birth_date=birth_date, on=on)
    if age < rules.min_age:
        failures.append(Failure("too_young", {"min_age": rules.min_age, "age": age}))
    code = citizenship.strip().upper()
    if code not in rules.citizenships:
        failures.append(
            Failure("citizenship", {"citizenship": code, "allowed": rules.citizenships})
        )
    for key in rules.acknowledgements:
        if key not in acknowledged:
            failures.append(Failure("acknowledgement_missing", {"key": key}))
    return Outcome(passed=not failures, failures=tuple(failures))


def _sort_key(name: str) -> str:
    # Dropping accents sorts "Åland" with the A's and Russian "Ё" with "Е", as people expect.
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=16)
def _choices(locale: str) -> tuple[tuple[str, str], ...]:
    translation = gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[locale], fallback=True
    )
    names: dict[str, str] = {}
    for country in pycountry.countries:
        # The everyday name ("Vietnam", "South Korea") is what people look for in a menu;
        # pycountry only has it for a few countries, where the formal name reads oddly.
        name = getattr(country, "common_name", None) or country.name
        names[country.alpha_2] = translation.gettext(name)
    first = [(code, names[code]) for code in EAEU_CITIZENSHIPS]
    rest = sorted(
        ((code, name) for code, name in names.items() if code not in EAEU_CITIZENSHIPS),
        key=lambda item: (_sort_key(item[1]), item[0]),
    )
    return (*first, *rest)


def citizenship_choices(*, locale: str) -> list[tuple[str, str]]:
    """Return (code, localised name) for every country, EAEU states first, for a menu."""
    return list(_choices(locale.replace("-", "_")))
