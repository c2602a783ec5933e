"""THE leak test: no reviewer and no coordinator but the custodian ever sees who a candidate is.

It builds a campaign of applicants with distinctive identities (sealed in the vault), runs
their answers through redaction, every stage, reviews, decisions and offers, and then, as
each reviewer and each coordinator who is not the custodian:

* requests every GET route of ``app.url_map`` with every real value of every URL parameter
  (the values are derived from the database by parameter name, so a new route is covered
  without editing this file),
* follows every same-site link found on the pages, breadth first,
* reads every download (CSV, PDF decoded to text, JSON, ZIP members) and every header,

and reads every e-mail sent to staff. Nowhere may an applicant's name in any case form
(also transliterated), e-mail, phone number, handle or birth date appear. A positive
control proves the detector finds them where they are allowed: on the custodian's reveal.
"""

from __future__ import annotations

import html
import io
import random
import re
import zipfile
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import unquote, urljoin, urlsplit

import iuliia
import phonenumbers
import pymorphy3
import pytest
import sqlalchemy as sa
from babel.dates import format_date
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import BuildError

from bench.integrity_corpus import independent_answer
from recruit import access, create_app
from recruit.db import Base, make_engine, utcnow
from recruit.domain import calibration, custody, intake, notify, tracks
from recruit.domain.given_names import familiar_forms
from recruit.migrate import upgrade
from recruit.models import (
    Answer,
    CampaignReviewer,
    Candidacy,
    Criterion,
    CriterionScore,
    Decision,
    EligibilityCheck,
    JobRole,
    Offer,
    OutboxMessage,
    Review,
    ReviewAssignment,
    Role,
    Submission,
    WaitlistEntry,
)
from recruit.vault import store_identity
from tests.conftest import Client, app_config
from tests.factories import make_user

SEED = 20260305
MAX_PAGES_PER_VIEWER = 6000
# The crawl must really look at something: pages answered with 200, over all viewers.
MIN_PAGES_SEEN = 150
# PDFs rendered for real per endpoint; the rest are checked through their HTML source.
PDFS_RENDERED_PER_ENDPOINT = 2

# -- distinctive identities ------------------------------------------------------------------

MALE_FIRST = ["Евлампий", "Акакий", "Онуфрий", "Пафнутий", "Агафон", "Ермолай", "Фалалей",
              "Варфоломей", "Мстислав", "Ипатий", "Феофан", "Порфирий", "Ксенофонт", "Евграф",
              "Никодим", "Вонифатий", "Аристарх", "Трифон", "Савватий", "Парамон", "Филимон",
              "Касьян", "Елисей", "Потап", "Мефодий", "Нифонт", "Пантелей", "Корнилий"]
FEMALE_FIRST = ["Евпраксия", "Агриппина", "Феврония", "Пелагея", "Ефросинья", "Аполлинария",
                "Глафира", "Серафима", "Феодосия", "Акулина", "Прасковья", "Евдокия",
                "Гликерия", "Ираида", "Таисия", "Домника", "Капитолина", "Леокадия",
                "Ариадна", "Милица", "Аглая", "Стефанида", "Василиса", "Ульяна", "Параскева",
                "Епистима", "Анисия", "Голиндуха"]
# Fathers' names, as (masculine, feminine) patronymics.
PATRONYMICS = [("Онуфриевич", "Онуфриевна"), ("Пафнутьевич", "Пафнутьевна"),
               ("Ермолаевич", "Ермолаевна"), ("Варфоломеевич", "Варфоломеевна"),
               ("Феофанович", "Феофановна"), ("Никодимович", "Никодимовна"),
               ("Аристархович", "Аристарховна"), ("Трифонович", "Трифоновна"),
               ("Парамонович", "Парамоновна"), ("Филимонович", "Филимоновна"),
               ("Потапович", "Потаповна"), ("Касьянович", "Касьяновна"),
               ("Евграфович", "Евграфовна"), ("Агафонович", "Агафоновна")]
# Masculine forms; the feminine is derived.
SURNAMES = ["Зюзюкин", "Пупырышкин", "Трясогузкин", "Мухоморов", "Кочерыжкин", "Завирухин",
            "Вертихвостов", "Сковородкин", "Шишигин", "Охлобыстин", "Толоконников",
            "Кривошеин", "Переплюев", "Задунайский", "Ухудшанский", "Чебурашкин",
            "Балалайкин", "Барабашкин", "Затейкин", "Непоседов", "Кукушечкин", "Свистунов",
            "Щекотихин", "Ватрушкин", "Бубенцов", "Колокольцев", "Тарабаркин", "Закорючкин",
            "Загогулин", "Финтифлюшкин", "Ерундаев", "Кракозябрин", "Шпингалетов",
            "Тыковкин", "Карамелькин", "Кувшинкин", "Одуванчиков", "Репейников",
            "Чертополохов", "Будильников", "Табуреткин", "Утюгов", "Сундуков", "Комодов",
            "Бутербродов", "Ежевикин", "Брусникин", "Морошкин", "Облепихин", "Крыжовников",
            "Земляникин", "Смородинов", "Вышеградский", "Голопупенко", "Непейвода",
            "Сорокопуденко", "Загребельский", "Пустозвонов"]
CITIES = ["Санкт-Петербург", "Казань", "Минск", "Алматы", "Ереван", "Бишкек", "Тверь",
          "Гомель", "Караганда", "Гюмри", "Ош", "Вологда"]
DOMAINS = ["mail.ru", "yandex.ru", "gmail.com", "inbox.kz", "tut.by", "mail.am", "rambler.ru"]
# Phone layouts per citizenship; X is a random digit.
PHONE_LAYOUTS = {
    "RU": ["+7 9XX XXX-XX-XX", "8 (9XX) XXX XX XX", "+7(9XX)XXXXXXX"],
    "BY": ["+375 29 XXX-XX-XX", "+375 (33) XXX XX XX"],
    "KZ": ["+7 70X XXX XXXX", "8 777 XXX XX XX"],
    "AM": ["+374 91 XXXXXX", "+374 (77) XX-XX-XX"],
    "KG": ["+996 555 XXX XXX", "+996 (700) XX-XX-XX"],
}
CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct")


def _decline_first(word: str, female: bool, case: str) -> str:
    i = CASES.index(case)
    if female:
        if word.endswith("ия"):
            return word[:-2] + ("ия", "ии", "ии", "ию", "ией", "ии")[i]
        if word.endswith("я"):
            return word[:-1] + ("я", "и", "е", "ю", "ей", "е")[i]
        soft = word[-2] in "гкхжшчщ"
        hushing = word[-2] in "жшчщц"
        return word[:-1] + ("а", "и" if soft else "ы", "е", "у", "ей" if hushing else "ой",
                            "е")[i]
    if word.endswith("ий"):
        return word[:-2] + ("ий", "ия", "ию", "ия", "ием", "ии")[i]
    if word.endswith("й"):
        return word[:-1] + ("й", "я", "ю", "я", "ем", "е")[i]
    return word + ("", "а", "у", "а", "ом", "е")[i]


def _decline_patronymic(word: str, female: bool, case: str) -> str:
    i = CASES.index(case)
    if female:
        return word[:-1] + ("а", "ы", "е", "у", "ой", "е")[i]
    return word + ("", "а", "у", "а", "ем", "е")[i]


def _feminine_surname(word: str) -> str:
    if word.endswith(("ов", "ев", "ин", "ын")):
        return word + "а"
    if word.endswith("ий"):
        return word[:-2] + "ая"
    return word


