"""GET /health: is the index there and how big is it."""
from __future__ import annotations

from fastapi import APIRouter

from ..deps import ConfigDep, PartsDep
from ..schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut)
def health(parts: PartsDep, config: ConfigDep) -> HealthOut:
    """Liveness and index size; `degraded` when the index is empty."""
    docs = parts.passages.documents()
    n = sum(d.chunks for d in docs)
    return HealthOut(status="ok" if n else "degraded", passages=n, documents=len(docs),
                     answer_mode=config.answer_mode, embedding_model=parts.embedding_model)
