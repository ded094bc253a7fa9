"""Where a passage lies among a page's words: an alignment of word keys, tolerant of the words that
differ (OCR spellings, dropped running lines, bullets), choosing the densest run of agreement.

    >>> span = locate([w.key for w in words], text_keys(passage.text))
    >>> words[span.start:span.end]          # the passage's words on this page
    >>> span.rest                           # index of the first passage word not on this page

Pure Python over keys, so it is tested without a PDF as well as on the shipped ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

# Matched runs further apart than this many page words belong to different places on the page.
_MAX_GAP = 12
# Share of the passage's words that must agree before a place counts as found.
MIN_COVERAGE = 0.4
_LEAST_WORDS = 5


@dataclass(frozen=True)
class Span:
    """Page words [start, end) hold passage words [first, rest); `matched` of them agree exactly."""

    start: int
    end: int
    first: int
    rest: int
    matched: int

    def coverage(self, passage_words: int) -> float:
        return self.matched / passage_words if passage_words else 0.0


def locate(page: list[str], passage: list[str]) -> Span | None:
    """The place on the page that agrees best with the passage, or None when too little agrees."""
    if not page or not passage:
        return None
    blocks = [b for b in SequenceMatcher(None, page, passage, autojunk=False).get_matching_blocks() if b.size]
    # Lone one-word agreements ("de", "van") are noise unless the passage itself is that short.
    least = 1 if len(passage) < 6 else 2
    blocks = [b for b in blocks if b.size >= least]
    if not blocks:
        return None
    best: list = []
    run: list = [blocks[0]]
    for b in blocks[1:]:
        prev = run[-1]
        if b.a - (prev.a + prev.size) <= _MAX_GAP:
            run.append(b)
        else:
            best = max(best, run, key=lambda r: sum(x.size for x in r))
            run = [b]
    best = max(best, run, key=lambda r: sum(x.size for x in r))
    span = Span(start=best[0].a, end=best[-1].a + best[-1].size, first=best[0].b,
                rest=best[-1].b + best[-1].size, matched=sum(x.size for x in best))
    # Enough agreement over the part of the passage it claims, and never a lone phrase.
    if span.matched < min(len(passage), _LEAST_WORDS) or span.matched < MIN_COVERAGE * (span.rest - span.first):
        return None
    return span