def _decline_surname(word: str, female: bool, case: str) -> str:
    """``word`` is the masculine surname."""
    i = CASES.index(case)
    if word.endswith(("ко", "о")):
        return word
    if word.endswith("а"):
        return word[:-1] + ("а", "ы", "е", "у", "ой", "е")[i]
    if word.endswith("ий"):
        stem = word[:-2]
        if female:
            return stem + ("ая", "ой", "ой", "ую", "ой", "ой")[i]
        return stem + ("ий", "ого", "ому", "ого", "им", "ом")[i]
    if female:
        return word + ("а", "ой", "ой", "у", "ой", "ой")[i]
    return word + ("", "а", "у", "а", "ым", "е")[i]


@dataclass
class Person:
    """One applicant's identity as the test knows it."""

    first: str
    middle: str
    last: str
    female: bool
    email: str
    phone: str
    citizenship: str
    city: str
    vk: str
    handle: str
    birth: date
    user_id: int | None = None
    # Quasi-identifiers the applicant writes about: a school number, a street and house.
    school: int = 0
    street: str = ""
    house: int = 0

    def first_in(self, case: str) -> str:
        return _decline_first(self.first, self.female, case)

    def middle_in(self, case: str) -> str:
        return _decline_patronymic(self.middle, self.female, case)

    def last_in(self, case: str) -> str:
        return _decline_surname(self.last_masc, self.female, case)

    last_masc: str = ""

    def age(self) -> int:
        today = date.today()
        return today.year - self.birth.year - ((today.month, today.day)
                                               < (self.birth.month, self.birth.day))

    def nicknames(self) -> list[str]:
        """Familiar forms of the first name that are names and nothing else (Груня, Дуняша)."""
        return sorted(f for f in familiar_forms(self.first) if _only_a_name(f))

    def vault_fields(self) -> dict[str, str]:
        return {"first": self.first, "middle": self.middle, "last": self.last,
                "birth_date": self.birth.isoformat(), "citizenship": self.citizenship,
                "phone": self.phone, "city": self.city, "vk": f"https://vk.com/{self.vk}",
                "handle": f"@{self.handle}"}

    def redaction_keys(self) -> dict[str, str]:
        return {**self.vault_fields(), "email": self.email}


def _phone(rng: random.Random, citizenship: str) -> str:
    while True:
        layout = rng.choice(PHONE_LAYOUTS[citizenship])
        number = "".join(str(rng.randrange(10)) if ch == "X" else ch for ch in layout)
        region = "RU" if citizenship == "RU" and number.startswith("8") else citizenship
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return number


_TRANSLIT = iuliia.WIKIPEDIA


def _latin(word: str) -> str:
    return _TRANSLIT.translate(word)


def make_people(n: int) -> list[Person]:
    """``n`` applicants, each with a surname no other applicant shares."""
    rng = random.Random(SEED)
    surnames = SURNAMES[:]
    rng.shuffle(surnames)
    people = []
    for i in range(n):
        female = i % 2 == 1
        first = (FEMALE_FIRST if female else MALE_FIRST)[(i // 2) % 28]
        middle = PATRONYMICS[i % len(PATRONYMICS)][1 if female else 0]
        last_masc = surnames[i]
        last = _feminine_surname(last_masc) if female else last_masc
        citizenship = ["RU", "RU", "BY", "KZ", "AM", "KG"][i % 6]
        translit = _latin(last_masc).lower().replace("'", "")
        people.append(Person(
            first=first, middle=middle, last=last, female=female,
            email=f"{translit}.{_latin(first).lower()[:4]}{rng.randrange(10, 99)}"
                  f"@{DOMAINS[i % len(DOMAINS)]}",
            phone=_phone(rng, citizenship), citizenship=citizenship,
            city=CITIES[i % len(CITIES)],
            vk=f"{translit[:9]}_{rng.randrange(100, 999)}",
            handle=f"{_latin(first).lower()[:5]}_{translit[:5]}{rng.randrange(10, 99)}",
            birth=date(1966, 1, 1) + timedelta(days=rng.randrange(0, 365 * 38)),
            last_masc=last_masc, school=100 + i, street=STREETS[i % len(STREETS)],
            house=200 + i,
        ))
    return people


STREETS = ["Ленина", "Пушкина", "Гагарина", "Садовая", "Лесная", "Чехова"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]

# -- the detector ----------------------------------------------------------------------------

_morph = pymorphy3.MorphAnalyzer(lang="ru")


def _only_a_name(word: str) -> bool:
    """Whether every reading of the word is a given name (so "Поля" or "Тая" are left out)."""
    parses = _morph.parse(word)
    return len(word) >= 5 and all("Name" in p.tag for p in parses)


def _birth_layouts(birth: date) -> list[str]:
    """How people write a birth date: numeric both ways round, ISO, in words."""
    month_ru = format_date(birth, "d MMMM", locale="ru").split(" ", 1)[1]
    return [birth.strftime("%d.%m.%Y"), birth.isoformat(),
            f"{birth.day}.{birth.month}.{birth.year}", birth.strftime("%m/%d/%Y"),
            birth.strftime("%d/%m/%Y"),
            f"{birth.day} {month_ru} {birth.year}",
            f"{MONTHS_EN[birth.month - 1]} {birth.day}, {birth.year}"]


def _fold(text: str) -> str:
    return text.lower().replace("ё", "е")


def _all_forms(word: str, *, kind: str) -> set[str]:
    """Every case form of a name part (both genders, plural for surnames), plus Latin."""
    forms: set[str] = set()
    if kind == "nickname":
        forms.add(word)
    elif kind == "first":
        for female in (False, True):
            forms |= {_decline_first(word, female, c) for c in CASES}
    elif kind == "middle":
        forms |= {_decline_patronymic(word, word.endswith("на"), c) for c in CASES}
    else:
        for female in (False, True):
            forms |= {_decline_surname(word, female, c) for c in CASES}
        if word.endswith(("ов", "ев", "ин")):
            forms |= {word + e for e in ("ы", "ых", "ым", "ыми")}
    # Whatever the dictionary knows as a name form of this word, too.
    grammeme = {"first": "Name", "nickname": "Name", "middle": "Patr", "last": "Surn"}[kind]
    for parse in _morph.parse(word):
        if grammeme in parse.tag:
            forms |= {f.word for f in parse.lexeme if grammeme in f.tag}
    forms = {_fold(f) for f in forms if f}
    for form in list(forms):
        if form == _fold(word) or kind != "middle":
            for schema in (iuliia.WIKIPEDIA, iuliia.MOSMETRO, iuliia.ICAO_DOC_9303,
                           iuliia.YANDEX_MAPS, iuliia.GOST_779_ALT, iuliia.TELEGRAM):
                forms.add(_fold(schema.translate(form)).replace("'", "").replace("`", ""))
    return {f for f in forms if len(f) >= 4}


@dataclass(frozen=True)
class Hit:
    """One identifying datum found where it must not be."""

    who: str
    kind: str
    found: str


_DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
                        r"|\d{1,2}\.\d{1,2}\.\d{2,4}|\d{1,2}:\d{2}(?::\d{2})?")
_DIGIT_RUN = re.compile(r"\d[\d \t\u00a0\-()+]*\d")
_WORD = re.compile(r"\w+")
# E-mail addresses, runs that may be an e-mail's user part, ISO and Russian dates.
_SHAPES = (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), re.compile(r"[\w.+-]+"),
           re.compile(r"(?<!\d)(?:\d{4}-\d{2}-\d{2}|\d{2}\.\d{2}\.\d{4})(?!\d)"))
