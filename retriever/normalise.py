"""Text folding shared by ingestion (the keyword field) and search (the query).

Lowercase, diacritics folded, known OCR confusions repaired ("1GJ" → "igj"), punctuation to spaces.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


def fold(text: str) -> str:
    """Lowercase and strip diacritics (casuïstiek → casuistiek, barriéres → barrieres)."""
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


class Normaliser:
    """Folds text and repairs OCR spellings given as a token → replacement map."""

    def __init__(self, ocr: Mapping[str, str] | None = None) -> None:
        self.ocr = {fold(k): fold(v) for k, v in (ocr or {}).items()}

    def tokens(self, text: str) -> list[str]:
        """Folded word tokens with OCR repairs applied."""
        out: list[str] = []
        for tok in _WORD.findall(fold(text)):
            fixed = self.ocr.get(tok)
            if fixed is None and "-" in tok:
                # compounds such as "ggz-ouders": keep the whole and its (repaired) parts
                parts = [self.ocr.get(p, p) for p in tok.split("-") if p]
                out.append("".join(parts).replace(" ", ""))
                for p in parts:
                    out.extend(p.split())
                continue
            out.extend((fixed or tok).split())
        return out

    def __call__(self, text: str) -> str:
        return " ".join(self.tokens(text))
