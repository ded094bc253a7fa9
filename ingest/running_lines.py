"""Find running headers and footers, and the printed page numbers they carry.

A line is running when it repeats across pages once its digits are masked: at the top or bottom
of pages (any repeated line there), or anywhere on the page when it ends or starts with a number
(reports typeset from extracted text carry the original footer mid-page).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_NUMBERED = re.compile(r"^(?P<pre>\d{1,4})\s+(?P<text>\S.{4,}?)$|^(?P<text2>\S.{4,}?)\s+(?P<post>\d{1,4})$")
_BARE_NUMBER = re.compile(r"^(?:-\s*)?(?:pagina\s+|page\s+|p\.\s*)?(\d{1,4})(?:\s*(?:/|van|of)\s*\d{1,4})?(?:\s*-)?$", re.I)
_EDGE = 2


def _mask(line: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", " ", line.strip().lower()))


def _stem(line: str) -> str:
    """The line without a leading or trailing page number."""
    m = _NUMBERED.match(line.strip())
    if m:
        return _mask(m.group("text") or m.group("text2"))
    return _mask(line)


@dataclass(frozen=True)
class RunningLines:
    """The running-line stems of a document and the printed number found on each page (or None)."""

    stems: frozenset[str]
    printed: tuple[int | None, ...]

    def is_running(self, line: str) -> bool:
        s = line.strip()
        if not s:
            return False
        return _stem(s) in self.stems or _mask(s) in self.stems


def find_running_lines(pages: list[str]) -> RunningLines:
    """Detect running lines over the pages' raw text and read the printed page numbers."""
    n = len(pages)
    edge_counts: Counter[str] = Counter()
    numbered_counts: Counter[str] = Counter()
    sequences: set[str] = set()
    for text in pages:
        lines = [l for l in text.splitlines() if l.strip()]
        sequences |= _numbered_sequences(lines)
        edges = set(_mask(l) for l in lines[:_EDGE] + lines[-_EDGE:])
        edge_counts.update(edges)
        stems = set()
        for l in lines:
            s = l.strip()
            if len(s) > 150:
                continue
            m = _NUMBERED.match(s)
            if m:
                stems.add(_mask(m.group("text") or m.group("text2")))
        numbered_counts.update(stems)

    edge_min = max(3, int(0.25 * n)) if n >= 4 else n + 1
    stems = {s for s, c in edge_counts.items() if c >= edge_min and len(s) <= 150}
    # A numbered line whose text repeats on two or more pages is a footer even when it sits mid-page.
    stems |= {s for s, c in numbered_counts.items() if c >= 2 and len(s.replace("#", "")) >= 8}
    stems -= sequences

    printed: list[int | None] = []
    for text in pages:
        printed.append(_printed_number(text, stems))
    return RunningLines(frozenset(stems), tuple(printed))


def _numbered_sequences(lines: list[str]) -> set[str]:
    """Masked lines that one page carries twice with different numbers: a sequence of headings
    ("Vraag 3", "Antwoord 3", "Vraag 4" in parliamentary questions; "Artikel 4.1.8"), not a
    header or footer, which a page carries once."""
    seen: dict[str, str] = {}
    out: set[str] = set()
    for l in lines:
        s = l.strip()
        if len(s) > 60 or not re.search(r"\d", s):
            continue
        masked = _mask(s)
        if masked in seen and seen[masked] != s:
            out.add(masked)
            m = _NUMBERED.match(s)
            if m:
                out.add(_mask(m.group("text") or m.group("text2")))
        seen.setdefault(masked, s)
    return out


# "Pagina 2 van 9", "page 2 of 9", "blz. 2" inside a running line says the page's number outright.
_PAGE_OF = re.compile(r"\b(?:pagina|page|blz\.?|p\.)\s*(\d{1,4})(?:\s*(?:/|van|of)\s*\d{1,4})?\b", re.I)


def _is_year(number: str) -> bool:
    """A footer's "Versie 5.2, 10 januari 2022" or "© 2019" ends in a year, not a page number."""
    return len(number) == 4 and 1900 <= int(number) <= 2099


def _printed_number(text: str, stems: set[str]) -> int | None:
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for l in lines:
        if l and (_stem(l) in stems or _mask(l) in stems):
            m = _PAGE_OF.search(l)
            if m:
                return int(m.group(1))
    for l in lines:
        m = _NUMBERED.match(l)
        if m and _mask(m.group("text") or m.group("text2")) in stems and not _is_year(m.group("pre") or m.group("post")):
            return int(m.group("pre") or m.group("post"))
    for l in lines[:_EDGE] + lines[-_EDGE:]:
        m = _BARE_NUMBER.match(l)
        if m:
            return int(m.group(1))
    return None


def labels_from_printed(printed: tuple[int | None, ...]) -> list[str]:
    """Printed labels for every page: found numbers, carried forward (and back) by offset.

    Numbers that would make the offset run backwards are ignored as noise (a number in a table).
    """
    n = len(printed)
    anchors: list[tuple[int, int]] = []  # (pdf index, printed number)
    for i, num in enumerate(printed):
        if num is None or num <= 0:
            continue
        if anchors:
            pi, pn = anchors[-1]
            # printed numbers rise with the PDF page; a gap of unnumbered originals is allowed
            if num <= pn or num - pn > (i - pi) + 10:
                continue
        anchors.append((i, num))
    if not anchors:
        return [str(i + 1) for i in range(n)]
    labels = []
    a = 0
    for i in range(n):
        while a + 1 < len(anchors) and anchors[a + 1][0] <= i:
            a += 1
        ai, an = anchors[a]
        value = an + (i - ai)
        labels.append(str(value) if value >= 1 else str(i + 1))
    return labels
