"""Redaction of identifying data in answers before blind review."""

import itertools
import re
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recruit.domain.redaction import (
    KINDS,
    MARK_CLOSE,
    MARK_OPEN,
    Redaction,
    Span,
    apply_spans,
    localise_markers,
    looks_signed,
    needs_custodian_check,
    redact,
    split_markers,
)

ALEKSEY = {"first": "Алексей", "middle": "Игоревич", "last": "Смирнов"}
YULIA = {"first": "Юлия", "middle": "Сергеевна", "last": "Кузнецова"}
IVAN = {"first": "Иван", "last": "Иванов"}
FULL = {
    **ALEKSEY,
    "email": "a.smirnov92@mail.ru",
    "phone": "+7 912 345-67-89",
    "city": "Санкт-Петербург",
    "vk": "https://vk.com/alexsmirnov",
    "handle": "@lesha_sm",
}


def kinds_in(text, *, identity=None):
    """The kinds of the spans found in ``text``."""
    return [s.kind for s in redact(text, identity=identity).spans]


def assert_hidden(secret, text, *, kind, identity=None):
    """``secret`` inside ``text`` disappears and its place is marked as ``kind``."""
    result = redact(text, identity=identity)
    assert secret not in result.text
    assert f"{MARK_OPEN}{kind}{MARK_CLOSE}" in result.text
    assert apply_spans(text, result.spans) == result.text


@pytest.mark.parametrize(
    "email",
    [
        pytest.param("ivan.petrov@mail.ru", id="plain"),
        pytest.param("Ivan_P+jobs@yandex.kz", id="plus-and-underscore"),
        pytest.param("name (at) host (dot) com", id="round-brackets"),
        pytest.param("name [at] host [dot] ru", id="square-brackets"),
        pytest.param("name собака host точка ru", id="russian-words"),
        pytest.param("name at host dot com", id="english-words"),
        pytest.param("name (собака) host.ru", id="bracketed-sobaka-real-dot"),
        pytest.param("name @ gmail . com", id="spaced-at"),
        pytest.param("name@host dot com", id="real-at-word-dot"),
        pytest.param("пётр@почта.рф", id="cyrillic-domain"),
    ],
)
def test_email_addresses_are_redacted_in_every_spelling(email):
    text = f"Пишите мне: {email}, отвечу быстро."
    result = redact(text)
    assert result.text == f"Пишите мне: {MARK_OPEN}email{MARK_CLOSE}, отвечу быстро."


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Look at vk.com for the rules.", id="english-at-before-domain"),
        pytest.param("Моя собака любит гулять.", id="sobaka-is-a-dog"),
        pytest.param("I looked at the site, dot by dot.", id="at-and-dot-words"),
    ],
)
def test_ordinary_prose_is_not_taken_for_an_email(text):
    assert "email" not in kinds_in(text)


