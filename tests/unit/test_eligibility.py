import gettext
import unicodedata
from datetime import date

import pycountry
import pytest

from recruit.domain.eligibility import (
    EAEU_CITIZENSHIPS,
    Failure,
    InvalidInput,
    Outcome,
    Rules,
    age_on,
    check,
    citizenship_choices,
    validate_birth_date,
    validate_citizenship,
)

TODAY = date(2026, 5, 20)
ADULT = date(1990, 6, 15)


@pytest.mark.parametrize(
    ("birth_date", "on", "expected"),
    [
        (date(2008, 2, 29), date(2026, 2, 28), 17),  # common year: not yet on 28 February
        (date(2008, 2, 29), date(2026, 3, 1), 18),  # … but on 1 March
        (date(2008, 2, 29), date(2028, 2, 28), 19),  # leap year: not yet on 28 February
        (date(2008, 2, 29), date(2028, 2, 29), 20),  # … but on the day itself
        (date(2008, 5, 20), date(2026, 5, 19), 17),  # day before the 18th birthday
        (date(2008, 5, 20), date(2026, 5, 20), 18),  # the 18th birthday
        (date(2008, 5, 20), date(2008, 5, 20), 0),
    ],
    ids=[
        "29feb-common-28feb",
        "29feb-common-1mar",
        "29feb-leap-28feb",
        "29feb-leap-29feb",
        "day-before-18",
        "day-of-18",
        "born-today",
    ],
)
def test_age_on(birth_date, on, expected):
    assert age_on(birth_date=birth_date, on=on) == expected


def test_age_on_rejects_a_day_before_birth():
    with pytest.raises(ValueError, match="before the birth date"):
        age_on(birth_date=date(2000, 1, 2), on=date(2000, 1, 1))


def test_check_passes_an_eligible_applicant():
    rules = Rules(acknowledgements=("documents", "office_visit"))
    outcome = check(
        rules=rules,
        birth_date=ADULT,
        citizenship="KZ",
        acknowledged={"documents", "office_visit"},
        on=TODAY,
    )
    assert outcome == Outcome(passed=True, failures=())


def test_check_passes_on_the_18th_birthday_and_fails_the_day_before():
    born = date(2008, 5, 20)
    on_birthday = check(
        rules=Rules(), birth_date=born, citizenship="RU", acknowledged=(), on=date(2026, 5, 20)
    )
    day_before = check(
        rules=Rules(), birth_date=born, citizenship="RU", acknowledged=(), on=date(2026, 5, 19)
    )
    assert on_birthday.passed
    assert day_before.failures == (Failure("too_young", {"min_age": 18, "age": 17}),)


def test_check_names_the_citizenship_rule():
    outcome = check(rules=Rules(), birth_date=ADULT, citizenship="UA", acknowledged=(), on=TODAY)
    assert not outcome.passed
    assert outcome.failures == (
        Failure("citizenship", {"citizenship": "UA", "allowed": EAEU_CITIZENSHIPS}),
    )


def test_check_accepts_a_lower_case_code():
    outcome = check(rules=Rules(), birth_date=ADULT, citizenship="by", acknowledged=(), on=TODAY)
    assert outcome.passed


def test_check_names_each_missing_acknowledgement():
    rules = Rules(acknowledgements=("documents", "office_visit"))
    outcome = check(
        rules=rules, birth_date=ADULT, citizenship="AM", acknowledged={"documents"}, on=TODAY
    )
    assert outcome.failures == (Failure("acknowledgement_missing", {"key": "office_visit"}),)


def test_check_reports_every_failure_in_a_stable_order():
    rules = Rules(acknowledgements=("documents", "office_visit"))
    outcome = check(
        rules=rules, birth_date=date(2010, 1, 1), citizenship="DE", acknowledged=(), on=TODAY
    )
    assert not outcome.passed
    assert outcome.failures == (
        Failure("too_young", {"min_age": 18, "age": 16}),
        Failure("citizenship", {"citizenship": "DE", "allowed": EAEU_CITIZENSHIPS}),
        Failure("acknowledgement_missing", {"key": "documents"}),
        Failure("acknowledgement_missing", {"key": "office_visit"}),
    )


def test_campaign_rules_may_change_age_and_citizenships():
    rules = Rules(min_age=21, citizenships=("RU",))
    outcome = check(
        rules=rules, birth_date=date(2006, 1, 1), citizenship="KG", acknowledged=(), on=TODAY
    )
    assert [f.code for f in outcome.failures] == ["too_young", "citizenship"]


@pytest.mark.parametrize("code", ["XX", "ru", "Russia"])
def test_rules_reject_codes_that_are_not_iso_3166(code):
    with pytest.raises(ValueError, match="ISO 3166-1"):
        Rules(citizenships=("RU", code))


@pytest.mark.parametrize(
    ("birth_date", "code"),
    [
        (date(2026, 5, 21), "birth_date_future"),
        (date(1899, 12, 31), "birth_date_too_early"),
    ],
)
def test_validate_birth_date_rejects_impossible_dates(birth_date, code):
    with pytest.raises(InvalidInput) as raised:
        validate_birth_date(birth_date=birth_date, today=TODAY)
    assert raised.value.code == code


@pytest.mark.parametrize("birth_date", [TODAY, date(1900, 1, 1)])
def test_validate_birth_date_accepts_the_edges(birth_date):
    validate_birth_date(birth_date=birth_date, today=TODAY)


def test_validate_citizenship_rejects_an_unknown_code():
    validate_citizenship(citizenship="AM")
    with pytest.raises(InvalidInput) as raised:
        validate_citizenship(citizenship="ZZ")
    assert raised.value.code == "citizenship_unknown"


def test_citizenship_choices_list_every_country_with_eaeu_first():
    choices = citizenship_choices(locale="en")
    codes = [code for code, _ in choices]
    assert len(codes) == len(pycountry.countries) == len(set(codes))
    assert tuple(codes[: len(EAEU_CITIZENSHIPS)]) == EAEU_CITIZENSHIPS
    rest = [
        unicodedata.normalize("NFKD", name.casefold()).encode("ascii", "ignore")
        for _, name in choices[len(EAEU_CITIZENSHIPS) :]
    ]
    assert rest == sorted(rest)


def test_citizenship_choices_use_the_russian_catalog():
    catalog = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["ru"])
    names = dict(citizenship_choices(locale="ru"))
    assert names["RU"] == catalog.gettext(pycountry.countries.get(alpha_2="RU").name)
    assert names["RU"] != "Russian Federation"
    assert names["DE"] == catalog.gettext("Germany")
    # A region-qualified locale falls back to the language's catalog.
    assert dict(citizenship_choices(locale="ru-RU"))["RU"] == names["RU"]


def test_citizenship_choices_prefer_the_common_name():
    names = dict(citizenship_choices(locale="en"))
    assert names["VN"] == "Vietnam"
    assert names["KR"] == "South Korea"


def test_citizenship_choices_sort_accented_names_with_their_letter():
    codes = [code for code, _ in citizenship_choices(locale="en")]
    # "Åland Islands" belongs among the A's, not after "Zimbabwe".
    assert codes.index("AX") < codes.index("BE")


def test_citizenship_choices_fall_back_to_english_for_an_unknown_locale():
    assert dict(citizenship_choices(locale="xx"))["RU"] == "Russian Federation"
