"""Precedents, themes across reports, and session packs: GET /api/precedents, /api/themes,
/api/themes/{id} and /api/pack."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from retriever.types import Filters

from ..deps import ConfigDep, LearningDep
from ..learning.models import PrecedentsOut, ThemeDetailOut, ThemeSummaryOut
from ..learning.render import render_html, render_markdown

router = APIRouter(prefix="/api", tags=["learning"])
YearQ = Annotated[int | None, Query(ge=1900, le=2100)]
ListQ = Annotated[list[str], Query(max_length=20)]


def _filters(year_from: int | None, year_to: int | None, publisher: list[str], doc_type: list[str]) -> Filters:
    return Filters.build(year_from=year_from, year_to=year_to, publishers=publisher, doc_types=doc_type)


@router.get("/precedents", response_model=PrecedentsOut)
def precedents(learning: LearningDep, q: Annotated[str, Query(min_length=1, max_length=2000, pattern=r"\S")],
               year_from: YearQ = None, year_to: YearQ = None, publisher: ListQ = [], doc_type: ListQ = [],
               k: Annotated[int, Query(ge=1, le=50)] = 10) -> PrecedentsOut:
    """Reports that dealt with the question, one entry each, best first, with the period and number
    of cases quoted from the text (or null) and the best cited passages. Reports the documents only
    mention are entries of `kind` "vermeld rapport", with `mentioned_in` and the passages that name them."""
    entries = learning.finder.find(q, filters=_filters(year_from, year_to, publisher, doc_type), reports=k)
    return PrecedentsOut.from_entries(q, entries)


@router.get("/themes", response_model=list[ThemeSummaryOut])
def themes(learning: LearningDep, year_from: YearQ = None, year_to: YearQ = None, publisher: ListQ = [],
           doc_type: ListQ = []) -> list[ThemeSummaryOut]:
    """Every theme with its description, example questions, passage count and the documents it occurs in."""
    return [ThemeSummaryOut.from_overview(o) for o in learning.browser.overview(_filters(year_from, year_to, publisher, doc_type))]


@router.get("/themes/{theme_id}", response_model=ThemeDetailOut, responses={404: {"description": "No such theme"}})
def theme(theme_id: str, learning: LearningDep, year_from: YearQ = None, year_to: YearQ = None,
          publisher: ListQ = [], doc_type: ListQ = [], limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> ThemeDetailOut:
    """One theme across reports and years: counts by year, document and mentioned report (over all
    its passages), and its first `limit` passages, oldest reported year first."""
    found = learning.theme_or_404(theme_id)
    return ThemeDetailOut.from_detail(learning.browser.detail(found, _filters(year_from, year_to, publisher, doc_type),
                                                              limit=limit))


@router.get("/pack", responses={200: {"content": {"text/html": {}, "text/markdown": {}},
                                      "description": "The session pack"}, 404: {"description": "No such theme"}})
def pack(learning: LearningDep, config: ConfigDep, theme: Annotated[str, Query(min_length=1, max_length=100)],
         format: Literal["html", "md"] = "html", year_from: YearQ = None, year_to: YearQ = None,
         publisher: ListQ = [], doc_type: ListQ = []) -> Response:
    """A session pack for a regional learning session, as one self-contained HTML page or Markdown.
    Citations link to `<RODEDRAAD_PUBLIC_URL>/?passage=<chunk_id>`, or relative `/?passage=…` links
    without it (never built from the request's Host header, which the client chooses)."""
    base = config.public_url
    built = learning.pack(theme, _filters(year_from, year_to, publisher, doc_type), base_url=base)
    name = f"sessiepakket-{built.theme.id}.{format}"
    headers = {"Content-Disposition": f'inline; filename="{name}"', "X-Content-Type-Options": "nosniff"}
    if format == "md":
        return Response(render_markdown(built), media_type="text/markdown; charset=utf-8", headers=headers)
    headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"
    return HTMLResponse(render_html(built), headers=headers)

