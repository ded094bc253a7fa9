"""Raw page text → paragraphs: running lines dropped, hard wraps joined, hyphenation repaired.

The characters of the text are kept as printed (OCR errors included) so quotes stay verbatim;
folding for keyword search happens elsewhere.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# A line ends a sentence at its punctuation, also when a footnote number follows ("stellen.15").
_SENTENCE_END = re.compile(r"(?:[.!?:;”\"’')\]]|(?<=[^\W\d])[.!?]\d{1,2})$")
_HEADING = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(?P<title>[A-Z\u00C0-\u024F‘“'\"(].{1,90})$")
_BULLET = re.compile(r"^(?:[•▪◦·\-–*]|e|o|\d{1,2}[.)])\s+\S")
_CONJ = {"en", "of", "and", "or", "tot", "t/m"}
# A label with a number on a line of its own is a paragraph of its own: the questions and answers
# of parliamentary questions ("Vraag 3", "Antwoord 3"), a law's articles and chapters.
_LABEL = re.compile(r"^(?:vraag|vragen|antwoord|antwoorden|artikel|hoofdstuk|paragraaf|afdeling|bijlage|question|"
                    r"answer|article|chapter|section|annex|appendix)\s+[\dIVXivx][\w.:]{0,11}$", re.I)


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of one page, or a numbered heading (`heading` holds its number)."""

    text: str
    page: int
    heading: str = ""


# The header fields of an e-mail (Woo releases are mostly mail threads) and an attachment's file
# name: each is a line of its own, never the start of the message's first sentence.
_MAIL_FIELD = re.compile(r"^(?:from|sent|to|cc|bcc|subject|received|date|van|verzonden|aan|onderwerp|datum|"
                         r"bijlagen?|attachments?)\s?:|^\S[^:]{0,120}\.(?:docx?|pdf|xlsx?|pptx?|msg|odt)$", re.I)


def _is_heading(line: str) -> re.Match | None:
    s = line.strip()
    m = _HEADING.match(s)
    if not m or s.endswith((".", ",", ";")) or len(s) > 90:
        return None
    title = m.group("title")
    # "1 De eerste ..." sentences and table rows are not headings
    if "." not in m.group("num") and len(title.split()) > 8:
        return None
    if re.search(r"\d{3,}", title):
        return None
    return m


def _join(lines: list[str]) -> str:
    out = ""
    for line in lines:
        line = line.strip()
        if not out:
            out = line
        elif out.endswith("-") and len(out) > 1 and out[-2].isalpha():
            first = line.split(" ", 1)[0]
            if first.lower() in _CONJ or not first[:1].islower():
                out += " " + line  # "zorg- en", "Noord-\nHolland" keeps its hyphen + space
            else:
                out = out[:-1] + line
        else:
            out += " " + line
    return re.sub(r"[ \t]+", " ", out).strip()


# Bullet glyphs that PDF text extraction returns as control or private-use characters.
_BULLET_GLYPHS = re.compile("[\x7f\uf0b7\uf0a7\uf076\uf0d8\uf0fc]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x80-\x9f]")


def page_paragraphs(text: str, page: int, is_running: Callable[[str], bool]) -> list[Paragraph]:
    """Split one page's raw text into paragraphs and numbered headings."""
    text = _CONTROL.sub("", _BULLET_GLYPHS.sub("•", text))
    lines = [l.rstrip() for l in text.splitlines()]
    lines = [l for l in lines if not is_running(l)]
    widths = sorted(len(l) for l in lines if l.strip())
    full = widths[int(len(widths) * 0.8)] if widths else 80
    paras: list[Paragraph] = []
    buf: list[str] = []

    def flush() -> None:
        if buf:
            joined = _join(buf)
            if joined:
                paras.append(Paragraph(joined, page))
            buf.clear()

    for i, line in enumerate(lines):
        s = line.strip()
        if not s:
            flush()
            continue
        if _LABEL.match(s) or _MAIL_FIELD.match(s):
            flush()
            paras.append(Paragraph(s, page))
            continue
        m = _is_heading(s)
        prev_ended = not buf or _SENTENCE_END.search(buf[-1].strip()) or len(buf[-1].strip()) < 0.7 * full
        if m and prev_ended:
            flush()
            paras.append(Paragraph(s, page, heading=m.group("num")))
            continue
        if buf and _BULLET.match(s) and prev_ended:
            flush()
        buf.append(s)
        # a short line that ends a sentence closes the paragraph (blank lines are lost in extraction)
        if _SENTENCE_END.search(s) and len(s) < 0.85 * full:
            flush()
        elif len(s) < 0.6 * full and len(s) < 60 and not _SENTENCE_END.search(s) and s[:1].isupper() \
                and i + 1 < len(lines) and lines[i + 1].strip()[:1].isupper() and len(buf) == 1:
            flush()  # an unnumbered heading such as "Doel van dit onderzoek"
        elif _BULLET.match(buf[0]) and len(s) < 0.6 * full and i + 1 < len(lines) \
                and lines[i + 1].strip()[:1].isupper():
            flush()  # a list item ends on its short last line, with or without a full stop
    flush()
    return paras