_YEAR = re.compile(r"(?<!\d)(?:19[4-9]\d|20[01]\d)(?!\d)")


class Detector:
    """Finds any applicant's identifying data in a text.

    Everything but phone numbers is looked up token by token in sets, so scanning thousands
    of pages stays fast: name forms and handles are words, e-mails and dates have a shape.
    """

    def __init__(self, people: list[Person]):
        self.words: dict[str, tuple[str, str]] = {}  # folded word → (who, kind)
        self.shaped: dict[str, tuple[str, str]] = {}  # e-mail, e-mail user, date → (who, kind)
        self.by_year: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.phones: list[tuple[str, str]] = []
        # Phrases found by plain substring search: birth dates in words, quasi-identifiers.
        self.phrases: list[tuple[str, str, str]] = []  # (folded needle, who, kind)
        for p in people:
            label = f"{p.first} {p.last}"
            for part, kind in ((p.first, "first"), (p.middle, "middle"), (p.last_masc, "last")):
                for form in _all_forms(part, kind=kind):
                    self.words.setdefault(form, (label, "name"))
            for nickname in p.nicknames():
                for form in _all_forms(nickname, kind="nickname"):
                    self.words.setdefault(form, (label, "nickname"))
            self.phrases += [(_fold(layout), label, "birth date")
                             for layout in _birth_layouts(p.birth)]
            self.phrases += [(f"мне {p.age()} лет", label, "age"),
                             (f"школу №{p.school}", label, "school"),
                             (_fold(f"ул. {p.street}, д. {p.house}"), label, "address")]
            self.words[p.vk.lower()] = (label, "vk")
            self.words[p.handle.lower()] = (label, "handle")
            self.shaped[p.email] = (label, "email")
            self.shaped[p.email.split("@")[0]] = (label, "email")
            self.shaped[p.birth.isoformat()] = (label, "birth date")
            self.shaped[p.birth.strftime("%d.%m.%Y")] = (label, "birth date")
            for locale in ("en", "ru"):
                for style in ("medium", "long"):
                    self.by_year[str(p.birth.year)].append(
                        (_fold(format_date(p.birth, style, locale=locale)), label))
            parsed = phonenumbers.parse(p.phone, "RU" if p.phone.startswith("8") else None)
            national = str(parsed.national_number)
            self.phones += [(national, label), (national[-7:], label)]

    def scan(self, text: str) -> list[Hit]:
        """Every identifying datum in ``text``."""
        if not text:
            return []
        folded = _fold(text)
        hits = [Hit(*self.words[w], w) for w in set(_WORD.findall(folded)) if w in self.words]
        shaped = {t.strip(".+-") for shape in _SHAPES for t in shape.findall(folded)}
        hits += [Hit(*self.shaped[t], t) for t in shaped if t in self.shaped]
        hits += [Hit(who, kind, needle) for needle, who, kind in self.phrases
                 if needle in folded]
        for year in set(_YEAR.findall(folded)):
            hits += [Hit(who, "birth date", needle) for needle, who in self.by_year.get(year, ())
                     if needle in folded]
        runs = ["".join(ch for ch in m.group(0) if ch.isdigit())
                for m in _DIGIT_RUN.finditer(_DATE_LIKE.sub(" ", text))]
        runs = [r for r in runs if len(r) >= 7]
        if runs:
            hits += [Hit(who, "phone", digits) for digits, who in self.phones
                     if any(digits in run for run in runs)]
        return hits


# -- the world -------------------------------------------------------------------------------

NEUTRAL = [
    "Я бы сначала поблагодарил клиента за терпение и коротко пересказал, что понял из его "
    "письма, чтобы он видел: его услышали. Потом объяснил бы, что мы уже сделали и что "
    "сделаем дальше, с понятным сроком.",
    "Главное в таком ответе — не спорить и не оправдываться. Клиент расстроен, и это "
    "нормально. Я признаю ошибку, предложу конкретное решение и оставлю возможность "
    "написать мне снова, если что-то пойдёт не так.",
    "Мне кажется, хороший ответ должен быть коротким, вежливым и по делу. Я бы избегал "
    "канцелярита и шаблонных фраз, писал бы простыми словами и обязательно проверил бы "
    "орфографию перед отправкой.",
]


def _answer_text(p: Person, n: int) -> str:
    """A neutral answer with identifying inserts that vary by ``n``.

    Most bodies are written for the answer alone; one in ten is one of the NEUTRAL texts,
    so some answers are alike and the near-duplicate pages (issue 18) have pairs to show,
    each side with its author's inserts."""
    body = NEUTRAL[n % len(NEUTRAL)] if n % 10 == 0 else independent_answer(random.Random(n))
    user, domain = p.email.split("@")
    host, _, tld = domain.rpartition(".")
    inserts = [
        f"Меня зовут {p.first} {p.last}.",
        f"Можно обращаться ко мне просто: {p.first_in('datv')} {p.middle_in('datv')} "
        f"сегодня удобнее.",
        f"Передайте привет от {p.first_in('gent')} {p.last_in('gent')}!",
        f"Пишите на {p.email}, отвечу быстро.",
        f"Мой телефон {p.phone}, звоните после шести.",
        f"Я есть во ВКонтакте: vk.com/{p.vk}, в телеграме {'@' + p.handle}.",
        f"Ответ написан {p.first_in('ablt')} {p.last_in('ablt')} за один вечер.",
        f"Расскажу о {p.first_in('loct')} {p.last_in('loct')} на собеседовании.",
        f"Signed: {_latin(p.first)} {_latin(p.last)}.",
        f"Наймите {p.first_in('accs')} {p.middle_in('accs')} {p.last_in('accs')}!",
        f"Адрес для связи: {user} собака {host} точка {tld}.",
        "",  # no identifying insert at all
        # Written the way people really write (issue 14): dates of birth in every layout,
        # familiar names, spelled-out and partial addresses, quasi-identifiers.
        f"Я родился {p.birth.strftime('%d.%m.%Y')}, так что опыт есть.",
        f"Дата рождения: {p.birth.isoformat()}.",
        f"Родилась {_birth_layouts(p.birth)[5]} года.",
        f"I was born on {_birth_layouts(p.birth)[6]}.",
        f"Born {p.birth.strftime('%m/%d/%Y')}, if it matters.",
        f"Я родился в {p.birth.year} году.",
        f"Друзья зовут меня {(p.nicknames() or [p.first])[0]}.",
        f"Пишите: {user} (at) {host} (dot) {tld}.",
        f"Мой адрес {user}[at]{host}[dot]{tld}.",
        f"Или просто {user} на {domain}.",
        f"Ищите ящик {user}, он один такой.",
        f"Коротко о себе: мне {p.age()} лет, люблю людей.",
        f"Окончила школу №{p.school} в городе {p.city}.",
        f"Живу: ул. {p.street}, д. {p.house}, кв. 7.",
    ]
    insert = inserts[n % len(inserts)]
    text = f"{body} {insert}".strip()
    if n % 5 == 0:
        text += f"\r\n\r\nС уважением,\r\n{p.first} {p.last}"
    return text


@dataclass
class Built:
    """What the crawl needs to know about the world it runs in."""

    people: list[Person]
    reviewers: list = field(default_factory=list)
    coordinators: list = field(default_factory=list)
    custodian: object = None
    codes: list[str] = field(default_factory=list)
    originals: list[str] = field(default_factory=list)
    # Candidates' feedback (issue 19): whose candidacy is whose, the comment each candidacy's
    # reviewers wrote for it (a marker), the hidden comments, and who reads their feedback.
    candidacy_person: dict[int, int] = field(default_factory=dict)
    hidden_comments: list[str] = field(default_factory=list)
    feedback_readers: list[int] = field(default_factory=list)