@pytest.mark.parametrize(
    "phone",
    [
        pytest.param("8 (912) 345-67-89", id="ru-trunk-8"),
        pytest.param("+7 912 345 67 89", id="ru-international"),
        pytest.param("89123456789", id="ru-digits-only"),
        pytest.param("+375 29 123-45-67", id="by"),
        pytest.param("8 029 123 45 67", id="by-national"),
        pytest.param("+7 701 234 5678", id="kz"),
        pytest.param("+374 91 234567", id="am"),
        pytest.param("+996 555 123 456", id="kg"),
        pytest.param("0555 123 456", id="kg-national"),
        pytest.param("+44 20 7946 0958", id="other-country-with-plus"),
        pytest.param("+7 912 345 67 890", id="mistyped-with-plus"),
    ],
)
def test_phone_numbers_of_every_eaeu_country_are_redacted(phone):
    text = f"Мой номер {phone} — звоните."
    assert redact(text).text == f"Мой номер {MARK_OPEN}phone{MARK_CLOSE} — звоните."


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Я работаю в поддержке с 2023 году.", id="year"),
        pytest.param("Оценил бы на 3 из 5.", id="score"),
        pytest.param("Зарплата 36 000 рублей.", id="price"),
        pytest.param("Период 2021-2023, 12.05.2023.", id="date-range"),
        pytest.param("Звоните на горячую линию 8 800 555-35-35.", id="toll-free-company-line"),
    ],
)
def test_ordinary_numbers_are_kept(text):
    result = redact(text)
    assert result.spans == ()
    assert result.text == text


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        pytest.param("vk.com/ivan_petrov", "link", id="vk-bare"),
        pytest.param("https://vk.com/id12345", "link", id="vk-id"),
        pytest.param("https://m.vk.com/ivan", "link", id="vk-mobile"),
        pytest.param("vk.ru/ivan", "link", id="vk-ru"),
        pytest.param("t.me/ivan_petrov", "link", id="telegram"),
        pytest.param("https://telegram.me/ivan", "link", id="telegram-me"),
        pytest.param("instagram.com/ivan.petrov", "link", id="instagram"),
        pytest.param("https://ok.ru/profile/5712345", "link", id="ok"),
        pytest.param("https://www.facebook.com/ivan.petrov", "link", id="facebook"),
        pytest.param("https://example.org/users/ivan", "link", id="generic-profile-path"),
        pytest.param("https://example.org/@ivan", "link", id="generic-at-path"),
        pytest.param("ivanpetrov.livejournal.com", "link", id="personal-subdomain"),
        pytest.param("@ivan_petrov", "handle", id="handle"),
        pytest.param("@Ivan.Petrov", "handle", id="handle-with-dot"),
    ],
)
def test_profile_links_and_handles_are_redacted(text, kind):
    result = redact(f"Мой профиль: {text}.")
    assert result.text == f"Мой профиль: {MARK_OPEN}{kind}{MARK_CLOSE}."


def test_an_email_is_not_also_taken_for_a_handle():
    result = redact("почта ivan@mail.ru")
    assert [s.kind for s in result.spans] == ["email"]


def test_a_url_without_a_profile_path_is_kept():
    text = "Правила: https://example.org/about и https://vk.com"
    assert redact(text).text == text


@pytest.mark.parametrize(
    "form",
    [
        *("Алексей", "Алексея", "Алексею", "Алексеем", "Алексее"),
        *("Смирнов", "Смирнова", "Смирнову", "Смирновым", "Смирнове", "Смирновой", "Смирновых"),
        *("Игоревич", "Игоревича", "Игоревичу", "Игоревичем"),
    ],
)
def test_own_names_are_redacted_in_every_case(form):
    assert_hidden(form, f"Письмо для {form} пришло.", kind="name", identity=ALEKSEY)


@pytest.mark.parametrize(
    "form",
    [
        *("Юлия", "Юлии", "Юлию", "Юлией"),
        *("Кузнецова", "Кузнецовой", "Кузнецову", "Кузнецов", "Кузнецовых"),
        *("Сергеевна", "Сергеевны", "Сергеевне", "Сергеевной"),
    ],
)
def test_a_womans_names_are_redacted_in_every_case(form):
    assert_hidden(form, f"Речь о {form} здесь.", kind="name", identity=YULIA)


@pytest.mark.parametrize(
    ("surname", "forms"),
    [
        pytest.param("Ксюндеров", ["Ксюндерова", "Ксюндеровым", "Ксюндеровых"], id="ov"),
        pytest.param("Ксюндерова", ["Ксюндеров", "Ксюндеровой", "Ксюндерову"], id="ova"),
        pytest.param("Пшебжинский", ["Пшебжинского", "Пшебжинская", "Пшебжинской"], id="sky"),
        pytest.param("Кшижевич", ["Кшижевича", "Кшижевичем"], id="ich"),
        pytest.param("Гарсиа", ["Гарсиа"], id="indeclinable"),
        pytest.param("Черных", ["Черных"], id="indeclinable-ykh"),
    ],
)
def test_surnames_unknown_to_the_dictionary_get_standard_endings(surname, forms):
    for form in forms:
        assert_hidden(form, f"Это {form}.", kind="name", identity={"last": surname})


