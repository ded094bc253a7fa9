"""Precedent search: which reports dealt with a question, one entry per report, with the period and
number of cases as the text states them (quoted with chunk and page, never guessed), the best cited
passages, and the reports the documents only mention (from retriever/mentions.py).

    >>> finder = PrecedentFinder(searcher, lookup, terms, MentionCatalogue.load())
    >>> [(e.title, e.kind, e.cases and e.cases.match) for e in finder.find("opschalen en afschalen")]
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from .mentions import (
    MentionCatalogue,
    MentionedReport,
    MentionIndex,
    Sentence,
    sentence_spans,
)
from .passages import DocumentSummary, PassageLookup
from .terms import TermStatistics
from .types import Filters, Hit, Passage, ReportRef, Searcher

KIND_DOCUMENT = "document"
KIND_MENTIONED = "vermeld rapport"

_COUNT = (r"(?:\d{1,4}|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien|veertien|vijftien|zestien|"
          r"zeventien|achttien|negentien|twintig|dertig|veertig|vijftig|honderd)")
# "acht calamiteitenonderzoeken", "acht en elf calamiteiten", "de elf onderzochte calamiteiten", "11 casussen".
_CASES = re.compile(rf"(?<![\w-]){_COUNT}(?:\s+en\s+{_COUNT})?\s+(?:[a-z]+e\s+)?"
                    r"(?:calamiteit(?:en)?(?:onderzoek(?:en)?)?|casus(?:sen)?|incidenten)\b", re.I)
_MONTH = r"(?:januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december)"
_YEAR = r"(?:19|20)\d\d"
_PERIOD = re.compile(
    rf"\bin de periode\s+(?:tussen\s+|van\s+)?(?:{_MONTH}\s+)?{_YEAR}"
    rf"(?:\s*(?:-|–|en|tot|t/m)\s*(?:{_MONTH}\s+)?{_YEAR})?"
    rf"|(?<![\w/-]){_YEAR}\s*[-–]\s*{_YEAR}(?![\w/-])"
    rf"|\b(?:eind|begin|medio)\s+{_YEAR}\s*/\s*(?:eind|begin|medio)?\s*{_YEAR}"
    rf"|\btussen\s+{_MONTH}\s+{_YEAR}\s+en\s+{_MONTH}\s+{_YEAR}", re.I)
# A period only counts in a sentence about cases or research, and never inside a bracketed reference.
_CONTEXT = re.compile(r"calamiteit|onderzoek|casus|gesprek|interview|focusgroep|analyse", re.I)
_BRACKETS = re.compile(r"\([^()]*\)")


@dataclass(frozen=True)
class Fact:
    """A quoted statement (the sentence) and the part of it that gives the value."""

    text: str
    match: str
    chunk_id: str
    page: int
    page_label: str



@dataclass(frozen=True)
class CitedPassage:
    """A passage shown under a precedent, with the sentence quoted from it."""

    passage: Passage
    quote: str = ""



@dataclass(frozen=True)
class PrecedentEntry(ReportRef):
    """One report in the precedent list: an indexed document, or a report a document mentions."""

    score: float
    kind: str
    period: Fact | None = None
    cases: Fact | None = None
    passages: tuple[CitedPassage, ...] = ()
    mentioned_in: str | None = None
    mentioned_in_docs: tuple[str, ...] = ()
    metadata_source: str = ""



def _facts(candidates: list[tuple[Passage, Sentence, float]]) -> tuple[Fact | None, Fact | None]:
    """The best period and the best number-of-cases statement among (passage, sentence, bonus)."""
    best: dict[str, tuple[float, Fact]] = {}
    for order, (p, s, bonus) in enumerate(candidates):
        sentence = p.text[s.start:s.end].strip()
        outside = _BRACKETS.sub(lambda m: " " * len(m.group()), sentence)
        for name, pattern in (("period", _PERIOD), ("cases", _CASES)):
            m = pattern.search(outside)
            if not m or (name == "period" and not _CONTEXT.search(outside)):
                continue
            score = bonus + (1.0 if "periode" in m.group().lower() else 0.0) - order * 1e-4
            fact = Fact(" ".join(sentence.split()), m.group(), p.chunk_id, p.page, p.page_label)
            if name not in best or score > best[name][0]:
                best[name] = (score, fact)
    return (best["period"][1] if "period" in best else None, best["cases"][1] if "cases" in best else None)


def document_facts(index: MentionIndex, doc_id: str) -> tuple[Fact | None, Fact | None]:
    """Period and cases a document states about itself: its sentences not about a mentioned report."""
    cands = [(p, s, 0.0) for cid, sents in index.sentences.items() if (p := index.passages[cid]).doc_id == doc_id
             for s in sents if not s.reports]
    return _facts(cands)


def report_facts(index: MentionIndex, report_id: str) -> tuple[Fact | None, Fact | None]:
    """Period and cases stated about a mentioned report; sentences about it alone count first."""
    cands = [(p, s, 2.0 if s.reports == {report_id} else 0.0) for p, sents in index.passages_about(report_id)
             for s in sents]
    return _facts(cands)


@dataclass(frozen=True)
class Precedent:
    """One report that dealt with the question, with its best passages."""

    doc: DocumentSummary
    score: float
    hits: list[Hit] = field(default_factory=list)


def group_by_report(hits: list[Hit], documents: list[DocumentSummary], *, reports: int = 10,
                    per_report: int = 3) -> list[Precedent]:
    """One entry per report, scored by its best `per_report` hits, best first."""
    docs = {d.doc_id: d for d in documents}
    grouped: dict[str, list[Hit]] = {}
    for h in hits:
        grouped.setdefault(h.passage.doc_id, []).append(h)
    out = [Precedent(doc=docs[d], score=sum(x.score for x in hs[:per_report]), hits=hs[:per_report])
           for d, hs in grouped.items() if d in docs]
    out.sort(key=lambda p: p.score, reverse=True)
    return out[:reports]


class PrecedentFinder:
    """Precedent search over a searcher, with the mentioned-report layer on top."""

    def __init__(self, searcher: Searcher, lookup: PassageLookup, terms: TermStatistics,
                 catalogue: MentionCatalogue, *, mention_window: int = 12) -> None:
        self.searcher = searcher
        self.lookup = lookup
        self.terms = terms
        self.catalogue = catalogue
        self.mention_window = mention_window
        self._lock = threading.Lock()
        self._cached: tuple[object, MentionIndex] | None = None

    def mentions(self) -> MentionIndex:
        """The sentence attribution for the passages now in the index (rebuilt when they change)."""
        passages = self.lookup.all()
        with self._lock:
            if self._cached is None or self._cached[0] is not passages:
                self._cached = (passages, self.catalogue.index(passages))
            return self._cached[1]

    def precedents(self, query: str, *, reports: int = 10, per_report: int = 3,
                   filters: Filters | None = None) -> list[Precedent]:
        """Indexed reports that dealt with the question: one entry each, best passages under it."""
        hits = self.searcher.search(query, k=max(40, reports * per_report * 2), filters=filters)
        return group_by_report(hits, self.lookup.documents(), reports=reports, per_report=per_report)

    def best_sentence(self, text: str, query: str) -> str:
        """The sentence of a passage that shares most stems with the query (verbatim)."""
        q = set(self.terms.stems(query))
        best, best_score = "", -1.0
        for i, (start, end, _new) in enumerate(sentence_spans(text)):
            sent = " ".join(text[start:end].split())
            if len(sent.split()) < 4:
                continue
            score = len(q & set(self.terms.stems(sent))) - i * 0.01
            if score > best_score:
                best, best_score = sent, score
        return best

    def find(self, query: str, *, filters: Filters | None = None, reports: int = 10,
             per_report: int = 3) -> list[PrecedentEntry]:
        """Reports that dealt with the question, best first: indexed documents and mentioned reports."""
        index = self.mentions()
        f = filters or Filters()
        k = max(40, reports * per_report * 2)
        # One search serves both layers: mentioned reports are filtered on their own year and
        # publisher, not on those of the document that mentions them.
        hits = self.searcher.search(query, k=k, filters=Filters(doc_ids=f.doc_ids))
        doc_hits = [h for h in hits if f.allows(h.passage)]
        if len(doc_hits) < reports * per_report and not f.is_empty() and len(doc_hits) < len(hits):
            doc_hits = self.searcher.search(query, k=k, filters=f)
        precedents = group_by_report(doc_hits, self.lookup.documents(), reports=reports, per_report=per_report)
        entries = [self._document_entry(index, pr.doc, pr.score, [h.passage for h in pr.hits], query)
                   for pr in precedents]
        top = max((e.score for e in entries), default=0.0)
        entries += self._mentioned_entries(index, query, hits[:self.mention_window], f, per_report, top)
        entries.sort(key=lambda e: e.score, reverse=True)
        return entries[:reports]

    def _document_entry(self, index: MentionIndex, doc, score: float, passages: list[Passage],
                        query: str) -> PrecedentEntry:
        period, cases = document_facts(index, doc.doc_id)
        return PrecedentEntry(doc_id=doc.doc_id, title=doc.title, publisher=doc.publisher, year=doc.year,
                              doc_type=doc.doc_type, url=doc.url, score=score, kind=KIND_DOCUMENT,
                              period=period, cases=cases, metadata_source="catalog of the indexed document",
                              passages=tuple(CitedPassage(p, self.best_sentence(p.text, query)) for p in passages))

    def _allowed(self, r: MentionedReport, host_docs: set[str], f: Filters) -> bool:
        if f.year_from and (r.year is None or r.year < f.year_from):
            return False
        if f.year_to and (r.year is None or r.year > f.year_to):
            return False
        if f.publishers and not any(x.lower() in r.publisher.lower() for x in f.publishers):
            return False
        if f.doc_types and not ({r.doc_type, KIND_MENTIONED} & set(f.doc_types)):
            return False
        return not f.doc_ids or bool(host_docs & set(f.doc_ids))

    def _title_match(self, r: MentionedReport, query: str) -> float:
        q = set(self.terms.stems(query))
        if not q:
            return 0.0
        names = set(self.terms.stems(" ".join((r.title, *r.aliases, str(r.year or "")))))
        return len(q & names) / len(q)

    def _mentioned_entries(self, index: MentionIndex, query: str, hits: list[Hit], f: Filters, per_report: int,
                           top: float) -> list[PrecedentEntry]:
        hit_score = {h.passage.chunk_id: h.score for h in hits}
        q = set(self.terms.stems(query))
        out = []
        for rid, report in index.reports.items():
            about = index.passages_about(rid)
            if not about:
                continue
            hosts = [p.doc_id for p, _s in about]
            if not self._allowed(report, set(hosts), f):
                continue
            # A found passage counts only when its sentences about the report share a word with the query.
            found = sorted(((hit_score[p.chunk_id], p, sents) for p, sents in about if p.chunk_id in hit_score
                            and q & set(self.terms.stems(" ".join(p.text[s.start:s.end] for s in sents)))),
                           key=lambda x: x[0], reverse=True)
            title_match = self._title_match(report, query)
            if not found and title_match < 0.5:
                continue
            score = sum(x[0] for x in found[:per_report]) + (title_match * top if title_match >= 0.5 else 0.0)
            naming = sorted(about, key=lambda a: (not any(rid in s.direct for s in a[1]), hosts.index(a[0].doc_id)))
            chosen = [(p, sents) for _sc, p, sents in found[:per_report]] or naming[:per_report]
            period, cases = report_facts(index, rid)
            primary = chosen[0][0].doc_id
            out.append(PrecedentEntry(
                doc_id=f"vermeld:{rid}", title=report.title, publisher=report.publisher, year=report.year,
                doc_type=report.doc_type, url="", score=score, kind=KIND_MENTIONED, period=period, cases=cases,
                passages=tuple(CitedPassage(p, self._quote_about(p, sents, rid)) for p, sents in chosen),
                mentioned_in=primary, mentioned_in_docs=tuple(dict.fromkeys(hosts)),
                metadata_source=report.source or "retriever/data/mentioned_reports.toml"))
        return out

    @staticmethod
    def _quote_about(p: Passage, sents: list[Sentence], rid: str) -> str:
        """The sentence that names the report, else the first one about it."""
        s = next((s for s in sents if rid in s.direct), sents[0])
        return " ".join(p.text[s.start:s.end].split())
