"""HTTP response models of the learning routes (precedents, themes), kept in the shape the web page
uses; `rodedraad precedents/themes --json` print the same models."""
from __future__ import annotations

from pydantic import BaseModel, Field

from retriever.mentions import MentionedReport
from retriever.precedents import CitedPassage, Fact, PrecedentEntry
from retriever.themes import Theme

from ..schemas import PassageBriefOut, PassageOut, ReportOut
from .browse import DocumentCount, ThemeDetail, ThemeOverview, ThemePassage


class FactOut(BaseModel):
    """A value quoted from a report: the sentence, the part giving the value, and where it stands."""

    text: str
    match: str
    chunk_id: str
    page: int
    page_label: str

    @classmethod
    def from_fact(cls, f: Fact | None) -> "FactOut | None":
        if f is None:
            return None
        return cls(text=f.text, match=f.match, chunk_id=f.chunk_id, page=f.page, page_label=f.page_label)


class PrecedentPassageOut(PassageBriefOut):
    """A passage under a precedent, with the sentence quoted from it."""

    quote: str | None = None

    @classmethod
    def from_cited(cls, c: CitedPassage) -> "PrecedentPassageOut":
        return cls(**cls.fields(c.passage), quote=c.quote or None)


class PrecedentOut(ReportOut):
    """One report: an indexed document (`kind` "document") or one a document mentions ("vermeld rapport")."""

    score: float
    kind: str
    mentioned_in: str | None = None
    mentioned_in_docs: list[str] = Field(default_factory=list)
    metadata_source: str = ""
    period: FactOut | None = None
    cases: FactOut | None = None
    passages: list[PrecedentPassageOut]

    @classmethod
    def from_entry(cls, e: PrecedentEntry) -> "PrecedentOut":
        return cls(doc_id=e.doc_id, title=e.title, publisher=e.publisher, year=e.year, doc_type=e.doc_type,
                   url=e.url, score=round(e.score, 6), kind=e.kind, mentioned_in=e.mentioned_in,
                   mentioned_in_docs=list(e.mentioned_in_docs), metadata_source=e.metadata_source,
                   period=FactOut.from_fact(e.period), cases=FactOut.from_fact(e.cases),
                   passages=[PrecedentPassageOut.from_cited(c) for c in e.passages])


class PrecedentsOut(BaseModel):
    query: str
    precedents: list[PrecedentOut]

    @classmethod
    def from_entries(cls, query: str, entries: list[PrecedentEntry]) -> "PrecedentsOut":
        return cls(query=query, precedents=[PrecedentOut.from_entry(e) for e in entries])


class ThemeDocumentOut(BaseModel):
    doc_id: str
    title: str
    year: int | None
    count: int

    @classmethod
    def from_count(cls, d: DocumentCount) -> "ThemeDocumentOut":
        return cls(doc_id=d.doc_id, title=d.title, year=d.year, count=d.count)


class ThemeInfoOut(BaseModel):
    id: str
    title: str
    description: str
    examples: list[str]
    count: int

    @classmethod
    def from_theme(cls, theme: Theme, count: int) -> "ThemeInfoOut":
        return cls(id=theme.id, title=theme.title, description=theme.description, examples=list(theme.examples),
                   count=count)


class ThemeSummaryOut(ThemeInfoOut):
    documents: list[ThemeDocumentOut] = Field(default_factory=list)

    @classmethod
    def from_overview(cls, o: ThemeOverview) -> "ThemeSummaryOut":
        info = ThemeInfoOut.from_theme(o.theme, o.count)
        return cls(**info.model_dump(), documents=[ThemeDocumentOut.from_count(d) for d in o.documents])


class YearCountOut(BaseModel):
    year: int | None
    count: int


class ReportCountOut(BaseModel):
    id: str
    title: str
    year: int | None
    count: int


class AboutOut(BaseModel):
    id: str
    title: str
    year: int | None
    publisher: str

    @classmethod
    def from_report(cls, r: MentionedReport) -> "AboutOut":
        return cls(id=r.id, title=r.title, year=r.year, publisher=r.publisher)


class ThemePassageOut(PassageOut):
    """A passage on a theme: the passage, the sentence quoted from it, and the reports it is about."""

    url: str = ""
    quote: str
    about: list[AboutOut] = Field(default_factory=list, description="Mentioned reports this passage reports on.")

    @classmethod
    def from_theme_passage(cls, tp: ThemePassage) -> "ThemePassageOut":
        base = PassageOut.from_passage(tp.passage).model_dump(exclude={"url"})  # the theme views link no URL
        return cls(**base, quote=tp.quote, about=[AboutOut.from_report(r) for r in tp.about])


class ThemeFiltersOut(BaseModel):
    year_from: int | None
    year_to: int | None
    publishers: list[str]
    doc_types: list[str]


class ThemeDetailOut(BaseModel):
    """One theme across reports and years; a year filter matches the document's year or the year
    of a report the passage reports on."""

    theme: ThemeInfoOut
    filters: ThemeFiltersOut
    count: int
    by_year: list[YearCountOut]
    by_document: list[ThemeDocumentOut]
    by_mentioned_report: list[ReportCountOut]
    passages: list[ThemePassageOut]

    @classmethod
    def from_detail(cls, d: ThemeDetail) -> "ThemeDetailOut":
        f = d.filters
        return cls(
            theme=ThemeInfoOut.from_theme(d.theme, d.count),
            filters=ThemeFiltersOut(year_from=f.year_from, year_to=f.year_to, publishers=list(f.publishers),
                                    doc_types=list(f.doc_types)),
            count=d.count,
            by_year=[YearCountOut(year=y, count=n) for y, n in d.by_year],
            by_document=[ThemeDocumentOut.from_count(x) for x in d.by_document],
            by_mentioned_report=[ReportCountOut(id=r.id, title=r.title, year=r.year, count=n)
                                 for r, n in d.by_mentioned_report],
            passages=[ThemePassageOut.from_theme_passage(tp) for tp in d.passages],
        )
