"""Automatic redaction of identifying data in applicants' answers before blind review.

Everything here is pure: text in, spans and redacted text out. Positions always refer to
the original text, so a custodian can add spans by hand and :func:`apply_spans` rebuilds
the same redacted text the automatic pass would have produced.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date

import iuliia
import phonenumbers
import pymorphy3
from pymorphy3.units import DictionaryAnalyzer

MARK_OPEN, MARK_CLOSE = "\u27e6", "\u27e7"
KINDS = ("email", "phone", "link", "handle", "name", "city", "date", "age", "affiliation",
         "address")
# Every field of an identity profile; citizenship only orders the phone regions tried.
IDENTITY_KEYS = frozenset({"first", "last", "middle", "email", "phone", "city", "vk", "handle",
                           "birth_date", "citizenship"})

# Russia and the other EAEU states: the citizenships the campaigns accept.
PHONE_REGIONS = ("RU", "BY", "KZ", "AM", "KG")


@dataclass(frozen=True)
class Span:
    """A redacted stretch ``[start, end)`` of the original text and what it hid.

    A ``flag`` is the automatic pass's suggestion for the custodian to confirm or dismiss;
    until then it is hidden like any other span, so an unchecked answer never shows it."""

    kind: str
    start: int
    end: int
    flag: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown redaction kind {self.kind!r}")
        if not 0 <= self.start < self.end:
            raise ValueError(f"empty or negative span {self.start}..{self.end}")

    def to_json(self) -> dict:
        """The span as a plain dict (``flag`` only when set)."""
        data = {"kind": self.kind, "start": self.start, "end": self.end}
        if self.flag:
            data["flag"] = True
        return data

    @classmethod
    def from_json(cls, data: Mapping) -> Span:
        """A span from its stored dict."""
        return cls(kind=data["kind"], start=int(data["start"]), end=int(data["end"]),
                   flag=bool(data.get("flag", False)))


@dataclass(frozen=True)
class Redaction:
    """The redacted text of one answer together with the spans it was made from."""

    text: str
    spans: tuple[Span, ...]

    def to_json(self) -> list[dict]:
        """Return the spans as plain dicts for storage beside the answer."""
        return [s.to_json() for s in self.spans]


# ---------------------------------------------------------------------------------------
# Public API


def redact(text: str, *, identity: Mapping[str, str | None] | None = None,
           today: date | None = None) -> Redaction:
    """Find identifying data in an answer and return it redacted with its spans.

    ``today`` decides which years could be an adult applicant's birth year."""
    from recruit.domain import redaction_dates, redaction_quasi

    profile = _profile(identity)
    found: list[Span] = []
    found += _email_spans(text)
    found += _phone_spans(text)
    found += _link_spans(text)
    found += _handle_spans(text)
    found += profile.contact_spans(text)
    found += profile.word_spans(text)
    found += (Span(kind="date", start=hit.start, end=hit.end, flag=not hit.own)
              for hit in redaction_dates.date_hits(text, birth=profile.birth,
                                                   today=today or date.today()))
    # The applicant's own city counts as a place even where the dictionary does not know it.
    cities = [(s.start, s.end) for s in found if s.kind == "city"]
    quasi = (("age", redaction_quasi.age_spans(text)),
             ("affiliation", redaction_quasi.affiliation_spans(text, places=cities)),
             ("address", redaction_quasi.address_spans(text)))
    for kind, stretches in quasi:
        found += (Span(kind=kind, start=start, end=end, flag=True) for start, end in stretches)
    spans = _merge(found)
    found_names = [s for s in spans if s.kind == "name"]
    if found_names:
        spans = _merge([*spans, *profile.initial_spans(text, found_names)])
    return Redaction(text=apply_spans(text, spans), spans=tuple(spans))


def apply_spans(text: str, spans: Iterable[Span]) -> str:
    """Rebuild the redacted text from the original and (possibly overlapping) spans."""
    out: list[str] = []
    pos = 0
    for span in _merge(spans):
        out.append(_neutralise(text[pos : span.start]))
        out.append(f"{MARK_OPEN}{span.kind}{MARK_CLOSE}")
        pos = span.end
    out.append(_neutralise(text[pos:]))
    return "".join(out)


def localise_markers(redacted: str, *, label: Callable[[str], str]) -> str:
    """Replace every ``⟦kind⟧`` marker with ``label(kind)``, e.g. a translated word."""
    return _MARKER.sub(lambda m: label(m.group(1)), redacted)


