"""Browsing a theme across reports and years: counts per year, per document and per mentioned
report, and the tagged passages with the sentence that carries the theme.

Passages carry the themes the ThemeTagger gave them at ingestion. A passage of a later document
that reports on an earlier report (the 2019 study describing "Leren van calamiteiten 2" of 2016)
is listed under that report too, so a year filter of 2016 finds what the 2016 report says, also
where it is known only through a later document.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from retriever.mentions import MentionedReport, MentionIndex, sentence_spans
from retriever.passages import PassageLookup
from retriever.precedents import PrecedentFinder
from retriever.themes import Theme, ThemeTagger
from retriever.types import Filters, Passage


@dataclass(frozen=True)
class ThemePassage:
    """A passage on a theme, the sentence quoted from it, and the mentioned reports it reports on."""

    passage: Passage
    quote: str
    about: tuple[MentionedReport, ...] = ()

    @property
    def years(self) -> set[int]:
        """The document's year and the years of the reports the passage reports on."""
        return {y for y in (self.passage.year, *(r.year for r in self.about)) if y}

    @property
    def sort_year(self) -> int:
        return min(self.years, default=0)


@dataclass(frozen=True)
class DocumentCount:
    """How many of a theme's passages one document holds."""

    doc_id: str
    title: str
    year: int | None
    count: int


@dataclass(frozen=True)
class ThemeOverview:
    """A theme with its passage count and the documents it occurs in, most recent first."""

    theme: Theme
    count: int
    documents: list[DocumentCount]


@dataclass(frozen=True)
class ThemeDetail:
    """One theme across reports and years (the counts cover all its passages; `passages` may be cut)."""

    theme: Theme
    filters: Filters
    count: int
    by_year: list[tuple[int | None, int]]
    by_document: list[DocumentCount]
    by_mentioned_report: list[tuple[MentionedReport, int]]
    passages: list[ThemePassage]


def year_allows(f: Filters, years: set[int]) -> bool:
    """True when one of the years lies within the filter's range (no range: always)."""
    if not (f.year_from or f.year_to):
        return True
    return any((not f.year_from or y >= f.year_from) and (not f.year_to or y <= f.year_to) for y in years)


class ThemeBrowser:
    """Themes with their passages, counted by year, document and mentioned report."""

    def __init__(self, lookup: PassageLookup, tagger: ThemeTagger, finder: PrecedentFinder) -> None:
        self.lookup = lookup
        self.tagger = tagger
        self.finder = finder

    def quote_for(self, theme: Theme, text: str) -> str:
        """The sentence of a passage with the most of the theme's signal (verbatim, first on a tie)."""
        best, best_score = "", -1
        for start, end, _new in sentence_spans(text):
            sentence = " ".join(text[start:end].split())
            if len(sentence.split()) < 4:
                continue
            score = self.tagger.scores(sentence).get(theme.id, 0)
            if score > best_score:
                best, best_score = sentence, score
        return best

    def passages(self, theme: Theme, filters: Filters | None = None, *, quotes: bool = True) -> list[ThemePassage]:
        """The passages tagged with the theme that pass the filters, oldest reported year first
        (`quotes=False` skips picking the quoted sentence, for counting)."""
        f = filters or Filters()
        other = replace(f, year_from=None, year_to=None)
        index: MentionIndex = self.finder.mentions()
        out = []
        for p in self.lookup.all():
            if theme.id not in p.themes or not other.allows(p):
                continue
            about = tuple(index.reports[r] for r in sorted(index.reports_in(p.chunk_id)) if r in index.reports)
            tp = ThemePassage(p, self.quote_for(theme, p.text) if quotes else "", about)
            if year_allows(f, tp.years):
                out.append(tp)
        return sorted(out, key=lambda tp: (tp.sort_year, tp.passage.doc_id, tp.passage.position))

    def overview(self, filters: Filters | None = None) -> list[ThemeOverview]:
        """Every theme with its passage count and documents."""
        out = []
        for theme in self.tagger.themes:
            tps = self.passages(theme, filters, quotes=False)
            docs = Counter((tp.passage.doc_id, tp.passage.title, tp.passage.year) for tp in tps)
            ordered = sorted(docs.items(), key=lambda x: (-(x[0][2] or 0), x[0][0]))
            out.append(ThemeOverview(theme, len(tps), [DocumentCount(d, t, y, n) for (d, t, y), n in ordered]))
        return out

    def detail(self, theme: Theme, filters: Filters | None = None, *, limit: int | None = None) -> ThemeDetail:
        """One theme: counts by year, by document and by mentioned report (over all its passages),
        and its passages (the first `limit`, oldest reported year first)."""
        tps = self.passages(theme, filters, quotes=False)
        by_year = Counter(tp.passage.year for tp in tps)
        by_doc = Counter((tp.passage.doc_id, tp.passage.title, tp.passage.year) for tp in tps)
        by_report = Counter(r for tp in tps for r in tp.about)
        return ThemeDetail(
            theme=theme, filters=filters or Filters(), count=len(tps),
            by_year=sorted(by_year.items(), key=lambda x: x[0] or 0),
            by_document=[DocumentCount(d, t, y, n)
                         for (d, t, y), n in sorted(by_doc.items(), key=lambda x: (x[0][2] or 0, x[0][0]))],
            by_mentioned_report=sorted(by_report.items(), key=lambda x: (x[0].year or 0, x[0].id)),
            passages=[replace(tp, quote=self.quote_for(theme, tp.passage.text)) for tp in tps[:limit]],
        )
