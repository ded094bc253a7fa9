"""FastAPI dependencies: the parts built once in the app's lifespan, handed to handlers."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from retriever.search import HybridRetriever
from rodedraad.settings import Settings

from .answering.answerer import Answerer


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_searcher(request: Request) -> HybridRetriever:
    return request.app.state.searcher


def get_answerer(request: Request) -> Answerer:
    return request.app.state.answerer


SettingsDep = Annotated[Settings, Depends(get_settings)]
SearcherDep = Annotated[HybridRetriever, Depends(get_searcher)]
AnswererDep = Annotated[Answerer, Depends(get_answerer)]