@pytest.mark.parametrize(
    ("identity", "latin"),
    [
        pytest.param(ALEKSEY, "Aleksey", id="aleksey"),
        pytest.param(ALEKSEY, "Alexei", id="alexei"),
        pytest.param(ALEKSEY, "Alexey", id="alexey"),
        pytest.param(ALEKSEY, "Aleksei", id="icao"),
        pytest.param(ALEKSEY, "Smirnov", id="smirnov"),
        pytest.param(ALEKSEY, "SMIRNOV", id="upper-latin"),
        pytest.param(ALEKSEY, "Igorevich", id="patronymic"),
        pytest.param(YULIA, "Yulia", id="yulia"),
        pytest.param(YULIA, "Yuliya", id="yuliya"),
        pytest.param(YULIA, "Iuliia", id="iuliia"),
        pytest.param(YULIA, "Julia", id="julia"),
        pytest.param(YULIA, "Kuznetsova", id="kuznetsova"),
        pytest.param({"last": "Щукин"}, "Shchukin", id="shchukin"),
        pytest.param({"last": "Щукин"}, "Schukin", id="schukin"),
    ],
)
def test_own_names_are_redacted_in_latin_transliteration(identity, latin):
    assert_hidden(latin, f"Signed, {latin}, support.", kind="name", identity=identity)


@pytest.mark.parametrize("spelling", ["СМИРНОВ", "смирнов", "сМиРнОв", "АЛЕКСЕЮ", "алексеем"])
def test_own_names_are_redacted_in_any_capitalisation(spelling):
    assert_hidden(spelling, f"Это {spelling} писал.", kind="name", identity=ALEKSEY)


@pytest.mark.parametrize(
    ("identity", "text"),
    [
        pytest.param(IVAN, "Коллега Иванчиков помог.", id="name-inside-longer-word"),
        pytest.param(IVAN, "Жили в Ивановке.", id="village-is-no-form-of-surname"),
        pytest.param(ALEKSEY, "Стоял смирно у Алексеевского сада.", id="related-words"),
        pytest.param(YULIA, "Кузнечик прыгал в июле.", id="similar-prefix"),
    ],
)
def test_words_that_merely_contain_a_name_are_kept(identity, text):
    result = redact(text, identity=identity)
    assert result.text == text


def test_a_first_name_that_is_also_a_common_noun_is_redacted_all_the_same():
    result = redact("Моя вера в людей крепка. Вера Иванова", identity={"first": "Вера"})
    assert result.text.count(f"{MARK_OPEN}name{MARK_CLOSE}") == 2


def test_names_are_not_redacted_without_an_identity():
    text = "Меня зовут Алексей Смирнов."
    assert redact(text).text == text


def test_initials_next_to_a_redacted_name_go_with_it():
    result = redact("С уважением, А. И. Смирнов", identity=ALEKSEY)
    assert result.text == f"С уважением, {MARK_OPEN}name{MARK_CLOSE} {MARK_OPEN}name{MARK_CLOSE}"


@pytest.mark.parametrize(
    "form",
    [
        "Санкт-Петербург",
        "Санкт-Петербурге",
        "Петербурга",
        "Питере",
        "СПб",
        "St. Petersburg",
        "Sankt-Peterburg",
    ],
)
def test_own_city_is_redacted_in_every_case_and_common_name(form):
    assert_hidden(
        form, f"Я живу в {form} давно.", kind="city", identity={"city": "Санкт-Петербург"}
    )


def test_a_two_word_city_is_redacted_as_one_span():
    result = redact("Родом из Нижнего Новгорода.", identity={"city": "Нижний Новгород"})
    assert result.text == f"Родом из {MARK_OPEN}city{MARK_CLOSE}."


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        pytest.param("a.smirnov92 (собака) mail ru", "email", id="email-missing-dot"),
        pytest.param("ящик a.smirnov92 на мейле", "email", id="mailbox-name-alone"),
        pytest.param("9 1 2 - 3 4 5 - 6 7 - 8 9", "phone", id="phone-spaced-digits"),
        pytest.param("912.345.67.89", "phone", id="phone-with-dots"),
        pytest.param("ищите alexsmirnov в вк", "handle", id="vk-name-alone"),
        pytest.param("телега lesha_sm", "handle", id="handle-without-at"),
    ],
)
def test_own_contacts_are_redacted_even_when_written_oddly(text, kind):
    result = redact(text, identity=FULL)
    assert kind in [s.kind for s in result.spans]
    assert not re.search(r"smirnov92|lesha_sm|alexsmirnov|67.?8", result.text)


def test_unknown_identity_fields_are_refused():
    with pytest.raises(ValueError, match="surname"):
        redact("текст", identity={"surname": "Смирнов"})