def _reviews(db, *, plans: list[tuple[Answer, object, bool]],
             criteria: dict[int, list[Criterion]], rng: random.Random, now) -> None:
    """Review slots for (answer, reviewer, submitted?) triples; submitted ones get scores."""
    assignments = []
    for answer, reviewer, submitted in plans:
        first = criteria[answer.task_id][0]
        assignments.append(ReviewAssignment(
            answer_id=answer.id, reviewer_id=reviewer.id,
            status="submitted" if submitted else "leased",
            leased_at=now - timedelta(hours=2), lease_expires_at=now + timedelta(hours=1),
            completed_at=now - timedelta(hours=1) if submitted else None,
            draft={} if submitted else {"scores": {str(first.id): 3}, "comment": "черновик"}))
    db.add_all(assignments)
    db.flush()
    for assignment, (answer, reviewer, submitted) in zip(assignments, plans, strict=True):
        if not submitted:
            answer.reviews_leased = (answer.reviews_leased or 0) + 1
            continue
        rubric = criteria[answer.task_id]
        values = {c.id: rng.randint(1, 5) for c in rubric}
        raw = sum(values[c.id] * c.weight for c in rubric) / sum(c.weight for c in rubric)
        review = Review(assignment_id=assignment.id, answer_id=answer.id,
                        reviewer_id=reviewer.id, score_raw=raw,
                        score_normalised=raw + rng.uniform(-0.3, 0.3),
                        comment="Вежливо и по делу, но можно короче.",
                        submitted_at=now - timedelta(hours=1))
        review.scores = [CriterionScore(criterion_id=c.id, value=values[c.id]) for c in rubric]
        db.add(review)
        answer.reviews_done += 1
    db.flush()


def _calibration(db, *, stage, answers: list[Answer], criteria, built: Built,
                 rng: random.Random, now) -> None:
    """Calibration answers: a copy of a reviewed candidate's answer (which carries that
    candidate's redacted text and candidacy code) and one a coordinator wrote; every reviewer
    scores both, and one holds a lease on a third."""
    complete = next(a for a in answers if a.reviews_done >= a.reviews_wanted
                    and not a.reviews_leased)
    reference = {c.id: 3 for c in criteria[complete.task_id]}
    copied = calibration.copy_answer(db, source=complete, reference=reference,
                                     note="Типичный спокойный ответ.",
                                     by=built.coordinators[0], now=now)
    task = stage.tasks[-1]
    written = calibration.write_answer(
        db, task=task, text="Здравствуйте! Понимаю ваше беспокойство. Проверю заказ и "
                            "напишу вам сегодня до шести вечера.",
        reference={c.id: 4 for c in criteria[task.id]}, note="", by=built.coordinators[1],
        now=now)
    spare = calibration.write_answer(
        db, task=stage.tasks[0], text="Добрый день. Передам ваш вопрос коллегам.",
        reference={c.id: 2 for c in criteria[stage.tasks[0].id]}, note="",
        by=built.coordinators[1], now=now)
    plans = [(a, reviewer, True) for a in (copied, written) for reviewer in built.reviewers
             if not (a is copied and db.scalar(select(ReviewAssignment.id).where(
                 ReviewAssignment.answer_id == complete.id,
                 ReviewAssignment.reviewer_id == reviewer.id)))]
    plans.append((spare, built.reviewers[0], False))
    _reviews(db, plans=plans, criteria=criteria, rng=rng, now=now)


def _take_stage(db, *, candidacy: Candidacy, person: Person, stage, n: int, now,
                custodian) -> list[Answer]:
    submission = Submission(candidacy_id=candidacy.id, stage_id=stage.id,
                            started_at=now - timedelta(days=3),
                            deadline_at=now - timedelta(days=3) + timedelta(
                                minutes=stage.time_limit_minutes),
                            submitted_at=now - timedelta(days=3, minutes=-30))
    db.add(submission)
    db.flush()
    for k, task in enumerate(stage.tasks):
        db.add(Answer(submission_id=submission.id, task_id=task.id,
                      text=_answer_text(person, n + k), version=3,
                      saved_at=submission.submitted_at))
    db.flush()
    db.refresh(submission)
    answers = intake.accept_submission(db, submission=submission,
                                       identity=person.redaction_keys(), reviews_per_answer=2,
                                       now=now - timedelta(days=3))
    for answer in answers:
        if answer.check_status == "pending":
            custody.release_answer(db, answer=answer, by=custodian,
                                   now=now - timedelta(days=2))
    candidacy.state = "submitted"
    candidacy.current_stage_id = stage.id
    return answers


