"""Themes ("rode draden") from a data file, and the tagger that marks passages with them at ingestion.

A passage gets a theme when its folded text contains enough of the theme's signal phrases
(`min_hits`, default 1 strong phrase or 2 weak ones).
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from rodedraad.errors import ConfigurationError

from .normalise import Normaliser


@dataclass(frozen=True)
class Theme:
    """A recurring theme with its description, example phrasings and signal phrases."""

    id: str
    title: str
    description: str
    examples: tuple[str, ...]
    strong: tuple[str, ...]
    weak: tuple[str, ...]


class ThemeTagger:
    """Tags text with theme ids; callable, so ingestion can pass it as `tag_themes`."""

    def __init__(self, themes: list[Theme], normaliser: Normaliser, version: str = "") -> None:
        self.themes = themes
        self.normaliser = normaliser
        self.version = version

        def compile_all(phrases):
            return [re.compile(rf"(?<![a-z0-9]){re.escape(normaliser(p))}") for p in phrases if normaliser(p)]

        self._patterns = [(t.id, compile_all(t.strong), compile_all(t.weak)) for t in themes]

    @classmethod
    def load(cls, path: Path, normaliser: Normaliser) -> "ThemeTagger":
        try:
            raw = path.read_bytes()
            data = tomllib.loads(raw.decode("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise ConfigurationError(f"theme file {path} cannot be read ({e})") from e
        themes = [Theme(id=t["id"], title=t.get("title", t["id"]), description=t.get("description", ""),
                        examples=tuple(t.get("examples", [])), strong=tuple(t.get("strong", [])),
                        weak=tuple(t.get("weak", [])))
                  for t in data.get("theme", [])]
        return cls(themes, normaliser, version=hashlib.sha256(raw).hexdigest()[:12])

    def __call__(self, text: str) -> tuple[str, ...]:
        norm = self.normaliser(text)
        out = []
        for tid, strong, weak in self._patterns:
            s = sum(1 for p in strong if p.search(norm))
            w = sum(1 for p in weak if p.search(norm))
            if s >= 1 or w >= 2:
                out.append(tid)
        return tuple(out)

    def get(self, theme_id: str) -> Theme | None:
        return next((t for t in self.themes if t.id == theme_id), None)
