"""Precedents, themes across reports, and session packs: GET /api/precedents, /api/themes,
/api/themes/{id} and /api/pack. `install_learning(app, settings)` is called by `create_app`."""
from __future__ import annotations

import threading
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response

from rodedraad.settings import Settings
from retriever.types import Filters

from ..learning import LearningService
from ..learning.models import PrecedentsOut, ThemeDetailOut, ThemeSummaryOut
from ..learning.render import render_html, render_markdown

router = APIRouter(prefix="/api", tags=["learning"])
_lock = threading.Lock()


def get_learning(request: Request) -> LearningService:
    """The learning parts over the app's searcher, built on first use and rebuilt if the searcher changes."""
    state = request.app.state
    with _lock:
        learning = getattr(state, "learning", None)
        if learning is None or learning.searcher is not state.searcher:
            learning = LearningService.build(state.searcher, state.settings)
            state.learning = learning
        return learning


LearningDep = Annotated[LearningService, Depends(get_learning)]
YearQ = Annotated[int | None, Query(ge=1900, le=2100)]
ListQ = Annotated[list[str], Query(max_length=20)]


def _filters(year_from: int | None, year_to: int | None, publisher: list[str], doc_type: list[str]) -> Filters:
    return Filters(year_from=year_from, year_to=year_to, publishers=tuple(p for p in publisher if p.strip()),
                   doc_types=tuple(d for d in doc_type if d.strip()))


@router.get("/precedents", response_model=PrecedentsOut)
def precedents(learning: LearningDep, q: Annotated[str, Query(min_length=1, max_length=2000, pattern=r"\S")],
               year_from: YearQ = None, year_to: YearQ = None, publisher: ListQ = [], doc_type: ListQ = [],
               k: Annotated[int, Query(ge=1, le=50)] = 10) -> dict:
    """Reports that dealt with the question, one entry each, best first, with the period and number
    of cases quoted from the text (or null) and the best cited passages. Reports the documents only
    mention are entries of `kind` "vermeld rapport", with `mentioned_in` and the passages that name them."""
    entries = learning.finder.find(q, filters=_filters(year_from, year_to, publisher, doc_type), reports=k)
    return {"query": q, "precedents": [e.to_json() for e in entries]}


@router.get("/themes", response_model=list[ThemeSummaryOut])
def themes(learning: LearningDep, year_from: YearQ = None, year_to: YearQ = None, publisher: ListQ = [],
           doc_type: ListQ = []) -> list[dict]:
    """Every theme with its description, example questions, passage count and the documents it occurs in."""
    return learning.browser.overview(_filters(year_from, year_to, publisher, doc_type))


@router.get("/themes/{theme_id}", response_model=ThemeDetailOut, responses={404: {"description": "No such theme"}})
def theme(theme_id: str, learning: LearningDep, year_from: YearQ = None, year_to: YearQ = None,
          publisher: ListQ = [], doc_type: ListQ = [], limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict:
    """One theme across reports and years: counts by year, document and mentioned report (over all
    its passages), and its first `limit` passages, oldest reported year first."""
    found = learning.theme_or_404(theme_id)
    return learning.browser.detail(found, _filters(year_from, year_to, publisher, doc_type), limit=limit)


@router.get("/pack", responses={200: {"content": {"text/html": {}, "text/markdown": {}},
                                      "description": "The session pack"}, 404: {"description": "No such theme"}})
def pack(request: Request, learning: LearningDep, theme: Annotated[str, Query(min_length=1, max_length=100)],
         format: Literal["html", "md"] = "html", year_from: YearQ = None, year_to: YearQ = None,
         publisher: ListQ = [], doc_type: ListQ = []) -> Response:
    """A session pack for a regional learning session, as one self-contained HTML page or Markdown.
    Citations link to `/?passage=<chunk_id>` on this server."""
    settings: Settings = request.app.state.settings
    base = settings.public_url or str(request.base_url)
    built = learning.pack(theme, _filters(year_from, year_to, publisher, doc_type), base_url=base)
    name = f"sessiepakket-{built.theme.id}.{format}"
    headers = {"Content-Disposition": f'inline; filename="{name}"', "X-Content-Type-Options": "nosniff"}
    if format == "md":
        return Response(render_markdown(built), media_type="text/markdown; charset=utf-8", headers=headers)
    headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"
    return HTMLResponse(render_html(built), headers=headers)


def install_learning(app: FastAPI, settings: Settings) -> None:  # noqa: ARG001 - same signature as the other installers
    """Add the learning routes to the app."""
    app.include_router(router)
