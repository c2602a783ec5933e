"""Quasi-identifiers: facts that name nobody alone but narrow an applicant down together.

A stated age, a school or employer named with its city, and a street address are found
here; redaction flags them for the custodian's check instead of deciding alone.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator

from pymorphy3.units import DictionaryAnalyzer

MIN_AGE, MAX_AGE = 14, 90

_AGE_NUMBER = r"(\d{2})(?!\d)"
# "Мне 23" is an age only when nothing else is counted: "мне 20 минут хватит" is not.
_AGE_END = r"(?:\s*(?:год|года|лет)\b|(?=\s*(?:[.,;:!?)—–]|$)))"
_AGE = re.compile(
    "|".join((
        # "мне 23 года", "мне уже исполнилось 23", "мне 23"
        rf"\bмне\s+(?:(?:уже|почти|ещё|еще|только|всего|скоро|сейчас|исполнилось|стукнуло)\s+)*"
        rf"{_AGE_NUMBER}{_AGE_END}",
        rf"\b(?:в\s+свои|исполнилось|стукнуло)\s+{_AGE_NUMBER}{_AGE_END}",
        rf"\bвозраст(?:а|ом|е)?\s*(?:[:—–-]\s*|\s+)(?:мне\s+)?{_AGE_NUMBER}{_AGE_END}",
        rf"(?<!\d){_AGE_NUMBER}\s*-?\s*летн(?:ий|яя|его|ей|ему|им|ем|юю)\b",
        rf"(?<!\d){_AGE_NUMBER}\s*(?:год|года|лет)\s+от\s+роду",
        rf"\bI(?:'m|’m|\s+am)\s+(?:now\s+|almost\s+|just\s+|only\s+)?{_AGE_NUMBER}"
        rf"(?:\s*(?:years?\s+old|y\.?\s?o\.?)|(?=\s*(?:[.,;:!?)—–]|$)))",
        rf"(?<!\d){_AGE_NUMBER}\s*(?:years?\s+old|y\.\s?o\.|yo\b|-year-old)",
        rf"\b(?:aged|age[:\s])\s*{_AGE_NUMBER}\b",
    )),
    re.IGNORECASE,
)

# "Казанский федеральный университет": the adjectives before the word belong to the name.
_ADJ_END = r"(?:ий|ый|ой|ая|ое|ого|ому|ом|ую|ым)"
_ADJECTIVES = rf"(?:[А-ЯЁ][а-яё-]+{_ADJ_END}\s+(?:[а-яё-]+{_ADJ_END}\s+){{0,2}})?"
_INSTITUTION = re.compile(
    r"(?:(?<![\w])" + _ADJECTIVES
    + r"(?:школ|гимнази|лице|колледж|техникум|университет|институт|академи|"
    r"училищ|консерватори|вуз)[а-яё]*(?:\s*(?:№|N|номер)\s*\d+|\s+\d+)?"
    r"|(?<![\w])[А-ЯЁ][А-ЯЁа-яё]{0,6}(?:ГУ|ГТУ|ТУ|ФУ|ПУ|ЭУ|МУ|ИТМО|ВШЭ|МФТИ|МИФИ)(?![\w])"
    r"|(?<![\w])(?:ООО|ОАО|ЗАО|АО|ПАО|ИП|ГБУ|МБОУ|ГБОУ)\s*[«\"][^»\"]{1,60}[»\"]"
    r"|(?<![\w])(?:в|во)\s+компани[июя]\s+[«\"]?[A-ZА-ЯЁ][\w&.-]*(?:\s+[A-ZА-ЯЁ][\w&.-]*)?[»\"]?"
    r"|(?<![\w])(?:работа(?:ю|л|ла|ем|ли)|тружусь|устроил(?:ся|ась))\s+(?:в|во|на)\s+"
    r"[«\"]?[A-ZА-ЯЁ][\w&.-]*(?:\s+[A-ZА-ЯЁ][\w&.-]*)?[»\"]?"
    r"|(?<![\w])(?:school|lyceum|gymnasium|college|university|institute|academy)(?:\s+(?:No\.?\s*)?\d+)?"
    r"|(?<![\w])(?:LLC|Inc\.?|Ltd\.?)\s+[A-Z][\w&.-]*)",
    re.IGNORECASE,
)
# A city right before or after the institution, within the same sentence.
_NEAR = 60
_CITY_WORD = re.compile(
    r"(?:г\.\s?|город[а-я]*\s+)?([A-ZА-ЯЁ][a-zа-яё]+(?:-[A-ZА-ЯЁа-яё][a-zа-яё]+)*)")
_LATIN_PLACE = re.compile(r"\b(?:in|of|from)\s+([A-Z][a-z]+(?:[\s-][A-Z][a-z]+)?)")

_STREET_RU = (
    r"(?:ул\.|улиц[аеуыи]й?|пр-?т\.?|просп\.|проспект[аеу]?|пер\.|переул(?:ок|ке|ка)|"
    r"б-р|бульвар[аеу]?|ш\.|шоссе|наб\.|набережн(?:ая|ой|ую)|пл\.|площад[ьи]|проезд[аеу]?|"
    r"мкр\.?|микрорайон[аеу]?|тупик[аеу]?|аллея)"
)
_HOUSE = (
    r"(?:,?\s*(?:д\.|дом[аеу]?)?\s*\d{1,4}[а-яa-z]?(?:[/-]\d{1,4})?"
    r"(?:\s*,?\s*(?:к\.|корп\.|корпус|стр\.|строение)\s*\d{1,3})?"
    r"(?:\s*,?\s*(?:кв\.|квартир[аеуы]|кв|apt\.?)\s*\d{1,4})?)"
)
_ADDRESS = re.compile(
    "|".join((
        rf"(?<![\w]){_STREET_RU}\s*[А-ЯЁA-Z0-9][\w.-]*(?:\s+[А-ЯЁ][\w-]*){{0,3}}{_HOUSE}?",
        rf"(?<![\w])[А-ЯЁ][а-яё-]+\s+(?:ул\.|улица|пр-?т|просп\.|проспект|пер\.|переулок|"
        rf"б-р|бульвар|ш\.|шоссе|наб\.|набережная){_HOUSE}",
        r"(?<![\w])(?:д\.|дом)\s*\d{1,4}[а-я]?\s*,?\s*(?:кв\.|квартира)\s*\d{1,4}",
        r"(?<![\w\d])\d{1,5}\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2}\s+"
        r"(?:Street|St\.|Avenue|Ave\.|Road|Rd\.|Lane|Boulevard|Blvd\.?|Drive|Dr\.)",
        r"(?<![\w])(?:ul\.|ulitsa|prospekt|pr\.|per\.|pereulok)\s*[A-Z][a-z-]+,?\s*\d{1,4}[a-z]?"
        r"(?:\s*,?\s*(?:apt\.?|kv\.?)\s*\d{1,4})?",
        r"(?<![\w])[A-Z][a-z-]+\s+(?:str\.|street|st\.|avenue|ave\.)\s*,?\s*\d{1,4}[a-z]?"
        r"(?:\s*,?\s*(?:apt\.?|kv\.?)\s*\d{1,4})?",
    )),
)


def age_spans(text: str) -> Iterator[tuple[int, int]]:
    """Stated ages: "мне 23 года", "23-летний", "I am 23", "23 years old"."""
    for m in _AGE.finditer(text):
        age = next(int(g) for g in m.groups() if g)
        if MIN_AGE <= age <= MAX_AGE:
            yield m.start(), m.end()


@functools.cache
def _is_place(word: str) -> bool:
    """Whether the dictionary knows the word as a geographical name (Тверь, Казани, Минске)."""
    from recruit.domain.redaction import _morph

    return any("Geox" in p.tag and isinstance(p.methods_stack[0][0], DictionaryAnalyzer)
               for p in _morph().parse(word))


def affiliation_spans(text: str, *,
                      places: Iterable[tuple[int, int]] = ()) -> Iterator[tuple[int, int]]:
    """A school, university or employer named together with a city (or one of ``places``)."""
    known = list(places)
    for m in _INSTITUTION.finditer(text):
        lo = max(0, m.start() - _NEAR)
        hi = min(len(text), m.end() + _NEAR)
        # Stay within the sentence the institution is named in.
        before = re.split(r"[.!?\n]\s", text[lo:m.start()])[-1]
        after = re.split(r"[.!?\n]\s", text[m.end():hi])[0]
        lo, hi = m.start() - len(before), m.end() + len(after)
        places = [(lo + c.start(), lo + c.end()) for c in _CITY_WORD.finditer(text[lo:hi])
                  if (lo + c.start(1) >= m.end() or lo + c.end(1) <= m.start())
                  and _is_place(c.group(1))]
        places += [(lo + c.start(1), lo + c.end(1)) for c in _LATIN_PLACE.finditer(text[lo:hi])
                   if lo + c.start(1) >= m.end()]
        places += [p for p in known if lo <= p[0] and p[1] <= hi]
        if places:
            start = min(m.start(), *(p[0] for p in places))
            end = max(m.end(), *(p[1] for p in places))
            yield start, end


def address_spans(text: str) -> Iterator[tuple[int, int]]:
    """Street addresses: "ул. Ленина, д. 5, кв. 12", "Ленина ул. 5", "15 Baker Street"."""
    for m in _ADDRESS.finditer(text):
        # "улица" alone ("на улице Ленина") names no house: only a number makes an address.
        if re.search(r"\d", m.group()):
            yield m.start(), m.end()