def split_markers(redacted: str) -> list[tuple[str, str | None]]:
    """Cut redacted text into ``(chunk, None)`` and ``("", kind)`` pieces for templates."""
    parts: list[tuple[str, str | None]] = []
    pos = 0
    for m in _MARKER.finditer(redacted):
        if m.start() > pos:
            parts.append((redacted[pos : m.start()], None))
        parts.append(("", m.group(1)))
        pos = m.end()
    if pos < len(redacted):
        parts.append((redacted[pos:], None))
    return parts


def looks_signed(text: str, *, identity: Mapping[str, str | None] | None = None) -> bool:
    """Tell whether an answer seems to end with a signature (closing plus name, initials)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return False
    last = lines[-1]
    closing = _CLOSING.match(last)
    if closing and closing.end() < len(last):
        # "С уважением, Иван Петров" on one line.
        rest = last[closing.end() :].strip()
        if _is_signature_words(rest):
            return True
    if len(lines) > 1 and _is_bare_closing(lines[-2]) and _is_signature_words(last):
        return True
    if _INITIALS_LINE.match(last):
        return True
    return len(lines) > 1 and _is_name_line(last, _profile(identity))


def needs_custodian_check(
    redaction: Redaction, *, original: str, identity: Mapping[str, str | None] | None = None
) -> bool:
    """Tell whether the custodian must look at an answer before reviewers get it."""
    return bool(redaction.spans) or looks_signed(original, identity=identity)


# ---------------------------------------------------------------------------------------
# Spans


_MARKER = re.compile(f"{MARK_OPEN}({'|'.join(KINDS)}){MARK_CLOSE}")
# An applicant could type the marker brackets themselves; replacing them keeps a reviewer
# from mistaking plain text for a redaction (or a template from styling it as one).
_NEUTRAL = str.maketrans({MARK_OPEN: "[", MARK_CLOSE: "]"})


def _neutralise(chunk: str) -> str:
    return chunk.translate(_NEUTRAL)


def _merge(spans: Iterable[Span]) -> list[Span]:
    """Sort spans and fuse overlapping ones; the earlier (then longer) span names the kind.

    A fused span is a mere suggestion (``flag``) only if every part of it was one: what the
    redactor is sure of stays hidden whatever the custodian decides about the rest."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start), s.flag)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Span(kind=last.kind, start=last.start, end=max(last.end, span.end),
                              flag=last.flag and span.flag)
            continue
        merged.append(span)
    return merged


def _spans(kind: str, pattern: re.Pattern[str], text: str, group: int = 0) -> Iterator[Span]:
    for m in pattern.finditer(text):
        if m.end(group) > m.start(group):
            yield Span(kind=kind, start=m.start(group), end=m.end(group))


# --- e-mail ------------------------------------------------------------------------------

