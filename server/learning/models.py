"""HTTP response models of the learning routes (precedents, themes), kept in the shape the web page uses."""
from __future__ import annotations

from pydantic import BaseModel, Field

from ..schemas import PassageOut, ReportOut


class FactOut(BaseModel):
    """A value quoted from a report: the sentence, the part giving the value, and where it stands."""

    text: str
    match: str
    chunk_id: str
    page: int
    page_label: str


class PrecedentPassageOut(BaseModel):
    chunk_id: str
    doc_id: str
    title: str
    year: int | None
    page: int
    page_label: str
    section: str
    text: str
    quote: str | None = None


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


class PrecedentsOut(BaseModel):
    query: str
    precedents: list[PrecedentOut]


class ThemeDocumentOut(BaseModel):
    doc_id: str
    title: str
    year: int | None
    count: int


class ThemeSummaryOut(BaseModel):
    id: str
    title: str
    description: str
    examples: list[str]
    count: int
    documents: list[ThemeDocumentOut] = Field(default_factory=list)


class ThemeInfoOut(BaseModel):
    id: str
    title: str
    description: str
    examples: list[str]
    count: int


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


class ThemePassageOut(PassageOut):
    """A passage on a theme: the passage, the sentence quoted from it, and the reports it is about."""

    url: str = ""
    quote: str
    about: list[AboutOut] = Field(default_factory=list, description="Mentioned reports this passage reports on.")


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