def test_spans_are_positions_in_the_original_text():
    text = "Пишите ivan@mail.ru или звоните +7 912 345 67 89"
    result = redact(text)
    assert [text[s.start : s.end] for s in result.spans] == ["ivan@mail.ru", "+7 912 345 67 89"]
    assert result.to_json() == [
        {"kind": "email", "start": 7, "end": 19},
        {"kind": "phone", "start": 32, "end": 48},
    ]


def test_apply_spans_merges_overlapping_spans_of_a_hand_check():
    spans = [Span("name", 0, 4), Span("email", 2, 8), Span("phone", 10, 12)]
    assert apply_spans("abcdefghijklmn", spans) == "⟦name⟧ij⟦phone⟧mn"


def test_marker_brackets_typed_by_an_applicant_are_neutralised():
    result = redact("Смотрите ⟦email⟧ тут")
    assert result.text == "Смотрите [email] тут"
    assert split_markers(result.text) == [(result.text, None)]


def test_spans_reject_unknown_kinds_and_empty_ranges():
    with pytest.raises(ValueError, match="kind"):
        Span("secret", 0, 1)
    with pytest.raises(ValueError, match="empty"):
        Span("name", 3, 3)


def test_markers_can_be_localised_and_split_for_templates():
    redacted = apply_spans("Иван, ivan@mail.ru!", [Span("name", 0, 4), Span("email", 6, 18)])
    labels = {"name": "имя", "email": "почта"}
    assert localise_markers(redacted, label=labels.__getitem__) == "имя, почта!"
    assert split_markers(redacted) == [("", "name"), (", ", None), ("", "email"), ("!", None)]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Ответ по делу.\n\nС уважением,\nИван Петров", id="ru-closing-name"),
        pytest.param("Ответ.\nС уважением, Иван", id="closing-and-name-one-line"),
        pytest.param("Answer.\n\nBest regards,\nJohn Smith", id="best-regards"),
        pytest.param("Answer.\nCheers,\nAnna", id="cheers"),
        pytest.param("Ответ.\n--\nИ. Петров", id="dashes"),
        pytest.param("Ответ.\nСпасибо!\nМария", id="thanks"),
        pytest.param("Ответ на вопрос.\nИ. Петров", id="initial-and-surname"),
        pytest.param("Ответ на вопрос.\nИван П.", id="name-and-initial"),
        pytest.param("Ответ на вопрос.\nВсего доброго, Оля", id="vsego-dobrogo"),
        pytest.param("Ответ на вопрос.\nАлексей", id="bare-first-name"),
    ],
)
def test_signed_answers_are_recognised(text):
    assert looks_signed(text)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("Я бы извинился и предложил компенсацию.", id="one-sentence"),
        pytest.param("Ответ.\nС уважением,", id="closing-without-name"),
        pytest.param("Ответ.\nСпасибо!\nХорошего дня", id="thanks-then-wish"),
        pytest.param("Ответ.\nСпасибо Вам", id="polite-you"),
        pytest.param("Первый пункт.\nВторой пункт про Москву.", id="ordinary-last-line"),
        pytest.param("Шаги:\nПроверить заказ", id="capitalised-step"),
    ],
)
def test_unsigned_answers_are_not_taken_for_signed(text):
    assert not looks_signed(text)


def test_a_last_line_with_the_applicants_own_name_is_a_signature():
    assert looks_signed("Ответ.\nЛёша Смирнов", identity={"first": "Лёша", "last": "Смирнов"})


@pytest.mark.parametrize(
    ("original", "identity", "expected"),
    [
        pytest.param("Простой ответ без подписи.", None, False, id="clean"),
        pytest.param("Пишите ivan@mail.ru", None, True, id="span-found"),
        pytest.param("Ответ.\nС уважением,\nМаша Петрова", None, True, id="signed"),
    ],
)
def test_custodian_checks_answers_with_spans_or_a_signature(original, identity, expected):
    redaction = redact(original, identity=identity)
    assert needs_custodian_check(redaction, original=original, identity=identity) is expected


def test_redaction_is_a_frozen_value():
    result = redact("ivan@mail.ru")
    assert isinstance(result, Redaction)
    with pytest.raises(AttributeError):
        result.text = "leak"  # type: ignore[misc]
    assert set(KINDS) >= {s.kind for s in result.spans}


