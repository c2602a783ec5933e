"""A generated corpus for measuring redaction: made-up applicants writing the way people write.

Each case is a short answer with one planted secret of a known kind, redacted with the
applicant's identity; control cases hold ordinary text (dates, numbers, other people's
names, the words people spell addresses with) that must survive untouched. Names are
inflected with pymorphy3 in all six cases for both genders; every birth-date layout,
spelled-out address and quasi-identifier the redactor claims to handle is generated.

``python -m tests.redaction_corpus`` prints the measured table for the README. A miss found
in real answers becomes a template here.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import iuliia
import phonenumbers

from recruit.domain.given_names import familiar_forms
from recruit.domain.redaction import Redaction, _morph, redact

SEED = 20261130
TODAY = date(2026, 11, 30)
CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct")

MALE = ["Александр", "Дмитрий", "Сергей", "Андрей", "Алексей", "Михаил", "Иван", "Евгений",
        "Николай", "Владимир", "Павел", "Константин", "Григорий", "Фёдор", "Василий",
        "Тимофей", "Степан", "Илья", "Роман", "Кирилл"]
FEMALE = ["Анна", "Мария", "Елена", "Ольга", "Татьяна", "Наталья", "Евгения", "Ксения",
          "Дарья", "Екатерина", "Юлия", "Светлана", "Ирина", "Валентина", "Людмила",
          "Анастасия", "Полина", "Варвара", "Софья", "Галина"]
SURNAMES = ["Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов", "Новиков",
            "Морозов", "Волков", "Соловьёв", "Васильев", "Зайцев", "Павлов", "Семёнов",
            "Голубев", "Виноградов", "Богданов", "Воробьёв", "Фёдоров", "Михайлов",
            "Беляев", "Тарасов", "Белов", "Комаров", "Орлов", "Киселёв", "Макаров",
            "Андреев", "Ковалёв", "Ильин", "Гусев", "Титов", "Кузьмин", "Кудрявцев",
            "Баранов", "Куликов", "Алексеев", "Степанов", "Яковлев", "Сорокин"]
FATHERS = ["Иван", "Пётр", "Сергей", "Николай", "Андрей", "Олег", "Виктор", "Игорь",
           "Алексей", "Михаил", "Юрий", "Борис", "Василий", "Анатолий", "Геннадий"]
CITIES = ["Москва", "Казань", "Тверь", "Самара", "Омск", "Томск", "Пермь", "Вологда",
          "Ярославль", "Новосибирск", "Екатеринбург", "Воронеж", "Курск", "Минск", "Рязань"]
STREETS = ["Ленина", "Пушкина", "Гагарина", "Советская", "Мира", "Садовая", "Лесная",
           "Чехова", "Кирова", "Школьная"]
DOMAINS = [("mail", "ru"), ("gmail", "com"), ("yandex", "ru"), ("inbox", "ru"),
           ("rambler", "ru"), ("tut", "by"), ("mail", "kz")]
PHONE_SHAPES = {"RU": "+7 9{a}{b} {c}{d}{e}-{f}{g}-{h}{i}", "BY": "+375 29 {c}{d}{e}-{f}{g}-{h}{i}",
                "KZ": "+7 70{a} {c}{d}{e} {f}{g}{h}{i}", "AM": "+374 91 {c}{d}{e}{f}{g}{h}",
                "KG": "+996 555 {c}{d}{e} {f}{g}{h}"}
MONTHS_GEN = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
              "сентября", "октября", "ноября", "декабря"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]

FILLER = [
    "Я бы сначала извинился перед клиентом и коротко пересказал его проблему.",
    "Главное — не спорить, а предложить понятное решение и срок.",
    "I would thank the customer for the patience and explain the next steps.",
    "Потом я бы проверил заказ и написал, что мы уже сделали.",
]


@dataclass(frozen=True)
class Case:
    """One answer: what was planted (``secret``, of ``kind``), or a control (kind None)."""

    kind: str | None
    text: str
    secret: str
    identity: dict = field(hash=False)


def _inflect(word: str, grammeme: str, case: str, gender: str | None = None) -> str:
    parses = [p for p in _morph().parse(word) if grammeme in p.tag] or _morph().parse(word)
    # "Евгения" is also a case of "Евгений": take the reading of the wanted gender.
    parses = [p for p in parses if not gender or gender in p.tag or "ms-f" in p.tag] or parses
    wanted = {case} | ({gender} if gender else set())
    form = parses[0].inflect(wanted) or parses[0].inflect({case})
    word_out = form.word if form else word.lower()
    return word_out[:1].upper() + word_out[1:]


def _patronymic(father: str, female: bool) -> str:
    if father.endswith("ий"):
        stem = father[:-2] + "ье"
    elif father.endswith(("ей", "ай")) or father.endswith("ь"):
        stem = father[:-1] + "е"
    elif father in ("Пётр", "Михаил"):
        stem = {"Пётр": "Петро", "Михаил": "Михайло"}[father]
    else:
        stem = father + "о"
    return stem + ("вна" if female else "вич")


@dataclass
class Person:
    """A made-up applicant."""

    first: str
    middle: str
    last: str
    female: bool
    email: str
    phone: str
    citizenship: str
    birth: date
    handle: str
    city: str

    def identity(self) -> dict[str, str]:
        return {"first": self.first, "middle": self.middle, "last": self.last,
                "email": self.email, "phone": self.phone, "citizenship": self.citizenship,
                "birth_date": self.birth.isoformat(), "handle": f"@{self.handle}",
                "city": self.city}


def _person(rng: random.Random, i: int) -> Person:
    female = i % 2 == 1
    first = (FEMALE if female else MALE)[(i // 2) % 20]
    surname = SURNAMES[i % len(SURNAMES)]
    last = _inflect(surname, "Surn", "nomn", "femn") if female else surname
    latin = iuliia.WIKIPEDIA.translate(surname).lower().replace("'", "")
    host, tld = DOMAINS[i % len(DOMAINS)]
    citizenship = ["RU", "RU", "BY", "KZ", "AM", "KG"][i % 6]
    while True:
        digits = {k: rng.randrange(10) for k in "abcdefghi"}
        phone = PHONE_SHAPES[citizenship].format(**digits)
        if phonenumbers.is_valid_number(phonenumbers.parse(phone)):
            break
    first_latin = iuliia.WIKIPEDIA.translate(first).lower().replace("'", "")
    return Person(
        first=first, middle=_patronymic(rng.choice(FATHERS), female), last=last, female=female,
        email=f"{first_latin[:3]}.{latin}{rng.randrange(10, 99)}@{host}.{tld}", phone=phone,
        citizenship=citizenship,
        birth=TODAY - timedelta(days=365 * rng.randrange(19, 55) + rng.randrange(365)),
        handle=f"{first_latin[:4]}_{latin[:6]}{rng.randrange(10, 99)}",
        city=rng.choice(CITIES))


def _sentence(rng: random.Random, insert: str) -> str:
    before, after = rng.sample(FILLER, 2)
    return f"{before} {insert} {after}"


def _name_cases(rng: random.Random, p: Person) -> list[tuple[str, str, str]]:
    gender = "femn" if p.female else "masc"
    out = []
    for case in CASES:
        first = _inflect(p.first, "Name", case, gender)
        middle = _inflect(p.middle, "Patr", case, gender)
        last = _inflect(p.last, "Surn", case, gender)
        out.append(("name", f"Это письмо про {first} {middle}.", f"{first} {middle}"))
        out.append(("name", f"Ответ подготовлен: {last}.", last))
        out.append(("name", f"Упомяните {middle} в отчёте.", middle))
    latin = iuliia.MOSMETRO.translate(p.first)
    out.append(("name", f"Best regards, {latin} {iuliia.WIKIPEDIA.translate(p.last)}.", latin))
    familiar = sorted(familiar_forms(p.first))
    for form in rng.sample(familiar, min(4, len(familiar))):
        case = rng.choice(CASES)
        inflected = _inflect(form, "Name", case)
        out.append(("familiar", f"Друзья зовут меня просто: {inflected}.", inflected))
    if familiar:
        latin_familiar = iuliia.WIKIPEDIA.translate(familiar[0])
        out.append(("familiar", f"Call me {latin_familiar}, please.", latin_familiar))
    return out


def _date_layouts(d: date) -> list[str]:
    return [
        d.strftime("%d.%m.%Y"), f"{d.day}.{d.month}.{d.year}", d.isoformat(),
        d.strftime("%d/%m/%Y"), d.strftime("%m/%d/%Y"), d.strftime("%d.%m.%y"),
        f"{d.day} {MONTHS_GEN[d.month - 1]} {d.year} года", f"{d.day} {MONTHS_GEN[d.month - 1]}",
        f"{MONTHS_EN[d.month - 1]} {d.day}, {d.year}", f"{d.day} {MONTHS_EN[d.month - 1]} {d.year}",
        f"{d.day}th of {MONTHS_EN[d.month - 1][:3]} {d.year}", d.strftime("%d-%m-%Y"),
    ]


def _contact_cases(rng: random.Random, p: Person) -> list[tuple[str, str, str]]:
    local, _, domain = p.email.partition("@")
    host, tld = domain.rsplit(".", 1)
    spelled_local = local.replace(".", " точка ")
    cyr_host = {"mail": "мейл", "gmail": "гмейл", "yandex": "яндекс"}.get(host, host)
    out = [("email", f"Пишите на {p.email}, отвечу быстро.", p.email),
           ("email", f"Почта: {p.email.upper()}", p.email.upper())]
    spelled = [
        f"{local} собака {host} точка {tld}", f"{local} (at) {host} (dot) {tld}",
        f"{local}[at]{host}[dot]{tld}", f"{local} at {host} dot {tld}",
        f"{local} @ {host} . {tld}", f"{spelled_local} собака {host} точка {tld}",
        f"{local} собака {cyr_host} точка {'ру' if tld == 'ru' else tld}",
        f"{local} на {host}.{tld}", f"{local} в {host}.{tld}",
        f"{local} {{at}} {host} {{dot}} {tld}",
        f"{local} собачка {host}.{tld}", f"{local} (собака) {host} (точка) {tld}",
    ]
    for text in rng.sample(spelled, 6):
        out.append(("email spelled out", f"Адрес для связи: {text}.", text))
    out.append(("email spelled out", f"Мой ящик {local}, если что.", local))
    part = max(local.split("."), key=len)
    out.append(("email spelled out", f"Ищите меня как {part} везде.", part))
    number = phonenumbers.parse(p.phone)
    for fmt in (phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.E164):
        written = phonenumbers.format_number(number, fmt)
        out.append(("phone", f"Мой телефон {written}, звоните после шести.", written))
    out.append(("handle", f"В телеграме я @{p.handle}, пишите.", f"@{p.handle}"))
    out.append(("handle", f"Ник {p.handle} везде одинаковый.", p.handle))
    return out


def _birth_cases(rng: random.Random, p: Person) -> list[tuple[str, str, str]]:
    verb = "родилась" if p.female else "родился"
    out = [("birth date", f"Я {verb} {layout}.", layout)
           for layout in rng.sample(_date_layouts(p.birth), 5)]
    out.append(("birth date", f"Я {verb} в {p.birth.year} году.", str(p.birth.year)))
    out.append(("birth date", f"{p.birth.year} г.р., опыт есть.", str(p.birth.year)))
    out.append(("birth date", f"I was born in {p.birth.year}.", str(p.birth.year)))
    other = date(rng.randrange(1955, 2005), rng.randrange(1, 13), rng.randrange(1, 29))
    layout = rng.choice(_date_layouts(other)[:7] + _date_layouts(other)[8:])
    out.append(("other birth date", f"Мой брат родился {layout}.", layout))
    return out


def _quasi_cases(rng: random.Random, p: Person) -> list[tuple[str, str, str]]:
    age = TODAY.year - p.birth.year
    years = "год" if age % 10 == 1 and age != 11 else (
        "года" if age % 10 in (2, 3, 4) and age not in (12, 13, 14) else "лет")
    ages = [f"мне {age} {years}", f"Мне уже {age}", f"I am {age} years old", f"I'm {age}",
            f"{age}-летний", f"в свои {age} {years}", f"возраст: {age}", f"{age} y.o."]
    out = [("age", f"Коротко о себе: {a}, люблю людей.", a) for a in rng.sample(ages, 3)]
    city = rng.choice(CITIES)
    loct = _inflect(city, "Geox", "loct")
    gent = _inflect(city, "Geox", "gent")
    n = rng.randrange(2, 300)
    affiliations = [f"школу №{n} в {loct}", f"гимназию {n} города {gent}",
                    f"в компании «Вектор» в {loct}", f"колледж связи в {loct}",
                    f"лицей №{n}, {city}", f"school {n} in {iuliia.WIKIPEDIA.translate(city)}",
                    f"Казанский университет в {loct}"]
    for text in rng.sample(affiliations, 3):
        out.append(("school or employer", f"Я окончил {text}, потом работал.", text))
    street = rng.choice(STREETS)
    house, flat = rng.randrange(1, 120), rng.randrange(1, 300)
    addresses = [f"ул. {street}, д. {house}, кв. {flat}", f"улица {street} {house}",
                 f"{street} ул., {house}", f"проспект {street} {house}-{flat}",
                 f"д. {house}, кв. {flat}", f"{house} Baker Street",
                 f"ul. {iuliia.WIKIPEDIA.translate(street)}, {house}",
                 f"пер. {street}, {house}"]
    for text in rng.sample(addresses, 3):
        out.append(("street address", f"Живу по адресу {text}, рядом с метро.", text))
    return out


CONTROLS = [
    "Заказ №123456 оформлен 12.05.2023, доставка через 3 дня.",
    "Период 2021–2023 был непростым для компании.",
    "Звоните на горячую линию 8 800 555-35-35, это бесплатно.",
    "Скидка 15% действует до 31 декабря.",
    "В 2019 году компания открыла второй склад.",
    "Клиенту пришлось ждать 23 минуты, это много.",
    "Мы работаем с 9 до 18, без выходных.",
    "Сумма возврата — 36 000 рублей.",
    "Моя собака любит гулять, а точка зрения клиента важна.",
    "Look at the order page and check the status.",
    "I am happy to help with the refund.",
    "I am 100% sure the parcel arrives tomorrow.",
    "Мне 20 минут хватит, чтобы разобраться.",
    "Мне нужно 2 дня на проверку.",
    "Оценил бы на 3 из 5.",
    "Версия приложения 4.12.1 вышла вчера.",
    "Трек-номер RA123456789RU, проверьте на сайте.",
    "3 марта мы запустили новую акцию.",
    "В марте 2020 года всё перешло в онлайн.",
    "Он учился в школе и любил математику.",
    "Компания открыла офис в Казани.",
    "На улице было холодно, курьер опоздал.",
    "Тариф «Стандарт» стоит 299 рублей в месяц.",
    "Ответ займёт 5–7 рабочих дней.",
    "Пишите в чат поддержки, там отвечают быстрее.",
    "Посмотрите раздел «Помощь» на сайте.",
    "Курьер приедет 14.12, с 10:00 до 14:00.",
    "Номер обращения 2024-0815-77.",
    "С 1 января 2025 года правила изменились.",
    "Коллега Пётр Сидоров поможет с возвратом.",
    "Передайте привет Марине из отдела логистики.",
    "Товар весит 2,5 кг, размер 30 на 40 см.",
    "У клиента 3 заказа за 2 недели.",
    "Мы ответили в 23:15, это поздно.",
    "В 1990-х такого сервиса не было.",
    "Лучше написать «в течение часа», чем «скоро».",
    "The customer waited 45 minutes on the line.",
    "Delivery on 12/05/2024 was delayed.",
    "Call 8-800-100-00-00 for free.",
    "Курс доллара 92,5 рубля.",
]


def build_corpus(seed: int = SEED, people: int = 24) -> list[Case]:
    """The whole corpus: every kind for ``people`` applicants, then the controls."""
    rng = random.Random(seed)
    cases: list[Case] = []
    for i in range(people):
        person = _person(rng, i)
        identity = person.identity()
        planted = (_name_cases(rng, person) + _contact_cases(rng, person)
                   + _birth_cases(rng, person) + _quasi_cases(rng, person))
        for kind, insert, secret in planted:
            cases.append(Case(kind, _sentence(rng, insert), secret, identity))
        # Each control sentence is read with several applicants' identities.
        for k in range(4):
            cases.append(Case(None, CONTROLS[(4 * i + k) % len(CONTROLS)], "", identity))
    return cases


def hidden(case: Case, result: Redaction) -> bool:
    """Whether every letter and digit of the planted secret lies inside some span."""
    start = case.text.index(case.secret)
    covered = set()
    for span in result.spans:
        covered.update(range(span.start, span.end))
    return all(i in covered for i in range(start, start + len(case.secret))
               if case.text[i].isalnum())


@dataclass
class Measure:
    """Recall per kind, control retention and precision of what was hidden."""

    hits: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    totals: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    misses: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    controls_kept: int = 0
    controls: int = 0
    spans: int = 0
    spans_on_secret: int = 0

    def recall(self, kind: str) -> float:
        return self.hits[kind] / self.totals[kind]

    @property
    def kept(self) -> float:
        return self.controls_kept / self.controls

    @property
    def precision(self) -> float:
        return self.spans_on_secret / self.spans


def measure(cases: list[Case]) -> Measure:
    """Redact every case and count."""
    m = Measure()
    for case in cases:
        result = redact(case.text, identity=case.identity, today=TODAY)
        if case.kind is None:
            m.controls += 1
            m.controls_kept += result.text == case.text
            m.spans += len(result.spans)
            continue
        m.totals[case.kind] += 1
        if hidden(case, result):
            m.hits[case.kind] += 1
        else:
            m.misses[case.kind].append(case.text)
        start = case.text.index(case.secret)
        end = start + len(case.secret)
        m.spans += len(result.spans)
        m.spans_on_secret += sum(1 for s in result.spans if s.start < end and start < s.end)
    return m


def table(m: Measure) -> str:
    """The measured figures as a Markdown table."""
    rows = ["| kind | cases | hidden or flagged | recall |", "|---|---|---|---|"]
    for kind in sorted(m.totals, key=lambda k: -m.totals[k]):
        rows.append(f"| {kind} | {m.totals[kind]} | {m.hits[kind]} | {m.recall(kind):.1%} |")
    rows.append(f"| controls kept untouched | {m.controls} | {m.controls_kept} | {m.kept:.1%} |")
    rows.append(f"\nPrecision: {m.spans_on_secret} of {m.spans} spans "
                f"({m.precision:.1%}) lie on a planted secret.")
    return "\n".join(rows)


if __name__ == "__main__":
    corpus = build_corpus()
    result = measure(corpus)
    print(f"{len(corpus)} cases\n")
    print(table(result))
    for kind, texts in result.misses.items():
        print(f"\nmissed {kind}:")
        print("\n".join(f"  {t}" for t in texts[:12]))
