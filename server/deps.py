"""FastAPI dependencies: the parts handed to `create_app`, and its config, for the handlers."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from retriever.errors import NoPages
from retriever.passages import PassageLookup
from retriever.types import Answer, Searcher

from .config import ServerConfig
from .learning import LearningService
from .metrics import InstrumentedAnswerer
from .pageview import PageViews
from .parts import Parts


def get_parts(request: Request) -> Parts:
    return request.app.state.parts


def get_config(request: Request) -> ServerConfig:
    return request.app.state.config


def get_searcher(request: Request) -> Searcher:
    return get_parts(request).searcher


def get_answerer(request: Request) -> InstrumentedAnswerer:
    return get_parts(request).answerer


def get_passages(request: Request) -> PassageLookup:
    return get_parts(request).passages


def get_learning(request: Request) -> LearningService:
    return get_parts(request).learning


def get_page_views(request: Request) -> PageViews:
    views = get_parts(request).pages
    if views is None:
        raise NoPages("this server shows no pages of the original files")
    return views


def record_answer(request: Request, answer: Answer, shown: str | None = None) -> None:
    """Leave the answer on the request state for the access log and the audit log; `shown` is the
    text as the client got it, when that differs from the answer's own text."""
    request.state.answer = answer
    request.state.answer_text = answer.text if shown is None else shown


PartsDep = Annotated[Parts, Depends(get_parts)]
ConfigDep = Annotated[ServerConfig, Depends(get_config)]
SearcherDep = Annotated[Searcher, Depends(get_searcher)]
AnswererDep = Annotated[InstrumentedAnswerer, Depends(get_answerer)]
PassagesDep = Annotated[PassageLookup, Depends(get_passages)]
LearningDep = Annotated[LearningService, Depends(get_learning)]
PageViewsDep = Annotated[PageViews, Depends(get_page_views)]