_TLDS = (
    "com|ru|рф|su|net|org|info|biz|pro|by|бел|kz|қаз|am|kg|uz|ua|io|me|co|uk|de|eu|edu|gov"
    "|online|site|tech|dev|app|xyz|space|store|club|moscow|москва|ру|ком|нет|орг|бай|кз"
)
_PLAIN_EMAIL = re.compile(r"(?<![\w.+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
_BRACKETED = r"\s*[\(\[\{<]\s*(?:WORDS)\s*[\)\]\}>]\s*"
_AT_WORDS = r"собака|собаку|собакой|собачка|собачку|эт|ат"
_AT_STRONG = (
    r"(?:"
    + _BRACKETED.replace("WORDS", rf"at|a|{_AT_WORDS}")
    + rf"|\s+(?:{_AT_WORDS})\s+|\s*@\s*|_at_|\s*-at-\s*)"
)
# "at", "на" and "в" are ordinary words too: they only count between an address-like
# mailbox name and a domain (see _obfuscated's callers).
_AT_WEAK = r"\s+at\s+"
_AT_PREPOSITION = r"\s+(?:на|в)\s+"
_DOT_WORDS = r"dot|точка|точку|тчк|дот"
_DOT_WORD = (r"(?:" + _BRACKETED.replace("WORDS", _DOT_WORDS)
             + rf"|\s+(?:{_DOT_WORDS})\s+|_dot_|\s*-dot-\s*)")
_DOT_ANY = r"(?:" + _DOT_WORD + r"|\s*\.\s*)"
# A mailbox name: dots inside it may be spelled out or spaced too ("ivan . petrov").
_LOCAL = rf"(?<![\w.+-])[\w+-]+(?:(?:\.|\s\.\s|{_DOT_WORD})[\w+-]+)*"
_ASCII_LOCAL = (rf"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9_+-]*"
                rf"(?:(?:\.|\s\.\s|{_DOT_WORD})[A-Za-z0-9_+-]+)*")
# Mail services written in Cyrillic, and the providers whose name alone makes an address.
_SPELLED_LABELS = {
    "mail": "мейл|мэйл|майл|мыло", "gmail": "гмейл|гмайл|джимейл|джимэйл|гугл",
    "yandex": "яндекс", "rambler": "рамблер", "inbox": "инбокс", "ru": "ру", "com": "ком",
    "kz": "кз", "by": "бай", "net": "нет", "org": "орг",
}
_PROVIDERS = (
    r"mail|gmail|yandex|ya|inbox|list|bk|rambler|outlook|hotmail|live|icloud|proton"
    r"|protonmail|yahoo|tut|ukr|internet|mail\.ru|" + "|".join(_SPELLED_LABELS.values())
)


def _obfuscated(at: str, dot: str, *, local: str = _LOCAL,
                domain: str = r"[\w-]+") -> re.Pattern[str]:
    return re.compile(
        rf"{local}{at}{domain}(?:{dot}[\w-]+)*?{dot}(?:{_TLDS})(?![\w.]*\w)", re.IGNORECASE
    )


# Bare "at" needs a spelled-out dot too: "look at vk.com" is no address. "на"/"в" need a
# Latin mailbox name and a mail provider: "ivan.p на gmail.com", never "пишите на mail.ru".
_EMAIL_PATTERNS = (
    _PLAIN_EMAIL,
    _obfuscated(_AT_STRONG, _DOT_ANY),
    _obfuscated(_AT_WEAK, _DOT_WORD),
    _obfuscated(_AT_PREPOSITION, _DOT_ANY, local=_ASCII_LOCAL, domain=f"(?:{_PROVIDERS})"),
    _obfuscated(_AT_WEAK, _DOT_ANY, local=_ASCII_LOCAL, domain=f"(?:{_PROVIDERS})"),
)


def _email_spans(text: str) -> Iterator[Span]:
    for pattern in _EMAIL_PATTERNS:
        yield from _spans("email", pattern, text)


# --- phones ------------------------------------------------------------------------------

# Anything written like an international number: other countries, and EAEU numbers that
# are mistyped or too new for the metadata. Used only where no valid number was found.
_INTERNATIONAL = re.compile(r"(?<![\w+])\+\d(?:[\s\-().]{0,2}\d){9,14}(?!\d)")


# Runs of digit groups; the matcher gives up on a number that another number follows
# ("8 (916) 123-45-67 5 дней в неделю"), so such runs are cut into candidates here.
_DIGIT_RUN = re.compile(r"(?<![\w+])(?:\+\s?)?\(?\d(?:[\s\-().]{1,3}\(?\d|\d)*")
_GROUP = re.compile(r"\d+")
# Dates and year ranges that happen to be valid numbers somewhere in the EAEU.
# Dates, year ranges and amounts grouped in thousands ("9 000 000 000") that happen to be
# valid numbers somewhere in the EAEU.
_NOT_A_PHONE = re.compile(
    r"\d{1,2}([./-])\d{1,2}\1(?:19|20)?\d\d|(?:19|20)\d\d\s?[-–]\s?(?:19|20)\d\d"
    r"|\d{1,3}(?:[\s\u00a0\u202f]\d{3})+"
)
_MAX_GROUPS = 7


_MONEY_AFTER = re.compile(
    r"\s*(?:руб\w*|р\.|₽|тыс\w*|млн|млрд|тенге|₸|драм\w*|֏|сом\w*|\$|€|usd|eur|rub\w*"
    r"|долл\w*)(?!\w)",
    re.IGNORECASE,
)


def _phone_spans(text: str) -> Iterator[Span]:
    spans: list[Span] = []
    for region in PHONE_REGIONS:
        for match in phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.VALID
        ):
            if _is_personal(match.number) and not _NOT_A_PHONE.fullmatch(match.raw_string):
                spans.append(Span(kind="phone", start=match.start, end=match.end))
    for run in _DIGIT_RUN.finditer(text):
        spans.extend(_phones_in_run(run))
    # "9000000000 руб" is a valid Russian mobile number, and a sum of money; a number
    # written with any separator is taken for a phone whatever follows it.
    spans = [
        s
        for s in spans
        if not (text[s.start : s.end].isdigit() and _MONEY_AFTER.match(text, s.end))
    ]
    yield from spans
    for extra in _spans("phone", _INTERNATIONAL, text):
        if not any(s.start < extra.end and extra.start < s.end for s in spans):
            yield extra


def _is_personal(number: phonenumbers.PhoneNumber) -> bool:
    # A toll-free line (8 800 …) belongs to a company, never to the applicant.
    return phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.TOLL_FREE


