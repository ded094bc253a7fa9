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

from .errors import ConfigurationError
from .normalise import Normaliser, fold

_EN_HINTS = {
    "the", "what", "which", "how", "why", "when", "who", "does", "did", "is", "are", "was", "were", "do",
    "of", "and", "to", "for", "with", "about", "there", "their", "many", "much", "get", "lessons", "too",
    "used", "also", "any", "can", "could", "should", "would", "will", "has", "have", "had", "been", "not",
    "no", "or", "if", "than", "then", "that", "this", "these", "those", "it", "its", "they", "them", "we",
    "you", "your", "our", "my", "from", "at", "by", "on", "as", "into", "after", "before", "between",
    "where", "people", "care", "children", "report", "reports", "research", "anything", "say", "said",
}
_NL_HINTS = {
    "de", "het", "een", "wat", "welke", "hoe", "waarom", "wanneer", "wie", "is", "zijn", "was", "er",
    "van", "en", "voor", "met", "over", "bij", "niet", "ook", "nog", "eigenlijk", "toch", "ging", "te",
    "op", "aan", "om", "als", "dat", "die", "dit", "deze", "ze", "zij", "wij", "je", "ik", "hun", "hebben",
    "heeft", "wordt", "worden", "kan", "kun", "moet", "mag", "wel", "geen", "naar", "door", "uit", "tot",
    "maar", "dan", "al", "zo", "jeugdhulp", "rapport", "rapporten", "onderzoek", "nou", "ons", "onze",
}


@dataclass(frozen=True)
class Expansion:
    """What a query was expanded with, and the language it seems to be in.

    `dutch`: the first Dutch term of each concept an English query names (added to the dense query).
    """

    language: str
    # the added terms, one group per concept named (and per English phrase translated): search
    # weighs each group as one term, so a concept with many variants does not outweigh the others
    groups: tuple[tuple[str, ...], ...]
    concepts: tuple[str, ...]
    dutch: tuple[str, ...] = ()

    @property
    def terms(self) -> tuple[str, ...]:
        """Every added term once, in order."""
        return tuple(dict.fromkeys(t for g in self.groups for t in g))

    @property
    def text(self) -> str:
        return " ".join(self.terms)


def detect_language(text: str) -> str:
    """'en' or 'nl' from function words (the reports are Dutch, so ties go to Dutch)."""
    words = re.findall(r"[a-z']+", fold(text))
    en = sum(w in _EN_HINTS for w in words)
    nl = sum(w in _NL_HINTS for w in words)
    return "en" if en > nl else "nl"


def _contains(tokens: list[str], phrase: tuple[str, ...]) -> bool:
    """True when the phrase occurs in the tokens as a contiguous run."""
    n = len(phrase)
    return any(tuple(tokens[i:i + n]) == phrase for i, t in enumerate(tokens) if t == phrase[0])


class _PhraseTable:
    """Phrases as token tuples, looked up by their first token (a question is matched in
    microseconds instead of running hundreds of regular expressions)."""

    def __init__(self) -> None:
        self._by_first: dict[str, list[tuple[tuple[str, ...], int]]] = {}

    def add(self, phrase: tuple[str, ...], value: int) -> None:
        if phrase:
            self._by_first.setdefault(phrase[0], []).append((phrase, value))

    def matches(self, tokens: list[str]) -> set[int]:
        """Values of every phrase in the tokens."""
        found: set[int] = set()
        for i, t in enumerate(tokens):
            for phrase, value in self._by_first.get(t, ()):
                if tuple(tokens[i:i + len(phrase)]) == phrase:
                    found.add(value)
        return found


class Glossary:
    """Concepts (sets of equivalent terms) and an OCR repair map, loaded from TOML."""

    def __init__(self, concepts: list[dict], ocr: dict[str, str], en_nl: dict[str, str]) -> None:
        self.concepts = concepts
        self.normaliser = Normaliser(ocr)
        self.en_nl = {fold(k): v for k, v in en_nl.items()}
        self._phrases = _PhraseTable()  # any term of a concept → concept index
        # per concept: its Dutch terms and abbreviations, and its English terms, as token tuples
        self._dutch_terms: list[list[tuple[str, ...]]] = []
        self._english_terms: list[list[tuple[str, ...]]] = []
        for i, c in enumerate(concepts):
            for term in [*c.get("nl", []), *c.get("en", []), *c.get("abbr", [])]:
                self._phrases.add(tuple(self.normaliser.tokens(term)), i)
            self._dutch_terms.append([tuple(self.normaliser.tokens(t)) for t in [*c.get("nl", []), *c.get("abbr", [])]])
            self._english_terms.append([tuple(self.normaliser.tokens(t)) for t in c.get("en", [])])
        self._en_nl = [(tuple(self.normaliser.tokens(k)), self.normaliser(v)) for k, v in self.en_nl.items()]
        self._en_phrases = _PhraseTable()
        for j, (phrase, _dutch) in enumerate(self._en_nl):
            self._en_phrases.add(phrase, j)

    @classmethod
    def load(cls, path: Path) -> "Glossary":
        """Read a glossary file; a broken file is a configuration error naming it."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise ConfigurationError(f"glossary {path} cannot be read ({e})") from e
        return cls(data.get("concept", []), data.get("ocr", {}), data.get("en_nl", {}))

    def expand(self, query: str, *, language: str | None = None) -> Expansion:
        """Terms to add to the query: the other variants of each concept it names (Dutch first).
        `language` when the caller detected it already (retriever/question.py)."""
        language = language or detect_language(query)
        tokens = self.normaliser.tokens(query)
        hit = sorted(self._phrases.matches(tokens))
        groups: list[tuple[str, ...]] = []
        for i in hit:
            group = tuple(" ".join(p) for p in [*self._dutch_terms[i], *(self._english_terms[i] if language == "nl" else [])]
                          if p and not _contains(tokens, p))
            if group:
                groups.append(group)
        dutch: list[str] = []
        if language == "en":
            groups += [tuple(self._en_nl[j][1].split()) for j in sorted(self._en_phrases.matches(tokens))]
            for i in hit:
                dutch += [t for t in self.concepts[i].get("nl", [])[:1] if t not in dutch]
        return Expansion(language, tuple(groups), tuple(self.concepts[i].get("id", str(i)) for i in hit), tuple(dutch))

    def dutch_terms(self, query: str) -> list[str]:
        """Dutch words for an English query (for the dense query), in order of appearance."""
        return list(self.expand(query).dutch)