def build(app) -> Built:
    """Applicants, staff, a campaign run to offers, and a second campaign with invitations."""
    rng = random.Random(SEED)
    people = make_people(58)
    built = Built(people=people)
    now = utcnow()
    with app.app_context():
        db = app.extensions["recruit.sessionmaker"]()
        tracks.load_shipped(db)
        campaign = tracks.create_campaign(db, track_key="support-agent", key="leak-wave",
                                          opens_at=now - timedelta(days=20),
                                          closes_at=now + timedelta(days=20), capacity=12)
        campaign.auto_release_hours = 48
        # The first stage's pool compares candidates; the last one's is below the minimum.
        campaign.feedback_min_pool = 25
        moderation = tracks.create_campaign(db, track_key="moderator", key="leak-moderators",
                                            opens_at=now - timedelta(days=5),
                                            closes_at=now + timedelta(days=40))
        built.custodian = make_user(db, role=Role.COORDINATOR, custodian=True,
                                    email="keeper@staff.example")
        built.coordinators = [make_user(db, role=Role.COORDINATOR, email=f"coord{i}@staff.example")
                              for i in (1, 2)]
        built.reviewers = [make_user(db, role=Role.REVIEWER, email=f"rev{i}@staff.example")
                           for i in (1, 2, 3)]
        for reviewer in built.reviewers:
            db.add(CampaignReviewer(campaign_id=campaign.id, user_id=reviewer.id,
                                    added_by_id=built.coordinators[0].id))
        db.add(CampaignReviewer(campaign_id=moderation.id, user_id=built.reviewers[0].id))
        users = []
        for person in people:
            user = make_user(db, role=Role.APPLICANT, email=person.email,
                             locale="ru" if person.citizenship == "RU" else "en")
            store_identity(db, user=user, fields=person.vault_fields())
            person.user_id = user.id
            users.append(user)
            # An applicant-facing message that names them: no staff page may show it.
            db.add(OutboxMessage(to_address=person.email, audience="applicant",
                                 template="application_received", locale="ru",
                                 subject=f"{person.first}, ваша заявка принята",
                                 body_text=f"Здравствуйте, {person.first} {person.middle}!",
                                 next_attempt_at=now))
        db.flush()
        # Six never get a candidacy: two ineligible, two wait for the next wave, two idle.
        in_campaign, outside = people[:52], people[52:]
        for person in outside[:2]:
            db.add(EligibilityCheck(user_id=person.user_id, campaign_id=campaign.id,
                                    passed=False, reasons=["too_young"]))
        for person in outside[2:4]:
            db.add(WaitlistEntry(user_id=person.user_id))
        candidacies: list[tuple[Candidacy, Person]] = []
        for person in in_campaign:
            db.add(EligibilityCheck(user_id=person.user_id, campaign_id=campaign.id,
                                    passed=True))
            candidacy = Candidacy(user_id=person.user_id, campaign_id=campaign.id,
                                  state="applied", created_at=now - timedelta(days=10))
            db.add(candidacy)
            candidacies.append((candidacy, person))
        db.flush()
        built.codes = [c.code for c, _ in candidacies]

        coordinator = built.coordinators[0]
        alive = candidacies
        stages = campaign.stages
        n = 0
        for position, stage in enumerate(stages):
            criteria = {t.id: list(t.criteria) for t in stage.tasks}
            stage_answers = []
            for candidacy, person in alive:
                answers = _take_stage(db, candidacy=candidacy, person=person, stage=stage,
                                      n=n, now=now, custodian=built.custodian)
                n += len(answers)
                built.originals += [a.text for a in answers]
                stage_answers += answers
            plans = []
            for i, answer in enumerate(stage_answers):
                plans += [(answer, built.reviewers[i % 3], True),
                          (answer, built.reviewers[(i + 1) % 3], True)]
                if i % 7 == 0:
                    plans.append((answer, built.reviewers[(i + 2) % 3], False))
            _reviews(db, plans=plans, criteria=criteria, rng=rng, now=now)
            if position == 0:
                _calibration(db, stage=stage, answers=stage_answers, criteria=criteria,
                             built=built, rng=rng, now=now)
            last = position == len(stages) - 1
            survivors = []
            for k, (candidacy, person) in enumerate(alive):
                outcome = "reject" if k % 3 == 2 else ("hold" if k % 11 == 5 and not last
                                                       else "advance")
                db.add(Decision(candidacy_id=candidacy.id, stage_id=stage.id, outcome=outcome,
                                reason="По сумме баллов этапа.", via_cutoff=k % 2 == 0,
                                decided_by_id=coordinator.id, decided_at=now - timedelta(days=1)))
                if outcome == "advance":
                    candidacy.state = "passed" if last else "advanced"
                    survivors.append((candidacy, person))
                elif outcome == "reject":
                    candidacy.state = "not_passed"
                    candidacy.finished_at = now - timedelta(days=1)
                else:
                    candidacy.state = "on_hold"
            alive = survivors
        db.flush()
        _comments_for_candidates(db, built=built, candidacies=candidacies, now=now)

        agent = db.scalar(select(JobRole).where(JobRole.key == "support-agent"))
        moderator = db.scalar(select(JobRole).where(JobRole.key == "moderator"))
        statuses = ["issued", "accepted", "declined", "expired", "accepted"]
        for k, (candidacy, _person) in enumerate(alive):
            status = statuses[k % len(statuses)]
            db.add(Offer(candidacy_id=candidacy.id, job_role_id=agent.id, salary=95000,
                         currency="RUB", start_date=(now + timedelta(days=30)).date(),
                         work_format="hybrid", conditions=["ДМС", "обучение"],
                         expires_on=(now + timedelta(days=7)).date(), status=status,
                         issued_by_id=coordinator.id,
                         responded_at=None if status == "issued" else now))
            candidacy.state = {"issued": "offered", "accepted": "hired",
                               "declined": "declined", "expired": "expired"}[status]
        rejected = [(c, p) for c, p in candidacies if c.state == "not_passed"]
        for candidacy, _person in rejected[:4]:
            db.add(Offer(candidacy_id=candidacy.id, job_role_id=moderator.id, alternate=True,
                         salary=80000, currency="RUB",
                         start_date=(now + timedelta(days=40)).date(), work_format="remote",
                         conditions=[], expires_on=(now + timedelta(days=10)).date(),
                         status="issued", issued_by_id=coordinator.id))
            candidacy.state = "offered"
        for candidacy, person in rejected[4:7]:
            candidacy.state = "invited"
            invited = Candidacy(user_id=person.user_id, campaign_id=moderation.id,
                                state="applied", invited_from_id=candidacy.id)
            db.add(invited)
            db.flush()
            built.codes.append(invited.code)
        db.flush()
        _outcome_mails(db, built=built, candidacies=candidacies, stages=stages)
        for code in built.codes[:2]:
            candidacy = db.scalar(select(Candidacy).where(Candidacy.code == code))
            custody.reveal_identity(db, candidacy=candidacy, by=built.custodian,
                                    reason="Уточнить дату выхода")
        db.commit()
        db.close()
    return built


def comment_marker(candidacy_id: int) -> str:
    """What the reviewers wrote for one candidacy: only its candidate may read it."""
    return f"метка-{candidacy_id}-конец"


def _comments_for_candidates(db, *, built: Built, candidacies, now) -> None:
    """Comments for the candidates on every review, every fourth hidden by a coordinator; one
    rejected candidacy matched the moderator role. Candidates who read their feedback: one
    rejected at each stage and one who passed them all."""
    people = {c.id: n for n, (c, _person) in enumerate(candidacies)}
    built.candidacy_person = people
    rows = db.execute(select(Review, Submission.candidacy_id)
                      .join(Answer, Answer.id == Review.answer_id)
                      .join(Submission, Submission.id == Answer.submission_id)
                      .order_by(Review.id)).all()
    for n, (review, candidacy_id) in enumerate(rows):
        if n % 4 == 0:
            review.candidate_comment = f"скрытый-отзыв-{review.id}"
            review.candidate_comment_hidden_at = now
            review.candidate_comment_hidden_by_id = built.coordinators[0].id
            built.hidden_comments.append(review.candidate_comment)
        else:
            review.candidate_comment = (f"Тон тёплый, следующий шаг стоит назвать раньше. "
                                        f"{comment_marker(candidacy_id)}")
    finals = db.execute(select(Decision.candidacy_id, Decision.stage_id, Decision.outcome)
                        .where(Decision.outcome.in_(("advance", "reject")))
                        .order_by(Decision.id)).all()
    readers: dict[object, int] = {}
    for candidacy_id, stage_id, outcome in finals:
        readers.setdefault((stage_id, outcome), candidacy_id)
    rejected = sorted({cid for (_stage, outcome), cid in readers.items() if outcome == "reject"})
    if rejected:
        decision = db.scalar(select(Decision).where(Decision.candidacy_id == rejected[0],
                                                    Decision.outcome == "reject"))
        decision.alternate_roles = ["moderator"]
    last_stage = max(stage_id for stage_id, _outcome in readers)
    built.feedback_readers = sorted({people[cid] for (stage_id, outcome), cid in readers.items()
                                     if outcome == "reject" or stage_id == last_stage})
    db.flush()


def _outcome_mails(db, *, built: Built, candidacies, stages) -> None:
    """The outcome e-mails with their feedback links, as the readers' decisions sent them."""
    for candidacy, _person in candidacies:
        if built.candidacy_person[candidacy.id] not in built.feedback_readers:
            continue
        for decision in db.scalars(select(Decision).where(
                Decision.candidacy_id == candidacy.id,
                Decision.outcome.in_(("advance", "reject")))):
            stage = next(s for s in stages if s.id == decision.stage_id)
            if decision.outcome == "reject":
                notify.stage_not_passed(db, candidacy=candidacy, stage=stage, feedback=True)
            else:
                later = [s for s in stages if s.position > stage.position]
                notify.stage_passed(db, candidacy=candidacy, stage=stage,
                                    next_stage=later[0] if later else None, feedback=True)
    db.flush()


# -- URL parameters, derived from the database by name ---------------------------------------

STATIC_VALUES = {"signed": ["not-a-valid-signature"], "language": ["ru", "en"]}


