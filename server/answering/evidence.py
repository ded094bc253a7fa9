"""Sentences as evidence: splitting passages into what can be quoted, weighing how much of a
question a sentence covers, what a question asks for (a count, a definition), and checking that a
cited sentence is supported by its passage."""
from __future__ import annotations

import re
from functools import lru_cache
from collections.abc import Callable

from retriever.units import split_units

_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"\b(?!(?:19|20)\d\d\b)\d[\d.,]*\b|\b(een|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|"
                     r"twintig|dertig|veertig|vijftig|honderd|duizend|procent|helft|derde|kwart|one|two|three|four|five|"
                     r"six|seven|eight|nine|ten|eleven|twelve|hundred|thousand|percent|half)\b", re.I)


@lru_cache(maxsize=20_000)
def split_sentences(text: str) -> tuple[str, ...]:
    """Sentences and list items of a text as it says them (the units of retriever/units.py, so an
    LLM answer is checked and quoted by the same split the extractive answer uses), whitespace
    collapsed, a leading bullet glyph off, fragments under three words dropped."""
    out = []
    for u in split_units(text):
        s = _SPACE.sub(" ", u.text).lstrip("•▪◦·*»«–- ").strip()
        if len(s.split()) >= 3:
            out.append(s)
    return tuple(out)


_MEASURE = re.compile(r"\b(how many|how much|hoeveel|(?:the )?number of|amount of|aantal(?:len)?)"
                      r"(?:\s+(?:van|aan|de|het|die|the|of))*\s+([^\W\d_][\w-]*)", re.I)
_NOT_A_MEASURE = {"van", "aan", "de", "het", "die", "the", "of", "er", "there", "did", "does", "do", "is", "are", "was",
                  "were", "zijn", "was", "waren", "heeft", "hebben", "had"}


def quantity_measures(question: str) -> list[tuple[str, str]]:
    """What a quantity question counts: ("how many", "deaths"), ("hoeveel", "meldingen")."""
    return [(m.group(1), m.group(2)) for m in _MEASURE.finditer(question) if m.group(2).lower() not in _NOT_A_MEASURE]


@lru_cache(maxsize=50_000)
def has_quantity(text: str) -> bool:
    return bool(_NUMBER.search(text))


# A count as an answer: digits that are not a year, or a number word other than "een"/"one"
# (which is mostly the article).
_COUNT = re.compile(r"\b(?!(?:19|20)\d\d\b)\d[\d.,]*\b|\b(twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|"
                    r"twintig|dertig|veertig|vijftig|honderd|duizend|procent|helft|kwart|two|three|four|five|six|"
                    r"seven|eight|nine|ten|eleven|twelve|hundred|thousand|percent|half)\b|%", re.I)


@lru_cache(maxsize=50_000)
def has_count(text: str) -> bool:
    """True when the text gives a count (a number that is not a year)."""
    return bool(_COUNT.search(text))


_PART = 5  # letters a stem must share with another to be its inflection or a compound's part


def related(stem: str, stems: set[str]) -> bool:
    """True when the stem is in `stems` as an inflection the stemmer left apart (analys ~ analyseer)
    or as the head or first part of a compound (overzichtsrapport ~ rapport, overzicht)."""
    if len(stem) < _PART:
        return False
    return any(len(t) >= _PART and (stem.startswith(t) or t.startswith(stem) or stem.endswith(t)) for t in stems)


def coverage(stems: set[str], own: dict[str, float], extra: dict[str, float], extra_weight: float = 0.5,
             related_weight: float = 0.0) -> float:
    """IDF-weighted share of the question's stems present (expansion stems count for part; with
    `related_weight`, so do inflections and compound parts the stemmer did not join)."""
    total = sum(own.values())
    if total <= 0:
        return 0.0
    got = sum(w if s in stems else related_weight * w if related_weight and related(s, stems) else 0.0
              for s, w in own.items())
    got += extra_weight * max([w for s, w in extra.items() if s in stems] or [0.0])
    return min(1.0, got / total)


# A sentence that defines a term, in the ways Dutch and English reports do: "Sectorbreed leren is
# …", "Bij sectorbreed leren gaat het om …", "Onder een calamiteit wordt verstaan …", "Met X
# bedoelen we …", "X houdt in …", "X refers to …". The term is up to four words.
DEFINES = re.compile(r"^\W*(?:(?:bij|onder|met|by)\s+)?(?:een|de|het|a|an|the)?\s*(?P<term>[\w-]+(?:\s+[\w-]+){0,3}?)\s+"
                     r"(?:is|zijn|betekent|houdt in|wordt gedefinieerd|wordt (?:hier )?verstaan|verstaan we|"
                     r"bedoelen we|wordt bedoeld|gaat het om|is defined|means|refers to|we mean)[\s:]", re.I)
# A list item "term: what it means" under a lead-in such as "wordt verstaan onder:", the way Dutch
# laws and regulations define their terms ("calamiteit: niet-beoogde of onverwachte gebeurtenis …").
DEFINES_ITEM = re.compile(r"^\W*(?P<term>\w[\w '-]{0,60}?):\s+\S")


def supported(sentence: str, passage: str, stems_of: Callable[[str], list[str]], threshold: float = 0.6) -> bool:
    """A sentence is supported when most of its content stems occur in the passage, or it quotes it."""
    plain = re.sub(r"\[\d+\]", "", sentence).strip(" \"“”'")
    if len(plain) >= 20 and re.sub(r"\s+", " ", plain.lower()) in re.sub(r"\s+", " ", passage.lower()):
        return True
    s = set(stems_of(plain))
    if len(s) < 2:
        return False
    p = set(stems_of(passage))
    return len(s & p) / len(s) >= threshold
