"""Query understanding from data: the glossary file expands a question with Dutch variants,
abbreviations, OCR spellings and English equivalents of the domain terms it names.

    >>> g = Glossary.load(Path("retriever/data/glossary.toml"))
    >>> g.expand("upscaling lessons?").terms
    ['opschalen', 'afschalen', ...]
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from rodedraad.errors import ConfigurationError

from .normalise import Normaliser, fold

_EN_HINTS = {
    "the", "what", "which", "how", "why", "when", "who", "does", "did", "is", "are", "was", "were", "do",
    "of", "and", "to", "in", "for", "with", "about", "there", "their", "many", "much", "get", "lessons",
}
_NL_HINTS = {
    "de", "het", "een", "wat", "welke", "hoe", "waarom", "wanneer", "wie", "is", "zijn", "was", "er",
    "van", "en", "in", "voor", "met", "over", "bij", "niet", "ook", "nog", "eigenlijk", "toch", "ging",
}


@dataclass(frozen=True)
class Expansion:
    """What a query was expanded with, and the language it seems to be in."""

    language: str
    terms: tuple[str, ...]
    concepts: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.terms)


def detect_language(text: str) -> str:
    """'en' or 'nl' from function words (the reports are Dutch, so ties go to Dutch)."""
    words = re.findall(r"[a-z']+", fold(text))
    en = sum(w in _EN_HINTS for w in words)
    nl = sum(w in _NL_HINTS for w in words)
    return "en" if en > nl else "nl"


class Glossary:
    """Concepts (sets of equivalent terms) and an OCR repair map, loaded from TOML."""

    def __init__(self, concepts: list[dict], ocr: dict[str, str], en_nl: dict[str, str]) -> None:
        self.concepts = concepts
        self.normaliser = Normaliser(ocr)
        self.en_nl = {fold(k): v for k, v in en_nl.items()}
        # phrase (folded, normalised) → concept index
        self._phrases: list[tuple[re.Pattern, int]] = []
        for i, c in enumerate(concepts):
            for term in [*c.get("nl", []), *c.get("en", []), *c.get("abbr", [])]:
                norm = self.normaliser(term)
                if norm:
                    self._phrases.append((re.compile(rf"(?<![a-z0-9]){re.escape(norm)}(?![a-z0-9])"), i))
        self._en_phrases = [(re.compile(rf"(?<![a-z0-9]){re.escape(self.normaliser(k))}(?![a-z0-9])"), v)
                            for k, v in self.en_nl.items() if self.normaliser(k)]

    @classmethod
    def load(cls, path: Path) -> "Glossary":
        """Read a glossary file; a broken file is a configuration error naming it."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise ConfigurationError(f"glossary {path} cannot be read ({e})") from e
        return cls(data.get("concept", []), data.get("ocr", {}), data.get("en_nl", {}))

    def expand(self, query: str) -> Expansion:
        """Terms to add to the query: the other variants of each concept it names (Dutch first)."""
        language = detect_language(query)
        norm = self.normaliser(query)
        hit: list[int] = []
        for pattern, i in self._phrases:
            if i not in hit and pattern.search(norm):
                hit.append(i)
        terms: list[str] = []
        for i in hit:
            c = self.concepts[i]
            for t in [*c.get("nl", []), *c.get("abbr", []), *(c.get("en", []) if language == "nl" else [])]:
                n = self.normaliser(t)
                if n and n not in terms and not re.search(rf"(?<![a-z0-9]){re.escape(n)}(?![a-z0-9])", norm):
                    terms.append(n)
        if language == "en":
            for pattern, dutch in self._en_phrases:
                if pattern.search(norm):
                    terms.extend(w for w in self.normaliser(dutch).split() if w not in terms)
        return Expansion(language, tuple(terms), tuple(self.concepts[i].get("id", str(i)) for i in hit))

    def dutch_terms(self, query: str) -> list[str]:
        """Dutch words for an English query (for the dense query), in order of appearance."""
        exp = self.expand(query)
        if exp.language != "en":
            return []
        out: list[str] = []
        norm = self.normaliser(query)
        for pattern, i in self._phrases:
            if pattern.search(norm):
                first = self.concepts[i].get("nl", [])[:1]
                out += [t for t in first if t not in out]
        return out