def _contexts(db) -> list[dict]:
    """One dict of parameter values per row of every table, following foreign keys.

    A row's own id is ``<table>_id``; its other ``*_id`` columns, ``code``, ``token`` and
    ``key`` are kept by name; then the rows it points to add theirs (without overriding),
    so an answer's context also holds its candidacy's code, campaign id, stage id, etc.
    """
    rows: dict[tuple[str, object], dict] = {}
    links: dict[tuple[str, object], list[tuple[str, object]]] = defaultdict(list)
    for table in Base.metadata.sorted_tables:
        if "id" not in table.c:
            continue
        fks = {fk.parent.name: fk.column.table.name for fk in table.foreign_keys}
        for row in db.execute(select(table)).mappings():
            own = {f"{table.name}_id": row["id"]}
            for column in table.c:
                name, value = column.name, row[column.name]
                if value is None:
                    continue
                if name in fks or name in ("code", "token"):
                    own[name] = value
                elif name == "key":
                    own[f"{table.name}_key"] = value
            rows[(table.name, row["id"])] = own
            links[(table.name, row["id"])] = [(fks[c], row[c]) for c in fks if row[c] is not None]

    def closure(start) -> dict:
        merged: dict = {}
        seen, todo = set(), deque([start])
        while todo:
            node = todo.popleft()
            if node in seen or node not in rows:
                continue
            seen.add(node)
            for name, value in rows[node].items():
                merged.setdefault(name, value)
            todo.extend(links[node])
        return merged

    contexts = [closure(node) for node in rows]
    for ctx in contexts:
        # Common short names of the same values.
        for alias, source in (("version_id", "track_version_id"), ("role_id", "job_role_id"),
                              ("track_key", "track_version_key"), ("key", "campaign_key"),
                              ("reviewer_id", "user_id"), ("request_id", "contact_request_id"),
                              ("assignment_id", "review_assignment_id"),
                              ("event_id", "audit_event_id"), ("message_id",
                                                               "outbox_message_id"),
                              ("pair_id", "similar_pair_id")):
            if source in ctx:
                ctx.setdefault(alias, ctx[source])
    return contexts


def _static_files(app) -> list[str]:
    from pathlib import Path

    folder = Path(app.static_folder)
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def route_urls(app, contexts: list[dict]) -> tuple[dict[str, list[str]], list[str]]:
    """Every URL of every GET route, with every coherent combination of real values."""
    adapter = app.url_map.bind("localhost")
    pools: dict[str, list] = defaultdict(list)
    for ctx in contexts:
        for name, value in ctx.items():
            pools[name].append(value)
    pools.update(STATIC_VALUES)
    pools["filename"] = _static_files(app)
    urls: dict[str, list[str]] = {}
    unfilled = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        args = sorted(rule.arguments)
        if not args:
            combos = [{}]
        elif len(args) == 1:
            if args[0] not in pools:
                unfilled.append(f"{rule.endpoint}: {args[0]}")
                continue
            combos = [{args[0]: v} for v in dict.fromkeys(pools[args[0]])]
        else:
            seen, combos = set(), []
            for ctx in contexts:
                if all(a in ctx or a in STATIC_VALUES for a in args):
                    values = tuple(ctx[a] if a in ctx else STATIC_VALUES[a][0] for a in args)
                    if values not in seen:
                        seen.add(values)
                        combos.append(dict(zip(args, values, strict=True)))
            if not combos:
                unfilled.append(f"{rule.endpoint}: {', '.join(args)}")
                continue
        built = []
        for values in combos:
            try:
                built.append(adapter.build(rule.endpoint, values))
            except (BuildError, ValueError, TypeError):
                continue
        urls[rule.endpoint] = built
    return urls, unfilled


# -- the crawl -------------------------------------------------------------------------------

_LINK = re.compile(r"""(?:href|src|action|data-[\w-]*url)\s*=\s*["']([^"']+)["']""", re.I)


class PdfTap:
    """Stands in for ``render_pdf``: keeps the source of every PDF a page makes, for scanning.

    WeasyPrint takes up to seconds per document, so only the first few PDFs of each endpoint
    are rendered for real (and read back with pypdf); the rest are checked through the
    HTML, title and author they would have been made from, and answered with a stub.
    """

    def __init__(self, real, *, per_endpoint: int):
        self.real = real
        self.per_endpoint = per_endpoint
        self.rendered: dict[str | None, int] = defaultdict(int)
        self.sources: list[str] = []
        self.stub = b""

    def __call__(self, source: str, **kwargs) -> bytes:
        from flask import has_request_context, request

        endpoint = request.endpoint if has_request_context() else None
        self.sources.append(" ".join([str(kwargs.get("title") or ""),
                                      str(kwargs.get("author") or ""), source]))
        if self.rendered[endpoint] < self.per_endpoint:
            self.rendered[endpoint] += 1
            return self.real(source, **kwargs)
        if not self.stub:
            self.stub = self.real("<p>stub</p>", title="stub")
        return self.stub