def _phones_in_run(run: re.Match[str]) -> Iterator[Span]:
    groups = list(_GROUP.finditer(run.group()))
    i = 0
    while i < len(groups):
        found = None
        # Longest candidate first. With a prefix (8, 0, +7, +375 …) the EAEU numbers have
        # 10 to 12 digits; shorter runs are left to the matcher, as amounts and order
        # numbers of 8 or 9 digits are valid Armenian or Kyrgyz numbers too often.
        for j in range(min(len(groups), i + _MAX_GROUPS) - 1, i - 1, -1):
            digits = sum(len(g.group()) for g in groups[i : j + 1])
            if not 10 <= digits <= 12:
                continue
            start = run.start() + (0 if i == 0 else groups[i].start())
            end = run.start() + groups[j].end()
            candidate = run.string[start:end]
            if _NOT_A_PHONE.fullmatch(candidate):
                continue
            personal = _phone_kind(candidate)
            if personal is not None:
                found = j
                if personal:
                    yield Span(kind="phone", start=start, end=end)
                break
        i = (found if found is not None else i) + 1


def _phone_kind(candidate: str) -> bool | None:
    """True for a valid personal number, False for a company line, None for no number."""
    for region in PHONE_REGIONS:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return _is_personal(number)
    return None


# --- links and handles -------------------------------------------------------------------

_SOCIAL_HOSTS = (
    r"vk\.com|vk\.ru|vk\.me|vkontakte\.ru|t\.me|telegram\.me|telegram\.dog|instagram\.com"
    r"|instagr\.am|ok\.ru|odnoklassniki\.ru|facebook\.com|fb\.com|fb\.me|twitter\.com|x\.com"
    r"|tiktok\.com|youtube\.com|youtu\.be|linkedin\.com|github\.com|gitlab\.com|habr\.com"
    r"|hh\.ru|dzen\.ru|zen\.yandex\.ru|my\.mail\.ru|wa\.me|tenchat\.ru|pikabu\.ru|medium\.com"
    r"|behance\.net|dribbble\.com|threads\.net|reddit\.com|livejournal\.com"
)
_URL_TAIL = r"[^\s<>\"'«»(){}\[\]]*[^\s<>\"'«»(){}\[\].,;:!?]"
_SOCIAL_LINK = re.compile(
    rf"(?<![\w.@-])(?:https?://)?(?:[\w-]+\.)*(?:{_SOCIAL_HOSTS})/{_URL_TAIL}", re.IGNORECASE
)
# Blogs that live on a personal subdomain identify their author without any path.
_PERSONAL_HOST = re.compile(
    r"(?<![\w.@-])(?:https?://)?(?!www\.)[\w-]+\.(?:livejournal\.com|tumblr\.com|narod\.ru"
    r"|github\.io|blogspot\.com|substack\.com)(?:/" + _URL_TAIL + r")?",
    re.IGNORECASE,
)
_ANY_URL = re.compile(r"(?<![\w.@-])(?:https?://|www\.)" + _URL_TAIL, re.IGNORECASE)
_PROFILE_PATH = re.compile(
    r"/[@~]|/(?:users?|u|profiles?|people|id|in|members?|authors?|channel|c|resume)/\w"
    r"|profile",
    re.IGNORECASE,
)
_HANDLE = re.compile(r"(?<![\w.@/+-])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,30}[A-Za-z0-9_])")


def _link_spans(text: str) -> Iterator[Span]:
    yield from _spans("link", _SOCIAL_LINK, text)
    yield from _spans("link", _PERSONAL_HOST, text)
    for m in _ANY_URL.finditer(text):
        host_and_path = re.sub(r"^(?:https?://)?", "", m.group(), flags=re.IGNORECASE)
        _host, slash, path = host_and_path.partition("/")
        if slash and _PROFILE_PATH.search("/" + path):
            yield Span(kind="link", start=m.start(), end=m.end())


def _handle_spans(text: str) -> Iterator[Span]:
    # E-mail addresses are found too and win the merge, being earlier and longer.
    yield from _spans("handle", _HANDLE, text)


# ---------------------------------------------------------------------------------------
# Names and places: Russian inflection plus Latin transliteration


@functools.cache
def _morph() -> pymorphy3.MorphAnalyzer:
    # Loading the dictionaries takes a noticeable moment: do it once, on first use.
    return pymorphy3.MorphAnalyzer(lang="ru")


_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_APOSTROPHES = str.maketrans("", "", "'’ʹʼ`")
_WORD = re.compile(r"[^\W\d_]+(?:['’ʹʼ`][^\W\d_]+)*")


def _fold(word: str) -> str:
    """Fold a word for comparison: case, ё, apostrophes and Latin diacritics do not count."""
    word = word.lower().translate(_APOSTROPHES).replace("ё", "е").replace("й", "\0")
    decomposed = unicodedata.normalize("NFKD", word)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", plain).replace("\0", "й")


