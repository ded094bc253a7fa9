"""What both bots show of an Answer, in plain text: labels per language, fixed texts, links to
the passage on our web page, `Title (year), p. X`, and cutting text to a platform's limits.

Every source names report, year and printed page, and links to the passage on our own web page
(`<public_url>/?passage=<chunk_id>`), so a reader can check the quote in one click.
"""
from __future__ import annotations

import re
from urllib.parse import quote

from retriever.types import Passage

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
MAX_SOURCES = 20               # sources shown; the rest stay one click away on the web page
QUOTE_CHARS = 240

_LABELS = {
    "nl": {"sources": "Bronnen", "page": "p.", "no_year": "z.j.", "cut": "(ingekort; het volledige antwoord staat op de webpagina)",
           "open": "Open Rode Draad", "asked": "vroeg"},
    "en": {"sources": "Sources", "page": "p.", "no_year": "n.d.", "cut": "(shortened; the full answer is on the web page)",
           "open": "Open Rode Draad", "asked": "asked"},
}
# used when no prompt library is given; prompts/messages.toml holds the texts the answerer uses
_FIXED = {
    "about": {"nl": "Rode Draad is een onafhankelijke assistent over openbare rapporten; geen onderdeel van de inspectie.",
              "en": "Rode Draad is an independent assistant over public reports; not part of the inspectorate."},
    "nearest": {"nl": "Deze rapporten komen het dichtst in de buurt:", "en": "These reports come closest:"},
}

CITATION_MARKER = re.compile(r"\[(\d{1,3})\]")  # [n] in an answer's text
_SPACE = re.compile(r"\s+")


def labels(language: str) -> dict[str, str]:
    return _LABELS.get(language, _LABELS["nl"])


def fixed_text(key: str, language: str, prompts=None) -> str:
    """A fixed text (`about`, `nearest`) from the prompt library, or the built-in one."""
    if prompts is not None:
        try:
            return prompts.message(key, language)
        except Exception:  # a missing text must not stop an answer from being shown
            pass
    return _FIXED[key].get(language, _FIXED[key]["nl"])


def base_url(public_url: str) -> str:
    """Where the web page lives, without a trailing slash."""
    return (public_url or DEFAULT_PUBLIC_URL).rstrip("/")


def passage_link(base: str, chunk_id: str) -> str:
    """The passage on our web page."""
    return f"{base.rstrip('/')}/?passage={quote(chunk_id, safe='')}"


def source_label(p: Passage, language: str = "nl") -> str:
    """`Title (2019), p. 12` — report, year and printed page."""
    lab = labels(language)
    page = p.page_label or str(p.page or "?")
    return f"{shorten(p.title or p.doc_id, 200)} ({p.year or lab['no_year']}), {lab['page']} {shorten(page, 20)}"


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary, with an ellipsis when cut."""
    text = _SPACE.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 1)]
    if " " in cut[limit // 2:]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip() + "…"


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, split at paragraphs, then lines, then spaces; a word
    longer than `limit` is cut. Whitespace inside a piece is kept as it was."""
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces: list[str] = []

    def add(part: str) -> None:
        if part.strip():
            pieces.append(part.strip())

    def fill(parts: list[str], sep: str, finer) -> None:
        buf = ""
        for part in parts:
            candidate = f"{buf}{sep}{part}" if buf else part
            if len(candidate) <= limit:
                buf = candidate
                continue
            add(buf)
            buf = ""
            if len(part) <= limit:
                buf = part
            else:
                finer(part)
        add(buf)

    def by_words(par: str) -> None:
        def hard(word: str) -> None:
            for i in range(0, len(word), limit):
                add(word[i:i + limit])
        fill(par.split(" "), " ", hard)

    def by_lines(par: str) -> None:
        fill(par.split("\n"), "\n", by_words)

    fill(re.split(r"\n\s*\n", text.strip()), "\n\n", by_lines)
    return pieces