# --- property: inserted contacts never survive, and spans rebuild the text --------------

_PROSE = st.text(
    alphabet=string.ascii_letters + "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГД ,.!?;:\n()-",
    max_size=40,
)
_EMAILS = st.builds(
    "{}@{}.{}".format,
    st.from_regex(r"[a-z][a-z0-9._]{0,10}[a-z0-9]", fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9-]{0,8}[a-z0-9]", fullmatch=True),
    st.sampled_from(["ru", "com", "by", "kz", "am", "kg", "рф"]),
)
_PHONE_TEMPLATES = (
    "+7 912 {a} {b} {c}",
    "8 (916) {a}-{b}-{c}",
    "+375 29 {a}-{b}-{c}",
    "+7 701 {a} {b}{c}",
    "+374 91 {b}{c}{b}",
    "+996 555 {b}{c} {b}",
)
_PHONES = st.builds(
    lambda template, a, b, c: template.format(a=a, b=b, c=c),
    st.sampled_from(_PHONE_TEMPLATES),
    st.from_regex(r"[2-8][0-9]{2}", fullmatch=True),
    st.from_regex(r"[0-9]{2}", fullmatch=True),
    st.from_regex(r"[0-9]{2}", fullmatch=True),
)


@settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    pieces=st.lists(st.tuples(_PROSE, st.one_of(_EMAILS, _PHONES)), min_size=1, max_size=4),
    tail=_PROSE,
)
def test_inserted_contacts_never_survive_and_spans_round_trip(pieces, tail):
    text = "".join(f"{prose} {secret} " for prose, secret in pieces) + tail
    result = redact(text)
    for _prose, secret in pieces:
        assert secret not in result.text
    assert apply_spans(text, result.spans) == result.text
    ordered = sorted(result.spans, key=lambda s: s.start)
    assert list(result.spans) == ordered
    assert all(a.end <= b.start for a, b in itertools.pairwise(ordered))


# --- Redaction II: dates, spelled-out addresses, familiar names, quasi-identifiers ----------

from datetime import date  # noqa: E402

from recruit.domain.redaction import _profile  # noqa: E402

TODAY = date(2026, 11, 30)
BORN = {**ALEKSEY, "birth_date": "1995-06-05", "email": "a.smirnov92@mail.ru"}


def spans_of(text, identity=None):
    """(kind, covered text, flag) of every span."""
    return [(s.kind, text[s.start:s.end], s.flag)
            for s in redact(text, identity=identity, today=TODAY).spans]


@pytest.mark.parametrize("written", [
    "05.06.1995", "5.6.1995", "1995-06-05", "05/06/1995", "06/05/1995", "05.06.95",
    "5 июня 1995 года", "5-го июня 1995 г.", "5 июня", "June 5, 1995", "5th of June 1995",
    "5 Jun 1995", "июне 1995",
])
def test_the_applicants_birth_date_is_hidden_in_every_layout(written):
    assert spans_of(f"Я родился {written}, это правда.", BORN) == [("date", written, False)]


@pytest.mark.parametrize("text, year", [
    pytest.param("Я родилась в 1995 году.", "1995 году", id="ru-year"),
    pytest.param("1995 г.р., опыт есть.", "1995 г.р.", id="ru-gr"),
    pytest.param("I was born in 1995.", "1995", id="en"),
])
def test_the_applicants_birth_year_is_hidden_where_it_is_a_birth_year(text, year):
    assert spans_of(text, BORN) == [("date", year, False)]


def test_another_possible_birth_date_is_flagged_not_decided():
    assert spans_of("Мой брат родился 12.03.1990.", BORN) == [("date", "12.03.1990", True)]


@pytest.mark.parametrize("text", [
    "Заказ от 12.05.2023 пришёл вовремя.", "3 марта мы запустили акцию.",
    "Курьер приедет 14.12 с 10:00 до 14:00.", "В 2019 году открыли склад.",
])
def test_ordinary_dates_are_kept(text):
    assert spans_of(text, BORN) == []


def test_an_unreadable_birth_date_in_a_profile_is_ignored():
    assert _profile({"birth_date": "вчера"}).birth is None