def _lexeme(word: str, grammeme: str) -> set[str]:
    """All dictionary forms of ``word`` read as ``grammeme`` (Name, Surn, Patr, Geox)."""
    parses = [p for p in _morph().parse(word) if grammeme in p.tag]
    # "Юлия" is also the genitive of "Юлий": prefer the readings where the word is the
    # nominative, as identity fields are given.
    nominative = [p for p in parses if "nomn" in p.tag]
    forms: set[str] = set()
    for parse in nominative or parses:
        forms.update(f.word for f in parse.lexeme)
    return forms


def _in_dictionary(word: str, grammeme: str) -> bool:
    """Whether the dictionary itself knows the word, rather than guessing from its ending."""
    return any(
        grammeme in p.tag and isinstance(p.methods_stack[0][0], DictionaryAnalyzer)
        for p in _morph().parse(word)
    )


def _endings(stem: str, endings: str) -> set[str]:
    return {stem if e == "-" else stem + e for e in endings.split()}


def _rule_forms(word: str) -> set[str]:
    """Forms from the standard Russian endings, for names the dictionary does not know."""
    w = word.lower()
    rules: tuple[tuple[str, str, str], ...] = (
        # ending, stem cut, endings added to the stem ("-" keeps the bare stem)
        ("ская", "ая", "ий ого ому им ом ая ой ую ие их ими"),
        ("цкая", "ая", "ий ого ому им ом ая ой ую ие их ими"),
        ("ский", "ий", "ий ого ому им ом ая ой ую ие их ими"),
        ("цкий", "ий", "ий ого ому им ом ая ой ую ие их ими"),
        ("ской", "ой", "ой ого ому им ом ая ую ие их ими"),
        ("ова", "а", "- а у ым е ой ы ых ыми"),
        ("ева", "а", "- а у ым е ой ы ых ыми"),
        ("ёва", "а", "- а у ым е ой ы ых ыми"),
        ("ина", "а", "- а у ым е ой ы ых ыми"),
        ("ына", "а", "- а у ым е ой ы ых ыми"),
        ("ов", "", "- а у ым е ой ы ых ыми"),
        ("ев", "", "- а у ым е ой ы ых ыми"),
        ("ёв", "", "- а у ым е ой ы ых ыми"),
        ("ин", "", "- а у ым е ой ы ых ыми"),
        ("ын", "", "- а у ым е ой ы ых ыми"),
        ("вна", "а", "а ы е у ой ою"),
        ("чна", "а", "а ы е у ой ою"),
        ("ич", "", "- а у ем е и ей ам ами ах"),
        ("ый", "ый", "ый ого ому ым ом ая ой ую ые ых ыми"),
        ("ий", "ий", "ий его ему им ем ия ие ию ии ием ией ей ую яя юю ие их ими"),
        ("ия", "я", "я и ю ей ею ям ями ях"),
        ("ей", "й", "й я ю ем е и ев ям ями ях"),
        ("ай", "й", "й я ю ем е и ев ям ями ях"),
        ("ой", "ой", "ой ого ому ым ом ая ую ые ых ыми"),
        ("ь", "ь", "ь я ю ем е и ей ям ями ях"),
        ("а", "а", "а ы и е у ой ою ам ами ах"),
        ("я", "я", "я и е ю ей ею ям ями ях"),
    )
    # -ых/-их, -ко/-енко and vowel endings are indeclinable: the word is its only form.
    if re.search(r"(?:ых|их|ко|[оеиуюэы])$", w):
        return {w}
    for ending, cut, added in rules:
        if w.endswith(ending):
            stem = w[: len(w) - len(cut)] if cut else w
            # "Цой" is no "-ой" adjective: too short a stem to decline by the rules.
            if len(stem) - len(ending) + len(cut) < 2:
                return {w}
            return {w} | _endings(stem, added)
    if re.search(r"[бвгджзклмнпрстфхцчшщ]$", w):
        return {w} | _endings(w, "а у ом е ы ов ам ами ах")
    return {w}


def _cyrillic_forms(value: str, grammeme: str, *, rules: bool) -> set[str]:
    forms: set[str] = set()
    for word in re.split(r"\s+", value.strip()):
        if not word:
            continue
        if not _CYRILLIC.search(word):
            forms.add(word.lower())
            continue
        found = _lexeme(word, grammeme)
        if not found and grammeme == "Name":
            # A familiar form the dictionary knows only as a common noun declines like one:
            # "Санёк" → "Санька", "Саньку" (the fleeting vowel the endings rules miss).
            found = _lexeme(word, "NOUN")
        if not found or (rules and not _in_dictionary(word, grammeme)):
            found |= _rule_forms(word)
        forms |= found | {word.lower()}
    return forms