@dataclass
class Crawl:
    """What one viewer's crawl saw."""

    viewer: str
    pages: dict[str, int] = field(default_factory=dict)  # url → status
    ok_endpoints: set[str] = field(default_factory=set)
    downloads: list[str] = field(default_factory=list)
    leaks: list[tuple[str, Hit]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: int = 0
    truncated: bool = False


def _texts_of(response, *, stub: bytes) -> tuple[list[str], str | None]:
    """The readable texts of a response (headers, decoded body or download) and its HTML."""
    texts = ["\n".join(f"{k}: {unquote(v)}" for k, v in response.headers.items())]
    body = response.get_data()
    ctype = (response.mimetype or "").lower()
    page_html = None
    if stub and body == stub:
        pass  # the PdfTap kept the document's source
    elif ctype == "application/pdf" or body[:5] == b"%PDF-":
        reader = PdfReader(io.BytesIO(body))
        texts += [page.extract_text() or "" for page in reader.pages]
        texts += [str(v) for v in (reader.metadata or {}).values()]
    elif ctype in ("application/zip", "application/x-zip-compressed") or body[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            for name in archive.namelist():
                texts.append(name)
                texts.append(archive.read(name).decode("utf-8", "replace"))
    else:
        text = html.unescape(body.decode(response.mimetype_params.get("charset") or "utf-8",
                                         "replace"))
        texts.append(text)
        if "%" in text:
            texts.append(unquote(text))
        if ctype == "text/html":
            page_html = text
    return texts, page_html


def _denied_by_role(app, endpoint: str, user) -> bool:
    """Whether the view's guard refuses this kind of user whatever the URL parameters are."""
    name = getattr(app.view_functions.get(endpoint), "__access__", None)
    predicate = getattr(access, name, None) if name and name != "public" else None
    return predicate is not None and not predicate(user)


def crawl(app, user, seeds: dict[str, list[str]], detector: Detector, tap: PdfTap, *,
          limit: int = MAX_PAGES_PER_VIEWER) -> Crawl:
    """Fetch every seed URL and every same-site link, breadth first, as ``user``.

    A route whose guard refuses this kind of user is asked once (the guard runs before any
    parameter is looked at, and the access matrix test proves each route has one); every
    other route is asked with every value.
    """
    result = Crawl(viewer=user.email)
    client = Client(app)
    client.login(user)
    adapter = app.url_map.bind("localhost")
    queue: deque[str] = deque(["/"])
    for urls in seeds.values():
        queue.extend(urls)
    denied_seen: set[str] = set()
    while queue and len(result.pages) < limit:
        url = queue.popleft()
        if url in result.pages:
            continue
        try:
            endpoint = adapter.match(urlsplit(url).path, method="GET")[0]
        except MethodNotAllowed:
            # The action of a POST form: there is nothing to GET there.
            result.skipped += 1
            continue
        except NotFound:
            endpoint = "?"
        if _denied_by_role(app, endpoint, user):
            if endpoint in denied_seen:
                result.skipped += 1
                continue
            denied_seen.add(endpoint)
        tap.sources.clear()
        try:
            response = client.get(url)
        except Exception as exc:  # a page that crashes cannot be shown to be leak-free
            result.pages[url] = 500
            result.errors.append(f"{url}: {type(exc).__name__}: {exc}")
            continue
        status = response.status_code
        result.pages[url] = status
        if status >= 500:
            result.errors.append(f"{url}: HTTP {status}")
        texts, page_html = _texts_of(response, stub=tap.stub)
        texts += [html.unescape(source) for source in tap.sources]
        if status == 200:
            result.ok_endpoints.add(endpoint)
            if page_html is None and not url.startswith("/static/"):
                result.downloads.append(url)
        for text in texts:
            result.leaks += [(url, hit) for hit in detector.scan(text)]
        targets = [response.location] if response.location else []
        if page_html:
            targets += _LINK.findall(page_html)
        for target in targets:
            absolute = urljoin("http://localhost" + url, target.strip())
            parts = urlsplit(absolute)
            if parts.scheme not in ("http", "https") or parts.hostname != "localhost":
                continue
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            if local not in result.pages:
                queue.append(local)
        response.close()
    result.truncated = bool(queue)
    return result


# -- fixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def leak_app(new_database, tmp_path_factory):
    """An app on its own database, filled once for the whole module."""
    url = new_database()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    # In demo mode: its outbox page lists every e-mail, applicants' addresses included.
    application = create_app(app_config(url, tmp_path_factory.mktemp("leak"), DEMO=True))
    built = build(application)
    yield application, built
    application.extensions["recruit.engine"].dispose()


@pytest.fixture(scope="module")
def detector(leak_app):
    return Detector(leak_app[1].people)


@pytest.fixture(scope="module")
def crawls(leak_app, detector):
    """Every reviewer's and every non-custodian coordinator's crawl."""
    from recruit.reports import render

    app, built = leak_app
    with app.app_context(), pytest.MonkeyPatch.context() as patch:
        tap = PdfTap(render.render_pdf, per_endpoint=PDFS_RENDERED_PER_ENDPOINT)
        patch.setattr(render, "render_pdf", tap)
        session = sessionmaker(bind=app.extensions["recruit.engine"])()
        contexts = _contexts(session)
        session.close()
        seeds, unfilled = route_urls(app, contexts)
        assert unfilled == [], (
            "no real values for these URL parameters; teach _contexts or STATIC_VALUES "
            f"their names: {unfilled}")
        # Coordinators ask the custodian to contact someone: e-mails to staff follow.
        client = Client(app)
        client.login(built.coordinators[0])
        for code in built.codes[:3]:
            response = client.post_form(f"/coordinate/candidacies/{code}/contact",
                                        {"message": "Уточните, пожалуйста, дату выхода."})
            assert response.status_code == 302
        viewers = [*built.reviewers, *built.coordinators]
        results = {viewer.email: crawl(app, viewer, seeds, detector, tap)
                   for viewer in viewers}
    return results, seeds, tap


# -- the tests -------------------------------------------------------------------------------

def test_the_detector_finds_identities_in_the_originals(leak_app, detector):
    """Positive control 1: the answers really carry identities, and the detector sees them."""
    _, built = leak_app
    flagged = [text for text in built.originals if detector.scan(text)]
    assert len(flagged) >= len(built.originals) // 2
    person = built.people[0]
    for sample in (person.last_in("datv"), person.email.upper(), person.phone,
                   person.birth.strftime("%d.%m.%Y"), f"vk.com/{person.vk}",
                   _latin(person.last), person.middle_in("ablt"),
                   *_birth_layouts(person.birth), f"мне {person.age()} лет",
                   f"школу №{person.school}", f"ул. {person.street}, д. {person.house}"):
        assert detector.scan(f"… {sample} …"), sample
    nicknamed = next(p for p in built.people if p.nicknames())
    assert detector.scan(f"… {nicknamed.nicknames()[0]} …")
    # Every kind issue 14 plants is in some answer.
    planted = "\n".join(built.originals)
    for needle in ("родился в", "Born ", "Друзья зовут меня", "(at)", "[at]", "мне ", "школу №",
                   "ул. "):
        assert needle in planted, needle


def test_the_custodians_reveal_shows_the_name(leak_app, detector):
    """Positive control 2: where identity may be shown, the detector finds it."""
    app, built = leak_app
    person = built.people[3]
    code = built.codes[3]
    with app.app_context():
        client = Client(app)
        client.login(built.custodian)
        response = client.post_form("/custody/identity",
                                    {"code": code, "reason": "Проверка детектора"})
        assert response.status_code == 200
        hits = detector.scan(html.unescape(response.get_data(as_text=True)))
    found = {(h.who, h.kind) for h in hits}
    label = f"{person.first} {person.last}"
    assert {(label, "name"), (label, "email"), (label, "phone"), (label, "vk"),
            (label, "birth date")} <= found


def test_the_crawl_finds_identities_where_they_are_shown(leak_app, detector, crawls):
    """Positive control 3: the crawl and its scan catch identities on real pages."""
    app, built = leak_app
    _, seeds, tap = crawls
    with app.app_context():
        result = crawl(app, built.custodian, {"custodian.answer": seeds["custodian.answer"][:8]},
                       detector, tap, limit=9)
    assert {hit.kind for _, hit in result.leaks} >= {"name"}
    assert len({url for url, _ in result.leaks}) >= 2


def test_the_demo_outbox_carries_identities_and_only_the_custodian_reads_it(leak_app, detector,
                                                                             crawls):
    """Positive control 4: the outbox page would leak if its guard let anyone else in."""
    app, built = leak_app
    results, seeds, tap = crawls
    with app.app_context():
        result = crawl(app, built.custodian, {"demo.outbox": seeds["demo.outbox"]}, detector,
                       tap, limit=2)
    assert {"email", "name"} <= {hit.kind for url, hit in result.leaks
                                 if url.startswith("/demo/outbox")}
    for viewer in results.values():
        assert viewer.pages.get("/demo/outbox") == 403


def test_no_identity_reaches_reviewers_or_coordinators(crawls):
    results, _, _ = crawls
    leaks = [f"{r.viewer} {url}: {hit.kind} of {hit.who} ({hit.found!r})"
             for r in results.values() for url, hit in r.leaks]
    assert leaks == [], "identities leaked:\n" + "\n".join(sorted(set(leaks))[:60])


def test_every_page_of_the_crawl_rendered(crawls):
    results, _, _ = crawls
    errors = [f"{r.viewer} {e}" for r in results.values() for e in r.errors]
    assert errors == [], "pages failed, so they could not be checked:\n" + "\n".join(errors[:40])


def test_the_crawl_covered_every_route_and_many_pages(leak_app, crawls):
    app, built = leak_app
    results, seeds, tap = crawls  # noqa: RUF059
    requested = {url for r in results.values() for url in r.pages}
    get_endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    not_requested = sorted(e for e in get_endpoints
                           if not any(u in requested for u in seeds.get(e, [])))
    assert not_requested == []
    assert [r.viewer for r in results.values() if r.truncated] == []
    ok = sum(1 for r in results.values() for status in r.pages.values() if status == 200)
    assert ok >= MIN_PAGES_SEEN
    coordinator_ok = results[built.coordinators[0].email].ok_endpoints
    assert {"coordinator.home", "coordinator.campaign", "custodian.contact_request"} <= \
        coordinator_ok
    for reviewer in built.reviewers:
        assert sum(s == 200 for s in results[reviewer.email].pages.values()) >= 1


def test_no_staff_email_names_an_applicant(leak_app, crawls, detector):
    app, _ = leak_app
    with app.app_context():
        session = sessionmaker(bind=app.extensions["recruit.engine"])()
        messages = session.scalars(select(OutboxMessage)
                                   .where(OutboxMessage.audience == "staff")).all()
        session.close()
    assert messages, "the build sends contact requests, so staff must have mail"
    leaks = [(m.template, hit) for m in messages
             for text in (m.subject, m.body_text, m.body_html or "", m.to_address)
             for hit in detector.scan(text)]
    assert leaks == []


def test_the_vault_holds_identities_encrypted(leak_app):
    """The database itself never stores a name in clear (only the applicant's login e-mail)."""
    app, built = leak_app
    person = built.people[0]
    engine = app.extensions["recruit.engine"]
    with engine.connect() as conn:
        sealed = conn.execute(sa.text("SELECT sealed FROM identity")).scalars().all()
    blob = b"".join(bytes(s) for s in sealed)
    assert person.last.encode() not in blob
    assert person.phone.encode() not in blob


# -- candidates' feedback (issue 19) -----------------------------------------------------------

_MARKER = re.compile(r"метка-(\d+)-конец")
_EXACT = re.compile(r"\d[.,]\d\s*(?:из|of)\s*5")


class CandidateDetector(Detector):
    """What one candidate must never see: anyone else's identity, a reviewer's or a
    coordinator's address, a hidden comment, another candidacy's comments or code."""

    def __init__(self, built: Built, index: int, staff_emails: list[str]):
        super().__init__([p for n, p in enumerate(built.people) if n != index])
        # Names repeat among the people: what is also the candidate's own is theirs to see.
        own = Detector([built.people[index]])
        for word in own.words:
            self.words.pop(word, None)
        for shaped in own.shaped:
            self.shaped.pop(shaped, None)
        mine = {needle for needle, _who, _kind in own.phrases}
        self.phrases = [entry for entry in self.phrases if entry[0] not in mine]
        self.own = {cid for cid, n in built.candidacy_person.items() if n == index}
        self.staff = [_fold(e) for e in staff_emails]
        self.staff_words = {_fold(e.split("@")[0]) for e in staff_emails}
        self.codes = {_fold(c) for c in built.codes}

    def scan(self, text: str) -> list[Hit]:
        hits = super().scan(text)
        if not text:
            return hits
        folded = _fold(text)
        hits += [Hit("staff", "staff", e) for e in self.staff if e in folded]
        words = set(_WORD.findall(folded))
        hits += [Hit("staff", "staff", w) for w in self.staff_words & words]
        hits += [Hit("another candidacy", "code", w) for w in self.codes & {
            m.group(0) for m in re.finditer(r"[a-z0-9]{2}-[a-z0-9]{4}", folded)}]
        if "скрытый-отзыв-" in folded:
            hits.append(Hit("a coordinator", "hidden comment", "скрытый-отзыв-"))
        hits += [Hit("another candidacy", "comment", m.group(0))
                 for m in _MARKER.finditer(folded) if int(m.group(1)) not in self.own]
        return hits


@pytest.fixture(scope="module")
def candidate_crawls(leak_app, crawls):
    """Each feedback reader's crawl: their pages, every feedback address of everyone."""
    from recruit.models import User

    app, built = leak_app
    _, seeds, tap = crawls
    with app.app_context():
        session = sessionmaker(bind=app.extensions["recruit.engine"])()
        staff = [u.email for u in session.scalars(select(User).where(
            User.role != Role.APPLICANT.value))]
        # Codes are the pseudonyms: a candidate's own code may be theirs to see.
        results = {}
        for index in built.feedback_readers:
            person = built.people[index]
            user = session.get(User, person.user_id)
            detector = CandidateDetector(built, index, staff)
            own_codes = {_fold(c.code) for c in session.scalars(
                select(Candidacy).where(Candidacy.user_id == user.id))}
            detector.codes -= own_codes
            wanted = {e: seeds.get(e, []) for e in ("feedback.show", "applicant.home",
                                                    "applicant.candidacy", "applicant.stage")}
            results[person.email] = (crawl(app, user, wanted, detector, tap, limit=1500),
                                     user, detector)
        session.close()
    return results


def test_a_candidate_reads_only_their_own_feedback_and_nobody_elses_data(candidate_crawls):
    assert len(candidate_crawls) >= 3
    leaks = [f"{email} {url}: {hit.kind} of {hit.who} ({hit.found!r})"
             for email, (result, _user, _detector) in candidate_crawls.items()
             for url, hit in result.leaks]
    assert leaks == [], "a candidate saw what is not theirs:\n" + "\n".join(leaks[:60])
    errors = [e for result, _user, _detector in candidate_crawls.values() for e in result.errors]
    assert errors == []
    for result, _user, _detector in candidate_crawls.values():
        assert "feedback.show" in result.ok_endpoints
        assert not result.truncated


def test_feedback_in_a_small_pool_shows_no_exact_scores(leak_app, candidate_crawls):
    """Below the minimum pool, no average to a decimal: with two reviews an answer it would
    give away single reviewers' scores."""
    app, built = leak_app
    with app.app_context():
        session = sessionmaker(bind=app.extensions["recruit.engine"])()
        minimum = session.scalar(select(Candidacy).where(
            Candidacy.code == built.codes[0])).campaign.feedback_min_pool
        pools = dict(session.execute(
            select(Submission.stage_id, sa.func.count()).where(Submission.score.is_not(None))
            .group_by(Submission.stage_id)).all())
        small = {stage_id for stage_id, n in pools.items() if n < minimum}
        large = {stage_id for stage_id, n in pools.items() if n >= minimum}
        session.close()
        assert small and large, pools
        seen = {"small": 0, "large": 0}
        for result, user, _detector in candidate_crawls.values():
            client = Client(app)
            client.login(user)
            for url, status in result.pages.items():
                match = re.fullmatch(r"/me/candidacies/\d+/stages/(\d+)/feedback", url)
                if not match or status != 200:
                    continue
                text = html.unescape(client.get(url).get_data(as_text=True))
                if int(match.group(1)) in small:
                    seen["small"] += 1
                    assert not _EXACT.search(text), url
                    assert '<rect class="bar"' not in text, url
                else:
                    seen["large"] += 1
                    assert _EXACT.search(text), url
    assert seen["small"] and seen["large"], seen


def test_outcome_emails_link_to_feedback_and_name_nobody_else(leak_app, candidate_crawls):
    app, _built = leak_app
    with app.app_context():
        session = sessionmaker(bind=app.extensions["recruit.engine"])()
        messages = session.scalars(select(OutboxMessage).where(
            OutboxMessage.template.in_(("stage_passed", "stage_not_passed")))).all()
        session.close()
    assert len(messages) >= len(candidate_crawls)
    by_email = {email: detector for email, (_r, _u, detector) in candidate_crawls.items()}
    for message in messages:
        assert "/feedback" in message.body_text and "/feedback" in (message.body_html or "")
        detector = by_email[message.to_address]
        hits = [hit for text in (message.subject, message.body_text, message.body_html or "")
                for hit in detector.scan(text)]
        assert hits == [], (message.template, hits)
