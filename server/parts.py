"""The built parts the HTTP layer serves; `rodedraad/assemble.py` builds them, once per process."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from retriever.passages import PassageLookup
from retriever.types import Searcher

from .learning import LearningService
from .metrics import InstrumentedAnswerer
from .pageview import PageViews


@dataclass(frozen=True)
class Parts:
    """Everything a request may use. `extractive_answerer` answers where nobody can wait for an LLM
    (Teams); it is `answerer` itself when that one is extractive. `index_problem` asks the index
    whether it still answers (None when it does; `/health`). `pages` shows the original files and
    their highlighted pages (None: not offered)."""

    searcher: Searcher
    answerer: InstrumentedAnswerer
    extractive_answerer: InstrumentedAnswerer
    passages: PassageLookup
    learning: LearningService
    embedding_model: str
    index_problem: Callable[[], str | None] = lambda: None
    pages: PageViews | None = None
