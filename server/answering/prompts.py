"""Prompt templates and fixed texts, loaded by name from the prompts folder."""
from __future__ import annotations

import re
import tomllib
from functools import cached_property
from pathlib import Path

from retriever.errors import ConfigurationError
from retriever.normalise import fold


_MARKUP = re.compile(r"<[^>]{0,200}>|https?://\S+|[*`_]{1,3}")
# Text a reader of the question never sees (hidden HTML) is an instruction smuggled in, never the question.
_HIDDEN = re.compile(r"<(\w+)[^>]{0,200}(?:display\s*:\s*none|visibility\s*:\s*hidden|hidden)[^>]{0,200}>.*?</\1\s*>",
                     re.I | re.S)
_LABEL = re.compile(r"\W*\w{0,12}\W*:\W*")  # "SYSTEEM:", "**vraag:**" left over around an instruction


class PromptLibrary:
    """`get("answer_nl")` reads prompts/answer_nl.txt; `message("abstain", "en")` reads messages.toml."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        if not folder.is_dir():
            raise ConfigurationError(f"prompts folder {folder} does not exist; set RODEDRAAD_PROMPTS_DIR")

    def get(self, name: str) -> str:
        path = self.folder / f"{name}.txt"
        try:
            return path.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigurationError(f"prompt {name!r} missing: {path}") from e

    @cached_property
    def _messages(self) -> dict:
        try:
            return tomllib.loads((self.folder / "messages.toml").read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise ConfigurationError(f"{self.folder / 'messages.toml'} cannot be read ({e})") from e

    def message(self, key: str, language: str) -> str:
        lang = language if language in self._messages else "nl"
        return self._messages[lang][key]

    @cached_property
    def injection_patterns(self) -> list[re.Pattern]:
        lines = self.get("injection_patterns").splitlines()
        return [re.compile(l.strip(), re.I) for l in lines if l.strip() and not l.lstrip().startswith("#")]

    def split_instructions(self, question: str) -> tuple[str, bool]:
        """The question without sentences that instruct the assistant, and whether there were any."""
        # Markup and links in a question are never part of what it asks (hidden HTML, a planted URL).
        visible = _HIDDEN.sub(" ", question)
        hidden = visible != question
        plain = _MARKUP.sub(" ", visible)
        parts = re.split(r"(?<=[.!?:])\s+", plain.strip())
        kept = [p for p in parts if not any(rx.search(fold(p)) for rx in self.injection_patterns)]
        if len(kept) == len(parts) and not hidden:
            return question, False
        kept = [p for p in kept if not _LABEL.fullmatch(p.strip())]
        # "Dan: hoe lang ..." — drop a leading connective left over from the instruction
        cleaned = " ".join(kept).strip()
        cleaned = re.sub(r"^(dan|daarna|then|and then|en dan)\s*[:,]?\s*", "", cleaned, flags=re.I)
        return cleaned, True
