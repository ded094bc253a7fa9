"""Themes ("rode draden") from a data file, and the tagger that marks passages with them at ingestion.

A passage gets a theme when its signal phrases add up to the theme's `min_score`: a strong phrase
is worth 3 points, a weak one 1, and each phrase counts at most twice. Before matching, bracketed
citations such as "(STJ/TSD, 2016)" are removed and the theme's `exclude` phrases are blanked, so
names like "Samenwerkend Toezicht Jeugd" do not count as cooperation. See data/themes.toml and
docs/theme-tagging.md for how the tagging was checked.

    >>> tagger = ThemeTagger.load(Path("retriever/data/themes.toml"), Normaliser())
    >>> tagger("Er zijn extra risico's bij het op- en afschalen van hulp.")
    ('opschalen-afschalen',)
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigurationError
from .normalise import Normaliser

STRONG_POINTS = 3
WEAK_POINTS = 1
MAX_COUNT = 2
DEFAULT_MIN_SCORE = 3
# Headings and fragments carry no statement: shorter texts get no theme.
MIN_WORDS = 10

# "(STJ, 2013)", "(Grit et al., 2018; Wood, 2016)", "(IGJ en IV, 2017)": references, not content.
_CITATION = re.compile(r"\([^()]{0,160}?\b(?:19|20)\d\d[a-z]?\s*\)")


@dataclass(frozen=True)
class Theme:
    """A recurring theme with its description, example phrasings and signal phrases."""

    id: str
    title: str
    description: str
    examples: tuple[str, ...]
    strong: tuple[str, ...]
    weak: tuple[str, ...]
    min_score: int = DEFAULT_MIN_SCORE
    exclude: tuple[str, ...] = ()


def _version(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:12]


def themes_version(path: Path) -> str | None:
    """The `version` ThemeTagger.load gives this theme file, without parsing it; None when it
    cannot be read (loading it then says why)."""
    try:
        return _version(path.read_bytes())
    except OSError:
        return None


class ThemeTagger:
    """Tags text with theme ids; callable, so ingestion can pass it as `tag_themes`."""

    def __init__(self, themes: list[Theme], normaliser: Normaliser, version: str = "") -> None:
        self.themes = themes
        self.normaliser = normaliser
        self.version = version
        self._compiled = [(t, self._compile(t.strong), self._compile(t.weak), self._compile(t.exclude)) for t in themes]

    def _compile(self, phrases: tuple[str, ...]) -> list[re.Pattern[str]]:
        out = []
        for phrase in phrases:
            whole = phrase.endswith("$")
            norm = self.normaliser(phrase.rstrip("$"))
            if norm:
                out.append(re.compile(rf"(?<![a-z0-9]){re.escape(norm)}" + (r"(?![a-z0-9])" if whole else "")))
        return out

    @classmethod
    def load(cls, path: Path, normaliser: Normaliser) -> ThemeTagger:
        """Read the theme file; a missing or malformed file is a ConfigurationError naming it."""
        try:
            raw = path.read_bytes()
            data = tomllib.loads(raw.decode("utf-8"))
            themes = [Theme(id=t["id"], title=t.get("title", t["id"]), description=t.get("description", ""),
                            examples=tuple(t.get("examples", [])), strong=tuple(t.get("strong", [])),
                            weak=tuple(t.get("weak", [])), min_score=int(t.get("min_score", DEFAULT_MIN_SCORE)),
                            exclude=tuple(t.get("exclude", [])))
                      for t in data.get("theme", [])]
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as e:
            raise ConfigurationError(f"theme file {path} cannot be read ({e})") from e
        ids = [t.id for t in themes]
        if len(set(ids)) != len(ids):
            raise ConfigurationError(f"theme file {path} has duplicate theme ids")
        return cls(themes, normaliser, version=_version(raw))

    def scores(self, text: str) -> dict[str, int]:
        """Points per theme for a text (every theme, also those below their threshold)."""
        norm = self.normaliser(_CITATION.sub(" ", text))
        out: dict[str, int] = {}
        for theme, strong, weak, exclude in self._compiled:
            t = norm
            for pattern in exclude:
                t = pattern.sub(" ", t)
            points = sum(STRONG_POINTS * min(MAX_COUNT, len(p.findall(t))) for p in strong)
            points += sum(WEAK_POINTS * min(MAX_COUNT, len(p.findall(t))) for p in weak)
            out[theme.id] = points
        return out

    def __call__(self, text: str) -> tuple[str, ...]:
        """The ids of the themes the text is about, in the file's order."""
        if len(text.split()) < MIN_WORDS:
            return ()
        scores = self.scores(text)
        return tuple(t.id for t in self.themes if scores[t.id] >= t.min_score)

    def get(self, theme_id: str) -> Theme | None:
        """The theme with this id, or None."""
        return next((t for t in self.themes if t.id == theme_id), None)
