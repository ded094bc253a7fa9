"""A PDF page's words with their boxes, from pdfium's text layer, keyed for matching.

    >>> words = page_words(pdf[4].get_textpage())
    >>> words[0].text, words[0].boxes[0]   # (left, bottom, right, top) in PDF points

A word broken over two lines with a hyphen ("calamiteiten-" / "onderzoek") is one word with two
boxes, as ingestion joins it. Keys fold case, diacritics, punctuation and the usual OCR confusions
("1GJ" and "IGJ" share one key), so a quote carrying OCR spellings still lines up with the page.
"""
from __future__ import annotations

import ctypes
import re
import unicodedata
from dataclasses import dataclass

import pypdfium2.raw as pdfium_c

Rect = tuple[float, float, float, float]  # left, bottom, right, top, in PDF points

# OCR confuses these glyphs; both sides of a match map them to one letter.
_CONFUSABLE = str.maketrans({"1": "i", "l": "i", "|": "i", "!": "i", "0": "o"})
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_HYPHENS = ("-", "\u00ad", "\u2010", "\u2011", "\x02")
_KEEP_HYPHEN_BEFORE = {"en", "of", "and", "or", "tot", "t/m"}


def word_key(text: str) -> str:
    """The matching key of a word: folded, letters and digits only, OCR confusions merged."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _NOT_ALNUM.sub("", folded.translate(_CONFUSABLE))


def text_keys(text: str) -> list[str]:
    """Matching keys of every word of a text (words that are only punctuation drop out)."""
    return [k for k in (word_key(w) for w in text.split()) if k]


@dataclass(frozen=True)
class Word:
    """One word of a page as printed, its matching key, and its boxes (two when hyphenated)."""

    text: str
    key: str
    boxes: tuple[Rect, ...]


def _box(textpage, first: int, last: int) -> Rect:
    """The loose box (full line height) from the first to the last character of a run."""
    a, b = pdfium_c.FS_RECTF(), pdfium_c.FS_RECTF()
    pdfium_c.FPDFText_GetLooseCharBox(textpage.raw, first, ctypes.byref(a))
    pdfium_c.FPDFText_GetLooseCharBox(textpage.raw, last, ctypes.byref(b))
    return (min(a.left, b.left), min(a.bottom, b.bottom), max(a.right, b.right), max(a.top, b.top))


def page_words(textpage) -> list[Word]:
    """The words of a pypdfium2 text page in pdfium's reading order."""
    text = textpage.get_text_range()
    words: list[Word] = []
    carry: tuple[str, Rect] | None = None  # a word hyphenated at a line end, waiting for its second half

    def add(piece: str, boxes: tuple[Rect, ...]) -> None:
        key = word_key(piece)
        if key:
            words.append(Word(piece, key, boxes))

    for m in re.finditer(r"\S+", text):
        piece, box = m.group(), _box(textpage, m.start(), m.end() - 1)
        if carry is not None:
            # Joined as ingestion joins it: not before a conjunction ("zorg- en") or a capital ("Noord-Holland").
            if piece[:1].islower() and piece.lower() not in _KEEP_HYPHEN_BEFORE:
                add(carry[0] + piece, (carry[1], box))
                carry = None
                continue
            add(carry[0] + "-", (carry[1],))
            carry = None
        line_end = any(ch in "\r\n" for ch in text[m.end():m.end() + 3])
        if line_end and piece.endswith(_HYPHENS) and len(piece) > 1 and piece[-2].isalpha():
            carry = (piece[:-1], box)
            continue
        add(piece, (box,))
    if carry is not None:
        add(carry[0] + "-", (carry[1],))
    return words