# Common informal spellings that no standard produces: Alexei, Yulia, Julia, Evgeny, Alexander.
_INFORMAL = (
    (re.compile("ks"), "x"),
    (re.compile("iya"), "ia"),
    (re.compile("^yu"), "ju"),
    (re.compile("^ye"), "e"),
    (re.compile("iy$"), "y"),
    (re.compile("andr$"), "ander"),
)
_SCHEMAS = tuple(schema for name, schema in iuliia.schemas.items() if name != "uz")


@functools.lru_cache(maxsize=16384)
def _latin_forms(word: str) -> frozenset[str]:
    if not _CYRILLIC.search(word):
        return frozenset()
    # Only the plain-ASCII schemas: folding ISO 9's "Ûliâ" would give junk like "ulia".
    variants = {_fold(latin) for schema in _SCHEMAS
                if (latin := schema.translate(word)).isascii()}
    # Every subset of the informal respellings, each applied once in order.
    for pattern, replacement in _INFORMAL:
        variants |= {pattern.sub(replacement, latin) for latin in variants}
    return frozenset(variants)


def _all_spellings(forms: set[str]) -> set[str]:
    spellings: set[str] = set()
    for form in forms:
        for part in form.split("-"):
            if len(part) > 1:
                spellings.add(_fold(part))
                spellings |= _latin_forms(part)
    return {s for s in spellings if len(s) > 1}


# Everyday names of the two largest cities, which no inflection or transliteration reaches.
_CITY_ALIASES = {
    "москва": ("мск", "moscow", "moskau"),
    "санкт-петербург": (
        "петербург",
        "питер",
        "спб",
        "ленинград",
        "saint petersburg",
        "st petersburg",
        "petersburg",
        "spb",
    ),
}


def _name_spellings(first: str, middle: str, last: str) -> frozenset[str]:
    return _part_spellings(first, "Name") | _part_spellings(middle, "Patr") | _part_spellings(
        last, "Surn")


# Per part, not per person: applicants share first names and patronymics far more often than
# whole names, and a part's spellings (every case, familiar form and transliteration) cost
# tens of milliseconds of pymorphy3 to build.
@functools.lru_cache(maxsize=4096)
def _part_spellings(value: str, grammeme: str) -> frozenset[str]:
    from recruit.domain.given_names import familiar_forms

    if not value:
        return frozenset()
    forms = _cyrillic_forms(value, grammeme, rules=grammeme == "Surn")
    if grammeme == "Name":
        for familiar in familiar_forms(value):
            forms |= _cyrillic_forms(familiar, "Name", rules=False)
    return frozenset(_all_spellings(forms))


@functools.lru_cache(maxsize=512)
def _city_sequences(city: str) -> frozenset[tuple[str, ...]]:
    """Token sequences that spell the city: every case, transliterated, common aliases."""
    city = re.sub(r"^(?:г\.|гор\.|город)\s*", "", city.strip(), flags=re.IGNORECASE)
    names = [city, *_CITY_ALIASES.get(_fold(city), ())]
    sequences: set[tuple[str, ...]] = set()
    for name in names:
        words = [w for w in re.split(r"[\s-]+", name.strip()) if w]
        per_word = []
        for word in words:
            forms = {word.lower()}
            if _CYRILLIC.search(word):
                forms |= _lexeme(word, "Geox") | _lexeme(word, "ADJF") or _rule_forms(word)
            spellings = _all_spellings(forms)
            per_word.append(spellings)
            # "Новгород" alone names the city too; "Нижний" or "Санкт" alone do not.
            if len(words) > 1 and _lexeme(word, "Geox"):
                sequences |= {(s,) for s in spellings}
        sequences |= set(itertools.product(*per_word))
    return frozenset(sequences)


# --- identity-specific contacts ---------------------------------------------------------

_SEP = r"[\s\-().]{0,3}"


