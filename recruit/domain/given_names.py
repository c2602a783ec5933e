"""Familiar forms of Russian given names: Анна → Аня, Анечка, Нюра; Александр → Саша, Шура.

The forms people are called by come from ``data/given_names_ru.tsv``; their diminutives
(Аня → Анечка, Шура → Шурочка) are added when the OpenCorpora dictionary behind pymorphy3
knows them as given names, so a guessed suffix never becomes a redaction rule.
"""

from __future__ import annotations

import functools
from pathlib import Path

DATA = Path(__file__).with_name("data") / "given_names_ru.tsv"

# Suffixes of endearment added to the stem of a familiar form (Аня → Ан|ечка).
_SUFFIXES = ("ечка", "енька", "очка", "онька", "ушка", "юшка", "уля", "юля", "уня", "юня",
             "уся", "юся", "ута", "юта", "ка", "ик", "ёк", "ок", "ушенька", "юшенька")


def _fold(word: str) -> str:
    return word.lower().replace("ё", "е")


@functools.cache
def _table() -> dict[str, tuple[str, ...]]:
    """Full name (folded) → the familiar forms listed for it."""
    table: dict[str, tuple[str, ...]] = {}
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        full, _gender, forms = line.split("\t")
        table[_fold(full)] = tuple(dict.fromkeys(table.get(_fold(full), ()) + tuple(forms.split())))
    return table


def _known_name(word: str) -> bool:
    from pymorphy3.units import DictionaryAnalyzer

    from recruit.domain.redaction import _morph

    return any("Name" in p.tag and isinstance(p.methods_stack[0][0], DictionaryAnalyzer)
               and p.normal_form == _fold(word) for p in _morph().parse(word))


@functools.lru_cache(maxsize=1024)
def familiar_forms(first: str) -> frozenset[str]:
    """The familiar forms of a first name in the nominative (empty for a name not listed)."""
    listed = _table().get(_fold(first.strip()), ())
    forms = set(listed)
    for form in listed:
        if form[-1:] in ("а", "я"):
            stem = form[:-1]
            forms |= {stem + s for s in _SUFFIXES if _known_name(stem + s)}
    return frozenset(forms)


def listed_names() -> list[str]:
    """Every full name the table knows (for tests and the corpus)."""
    return sorted(_table())