@pytest.mark.parametrize("written", [
    "ivan.petrov at gmail dot com", "ivan.petrov на gmail.com", "ivan.petrov в yandex.ru",
    "ivan . petrov @ mail . ru", "ivan[at]mail[dot]ru", "ivan (собака) yandex (точка) ru",
    "ivan собачка mail.ru", "ivan точка petrov собака mail точка ru", "ivan_at_mail_dot_ru",
])
def test_addresses_spelled_out_in_words_are_hidden(written):
    assert spans_of(f"Пишите: {written}, жду.") == [("email", written, False)]


@pytest.mark.parametrize("text", ["Пишите на mail.ru в поддержку.", "Look at gmail help.",
                                  "Я был в Google на практике."])
def test_prepositions_alone_make_no_address(text):
    assert spans_of(text) == []


@pytest.mark.parametrize("written, fragment", [
    pytest.param("a.smirnov92 собака мейл точка ру", "a.smirnov92 собака мейл точка ру",
                 id="cyrillic-domain"),
    pytest.param("ищите smirnov везде", "smirnov", id="part-of-five-letters"),
    pytest.param("ящик a.smirnov92 и всё", "a.smirnov92", id="mailbox-alone"),
])
def test_fragments_of_the_applicants_own_address_are_hidden(written, fragment):
    assert ("email", fragment, False) in spans_of(written, BORN)


@pytest.mark.parametrize("first, forms", [
    pytest.param("Анна", ["Аня", "Ане", "Анечкой", "Нюра", "Нюрой", "Anya"], id="anna"),
    pytest.param("Александр", ["Саша", "Сашей", "Шура", "Шуре", "Санёк", "Санька", "Sasha",
                               "Shura"], id="aleksandr"),
    pytest.param("Евгения", ["Женя", "Жене", "Женей", "Zhenya"], id="evgenia"),
])
def test_familiar_forms_of_the_first_name_are_hidden_in_every_case(first, forms):
    for form in forms:
        assert spans_of(f"Зовите меня {form}, так проще.", {"first": first}) == [
            ("name", form, False)], form


def test_familiar_forms_of_another_name_are_kept():
    assert spans_of("Передайте Саше привет.", {"first": "Анна"}) == []


@pytest.mark.parametrize("text, kind, found", [
    ("Коротко: мне 23 года, люблю людей.", "age", "мне 23 года"),
    ("Коротко: I am 23 years old.", "age", "I am 23 years old"),
    ("Я 23-летний оператор.", "age", "23-летний"),
    ("Окончила гимназию №3 в Твери.", "affiliation", "гимназию №3 в Твери"),
    ("Работаю в компании «Вектор» в Казани.", "affiliation",
     "Работаю в компании «Вектор» в Казани"),
    ("Живу: ул. Ленина, д. 5, кв. 12.", "address", "ул. Ленина, д. 5, кв. 12"),
    ("Адрес 15 Baker Street, London.", "address", "15 Baker Street"),
])
def test_quasi_identifiers_are_flagged_for_the_custodian(text, kind, found):
    assert spans_of(text) == [(kind, found, True)]


@pytest.mark.parametrize("text", ["Мне 20 минут хватит.", "I am 100% sure.",
                                  "Он учился в школе.", "На улице было холодно."])
def test_counted_things_and_bare_places_are_not_quasi_identifiers(text):
    assert spans_of(text) == []


def test_flags_are_hidden_until_decided_and_survive_a_round_trip():
    result = redact("Мне 23 года.", today=TODAY)
    assert result.text == f"{MARK_OPEN}age{MARK_CLOSE}."
    assert result.to_json() == [{"kind": "age", "start": 0, "end": 11, "flag": True}]
    assert Span.from_json(result.to_json()[0]) == result.spans[0]


def test_a_certain_span_inside_a_suggestion_makes_the_whole_stretch_certain():
    merged = apply_spans("abcdef", [Span("address", 0, 6, flag=True), Span("name", 1, 3)])
    assert merged == f"{MARK_OPEN}address{MARK_CLOSE}"
    result = redact("Живу: ул. Смирнова, д. 5.", identity={"last": "Смирнов"}, today=TODAY)
    assert [s.flag for s in result.spans] == [False]


def test_an_identitys_patterns_are_built_once():
    assert _profile(dict(BORN)) is _profile(dict(BORN))