def _phone_pattern(phone: str, *, citizenship: str = "") -> re.Pattern[str] | None:
    number = None
    # A national number ("8 029 …") is read in the applicant's own country first.
    regions = tuple(dict.fromkeys(
        r for r in (citizenship.upper(), *PHONE_REGIONS) if r in PHONE_REGIONS))
    for region in (None, *regions) if phone.strip().startswith("+") else regions:
        try:
            candidate = phonenumbers.parse(phone, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(candidate):
            number = candidate
            break
    if number is None:
        digits = re.sub(r"\D", "", phone)
        if len(digits) < 6:
            return None
        return re.compile(r"(?<!\d)" + _SEP.join(digits) + r"(?!\d)")
    national = phonenumbers.national_significant_number(number)
    prefix = rf"(?:(?:(?:\+\s*)?{number.country_code}|8\s*0?|0){_SEP})?"
    return re.compile(r"(?<![\d+])" + prefix + _SEP.join(national) + r"(?!\d)")


def _email_pattern(email: str) -> re.Pattern[str] | None:
    local, at, domain = email.strip().partition("@")
    if not at or not local or "." not in domain:
        return None

    def label(part: str) -> str:
        spelled = _SPELLED_LABELS.get(part.lower())
        return f"(?:{re.escape(part)}|{spelled})" if spelled else re.escape(part)

    # The mailbox's own dots may be spelled out or spaced like the domain's.
    mailbox = rf"(?:\.|\s\.\s|{_DOT_WORD})".join(re.escape(p) for p in local.split("."))
    at_any = rf"(?:{_AT_STRONG}|{_AT_WEAK}|{_AT_PREPOSITION}|\s+)"
    body = mailbox + at_any + rf"(?:{_DOT_ANY}|\s+)".join(label(p) for p in domain.split("."))
    return re.compile(rf"(?<![\w.+-]){body}(?![\w-])", re.IGNORECASE)


# Pieces of a mailbox name that identify alone: "zyuzyukin" of "zyuzyukin.e92".
_MAILBOX_PART_MIN = 5


def _screen_name(value: str) -> str:
    """The bare account name in '@ivan', 'vk.com/ivan', 'https://t.me/ivan/' or 'ivan'."""
    value = value.strip().rstrip("/")
    value = re.sub(r"^(?:https?://)?(?:[\w-]+\.)+[a-z]{2,}/", "", value, flags=re.IGNORECASE)
    return value.lstrip("@").split("?")[0].split("/")[-1]


@dataclass(frozen=True)
class _Profile:
    names: frozenset[str]
    city: frozenset[tuple[str, ...]]
    contacts: tuple[tuple[str, re.Pattern[str]], ...]
    initials: frozenset[str]
    birth: date | None

    def contact_spans(self, text: str) -> Iterator[Span]:
        for kind, pattern in self.contacts:
            yield from _spans(kind, pattern, text)

    def word_spans(self, text: str) -> Iterator[Span]:
        if not self.names and not self.city:
            return
        words = list(_WORD.finditer(text))
        folded = [_fold(w.group()) for w in words]
        lengths = sorted({len(seq) for seq in self.city}, reverse=True)
        for i, word in enumerate(words):
            if folded[i] in self.names:
                yield Span(kind="name", start=word.start(), end=word.end())
            for n in lengths:
                if i + n > len(words) or tuple(folded[i : i + n]) not in self.city:
                    continue
                gaps = (text[words[j].end() : words[j + 1].start()] for j in range(i, i + n - 1))
                if all(re.fullmatch(r"[\s.\-]{1,3}", gap) for gap in gaps):
                    yield Span(kind="city", start=word.start(), end=words[i + n - 1].end())
                    break

    def initial_spans(self, text: str, names: list[Span]) -> Iterator[Span]:
        """Initials such as "И." or "И.И." standing right next to a redacted name."""
        for m in _INITIALS.finditer(text):
            letters = {c.lower() for c in m.group() if c.isalpha()}
            if not letters <= self.initials:
                continue
            if any(-3 <= n.start - m.end() <= 1 or -1 <= m.start() - n.end <= 3 for n in names):
                yield Span(kind="name", start=m.start(), end=m.end())


_INITIALS = re.compile(r"(?<!\w)(?:[A-ZА-ЯЁ]\.\s?){1,2}(?!\w)")


def _profile(identity: Mapping[str, str | None] | None) -> _Profile:
    identity = identity or {}
    unknown = set(identity) - IDENTITY_KEYS
    if unknown:
        raise ValueError(f"unknown identity fields: {', '.join(sorted(unknown))}")
    return _built_profile(tuple(sorted(
        (key, (identity.get(key) or "").strip()) for key in IDENTITY_KEYS)))


# The answers of one stage share an identity: build its patterns once, not per answer.
@functools.lru_cache(maxsize=256)
def _built_profile(items: tuple[tuple[str, str], ...]) -> _Profile:
    from recruit.domain.redaction_dates import parse_birth_date

    get = dict(items)
    names = _name_spellings(get["first"], get["middle"], get["last"])
    initials = {
        s[0] for key in ("first", "middle", "last") if get[key] for s in _all_spellings({get[key]})
    }
    contacts: list[tuple[str, re.Pattern[str]]] = []
    if get["email"] and (pattern := _email_pattern(get["email"])):
        contacts.append(("email", pattern))
        local = get["email"].partition("@")[0]
        # The mailbox name identifies even without the domain ("ivan.petrov92"), and so do
        # its longer pieces standing alone ("petrov" of "ivan.petrov92").
        if len(local) >= 3:
            contacts.append(("email", _token_pattern(local)))
        parts = {p for p in (*re.split(r"[^\w]|_", local), *re.split(r"[\W_\d]+", local))
                 if len(p) >= _MAILBOX_PART_MIN}
        contacts += [("email", _token_pattern(p)) for p in sorted(parts - {local})]
    if get["phone"] and (pattern := _phone_pattern(get["phone"],
                                                   citizenship=get["citizenship"])):
        contacts.append(("phone", pattern))
    for key in ("vk", "handle"):
        name = _screen_name(get[key]) if get[key] else ""
        if len(name) >= 3:
            contacts.append(("handle", _token_pattern(name, at=True)))
    return _Profile(
        names=names,
        city=_city_sequences(get["city"]) if get["city"] else frozenset(),
        contacts=tuple(contacts),
        initials=frozenset(initials),
        birth=parse_birth_date(get["birth_date"]) if get["birth_date"] else None,
    )


def _token_pattern(token: str, *, at: bool = False) -> re.Pattern[str]:
    lead = "@?" if at else ""
    return re.compile(rf"(?<![\w.@/-]){lead}{re.escape(token)}(?![\w-]|\.\w)", re.IGNORECASE)


# ---------------------------------------------------------------------------------------
# Signatures

_CLOSING_WORDS = (
    r"с\s+уважением|с\s+наилучшими\s+пожеланиями|всего\s+(?:доброго|хорошего|наилучшего)"
    r"|искренне\s+ваш[аи]?|спасибо(?:\s+за\s+внимание)?|благодарю(?:\s+за\s+внимание)?"
    r"|заранее\s+спасибо|ваш[аи]?|(?:best|kind|warm|warmest)\s+regards|regards|best\s+wishes"
    r"|best|cheers|thanks|thank\s+you|many\s+thanks|yours(?:\s+(?:sincerely|truly|faithfully))?"
    r"|sincerely(?:\s+yours)?|-{2,}|—|–"
)
_CLOSING = re.compile(rf"(?:{_CLOSING_WORDS})\s*[,.!:;—–-]*", re.IGNORECASE)
_INITIALS_LINE = re.compile(
    r"^(?:(?:[A-ZА-ЯЁ]\.\s?){1,2}\s*[A-ZА-ЯЁ][a-zа-яё]+(?:-[A-ZА-ЯЁ][a-zа-яё]+)?"
    r"|[A-ZА-ЯЁ][a-zа-яё]+(?:-[A-ZА-ЯЁ][a-zа-яё]+)?\s+(?:[A-ZА-ЯЁ]\.\s?){1,2})\.?$"
)
_SIGNATURE_WORD = re.compile(r"(?:[A-ZА-ЯЁ]\.){1,2}|[A-ZА-ЯЁ][\w'’-]*")


def _is_bare_closing(line: str) -> bool:
    m = _CLOSING.match(line)
    return bool(m) and m.end() == len(line)


def _is_signature_words(line: str) -> bool:
    """1–4 words, each capitalised or an initial: 'Иван', 'И. Петров', 'Team Lead Anna'."""
    line = line.rstrip(".")
    if not line or re.search(r"[!?:;]", line):
        return False
    words = line.replace(",", " ").split()
    if not 1 <= len(words) <= 4:
        return False
    capitalised = sum(
        bool(_SIGNATURE_WORD.fullmatch(w.strip("."))) and w.lower() not in _POLITE for w in words
    )
    return capitalised == len(words) or (len(words) >= 3 and capitalised >= len(words) - 1)


# Capitalised out of courtesy, not because they are names: "Спасибо Вам".
_POLITE = frozenset({"вам", "вас", "вы", "ваш", "ваша", "вами", "всем", "you", "all", "team"})
_NAME_GRAMMEMES = ("Name", "Surn", "Patr")


def _is_name_line(line: str, profile: _Profile) -> bool:
    """A last line that is nothing but a name: the applicant's own, or one the dictionary knows."""
    line = line.rstrip(".")
    words = line.split()
    if not 1 <= len(words) <= 3 or not all(_SIGNATURE_WORD.fullmatch(w) for w in words):
        return False
    if all(_fold(w) in profile.names for w in words):
        return True
    cyrillic = [w for w in words if _CYRILLIC.search(w)]
    return bool(cyrillic) and all(_is_known_name(w) for w in cyrillic)


def _is_known_name(word: str) -> bool:
    # "Вера" is a name in a third of its readings; "Роман" in fewer, but still a real one.
    return any(
        p.score >= 0.25 and any(g in p.tag for g in _NAME_GRAMMEMES)
        for p in _morph().parse(word.rstrip("."))
    )
