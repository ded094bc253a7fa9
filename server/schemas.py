"""HTTP request and response models (the API's shape, kept apart from the library's types)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from retriever.passages import DocumentSummary
from retriever.types import Answer, Filters, Hit, Passage

MAX_QUESTION = 2000


class FiltersIn(BaseModel):
    # strict: what the schema refuses ("2016", 2016.0, true for a year) is refused, not coerced
    model_config = ConfigDict(extra="forbid", strict=True)

    year_from: int | None = Field(None, ge=1900, le=2100)
    year_to: int | None = Field(None, ge=1900, le=2100)
    doc_ids: list[str] = Field(default_factory=list, max_length=50)
    publishers: list[str] = Field(default_factory=list, max_length=20)
    doc_types: list[str] = Field(default_factory=list, max_length=20)

    def to_filters(self) -> Filters:
        return Filters.build(year_from=self.year_from, year_to=self.year_to, doc_ids=self.doc_ids,
                             publishers=self.publishers, doc_types=self.doc_types)


class TurnIn(BaseModel):
    model_config = ConfigDict(strict=True)

    role: Literal["user", "assistant"]
    content: str = Field(..., max_length=20_000)


class AskRequest(BaseModel):
    """A question, with the conversation so far and optional filters."""

    model_config = ConfigDict(extra="forbid", strict=True,
                              json_schema_extra={"examples": [{"question": "wat ging er mis bij opschalen?"}]})

    question: str = Field(..., min_length=1, max_length=MAX_QUESTION, pattern=r"\S")
    history: list[TurnIn] = Field(default_factory=list, max_length=40)
    filters: FiltersIn | None = None


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(..., min_length=1, max_length=MAX_QUESTION, pattern=r"\S")
    k: int = Field(10, ge=1, le=50)
    filters: FiltersIn | None = None


class PassageOut(BaseModel):
    chunk_id: str
    doc_id: str
    title: str
    publisher: str
    year: int | None
    doc_type: str
    page: int
    page_label: str
    section: str
    text: str
    url: str
    themes: list[str] = Field(default_factory=list)
    ocr: bool = Field(False, description='The text was read by OCR from a scan: show "tekst via OCR".')
    ocr_confidence: float | None = Field(None, description="Mean OCR word confidence (0-100); null for a text layer.")

    @classmethod
    def from_passage(cls, p: Passage) -> "PassageOut":
        return cls(chunk_id=p.chunk_id, doc_id=p.doc_id, title=p.title, publisher=p.publisher, year=p.year,
                   doc_type=p.doc_type, page=p.page, page_label=p.page_label, section=p.section, text=p.text,
                   url=p.url, themes=list(p.themes), ocr=p.ocr, ocr_confidence=p.ocr_confidence)


class SearchResultOut(PassageOut):
    score: float
    relevance: float

    @classmethod
    def from_hit(cls, h: Hit) -> "SearchResultOut":
        base = PassageOut.from_passage(h.passage).model_dump()
        return cls(**base, score=round(h.score, 6), relevance=round(h.relevance, 4))


class SearchResponse(BaseModel):
    query: str
    results: list[SearchResultOut]

    @classmethod
    def from_hits(cls, query: str, hits: list[Hit]) -> "SearchResponse":
        return cls(query=query, results=[SearchResultOut.from_hit(h) for h in hits])


class PassageBriefOut(BaseModel):
    """A passage in a short listing: which report, where in it, and its text."""

    chunk_id: str
    doc_id: str
    title: str
    year: int | None
    page: int
    page_label: str
    section: str
    text: str

    @staticmethod
    def fields(p: Passage) -> dict:
        return {"chunk_id": p.chunk_id, "doc_id": p.doc_id, "title": p.title, "year": p.year, "page": p.page,
                "page_label": p.page_label, "section": p.section, "text": p.text}


class HitOut(PassageBriefOut):
    """A search result as `rodedraad search --json` prints it: the passage and its score."""

    score: float

    @classmethod
    def from_hit(cls, h: Hit) -> "HitOut":
        return cls(**cls.fields(h.passage), score=round(h.score, 6))


class SearchLineOut(BaseModel):
    """One line of `rodedraad search --json`: the query and its results."""

    query: str
    results: list[HitOut]

    @classmethod
    def from_hits(cls, query: str, hits: list[Hit]) -> "SearchLineOut":
        return cls(query=query, results=[HitOut.from_hit(h) for h in hits])


class CitationOut(BaseModel):
    n: int
    chunk_id: str
    doc_id: str
    title: str
    year: int | None
    page: int
    page_label: str
    quote: str
    url: str
    publisher: str = ""
    section: str = ""
    ocr: bool = Field(False, description='The quoted passage was read by OCR from a scan: show "tekst via OCR".')
    ocr_confidence: float | None = Field(None, description="Mean OCR word confidence (0-100); null for a text layer.")


class NearestOut(BaseModel):
    doc_id: str
    title: str
    year: int | None
    chunk_id: str
    page_label: str


class AnswerOut(BaseModel):
    """The answer with its numbered citations; `abstained` when the reports do not hold it."""

    answer: str
    citations: list[CitationOut]
    abstained: bool
    mode: str
    language: str = "nl"
    fallback: str = ""
    standalone_question: str = ""
    nearest: list[NearestOut] = Field(default_factory=list)

    @classmethod
    def from_answer(cls, a: Answer) -> "AnswerOut":
        return cls(
            answer=a.text,
            citations=[CitationOut(n=c.n, chunk_id=c.passage.chunk_id, doc_id=c.passage.doc_id, title=c.passage.title,
                                   year=c.passage.year, page=c.passage.page, page_label=c.passage.page_label,
                                   quote=c.quote, url=c.passage.url, publisher=c.passage.publisher,
                                   section=c.passage.section, ocr=c.passage.ocr,
                                   ocr_confidence=c.passage.ocr_confidence) for c in a.citations],
            abstained=a.abstained, mode=a.mode, language=a.language, fallback=a.fallback,
            standalone_question=a.standalone_question,
            nearest=[NearestOut(doc_id=p.doc_id, title=p.title, year=p.year, chunk_id=p.chunk_id,
                                page_label=p.page_label) for p in a.nearest],
        )


class ReportOut(BaseModel):
    """A report's identity, as every report listing shows it."""

    doc_id: str
    title: str
    publisher: str
    year: int | None
    doc_type: str
    url: str


class DocumentOut(ReportOut):
    chunks: int
    pages: int

    @classmethod
    def from_summary(cls, d: DocumentSummary) -> "DocumentOut":
        return cls(doc_id=d.doc_id, title=d.title, publisher=d.publisher, year=d.year, doc_type=d.doc_type,
                   url=d.url, chunks=d.chunks, pages=d.pages)


class PassageContextOut(BaseModel):
    passage: PassageOut
    before: list[PassageOut]
    after: list[PassageOut]

    @classmethod
    def from_passages(cls, passage: Passage, before: list[Passage], after: list[Passage]) -> "PassageContextOut":
        return cls(passage=PassageOut.from_passage(passage), before=[PassageOut.from_passage(p) for p in before],
                   after=[PassageOut.from_passage(p) for p in after])


class HealthOut(BaseModel):
    status: Literal["ok", "degraded", "unhealthy"]
    passages: int
    documents: int
    answer_mode: str
    embedding_model: str
    problem: str = ""


class ErrorOut(BaseModel):
    error: str
    detail: str | list | None = None
