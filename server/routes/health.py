"""GET /health: is the index there and how big is it."""
from __future__ import annotations

from fastapi import APIRouter

from ..deps import SearcherDep, SettingsDep
from ..schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut)
def health(searcher: SearcherDep, settings: SettingsDep) -> HealthOut:
    """Liveness and index size; `degraded` when the index is empty."""
    docs = searcher.documents()
    n = sum(d.chunks for d in docs)
    return HealthOut(status="ok" if n else "degraded", passages=n, documents=len(docs),
                     answer_mode=settings.answer_mode, embedding_model=searcher.index.embedder.name)
