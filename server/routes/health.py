"""GET /health: does the index answer, and how big is it."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ..deps import ConfigDep, PartsDep
from ..schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut, "description": "The index does not answer"}})
def health(parts: PartsDep, config: ConfigDep):
    """Liveness and index size: `ok`; `degraded` when the index is empty; `unhealthy` (503) when
    the index does not answer a query (for example after it was changed behind the server's back)."""
    problem = parts.index_problem()
    try:
        docs = parts.passages.documents()
    except Exception as e:  # the passage table is rebuilt from the index, which may be what fails
        docs, problem = [], problem or f"the index does not answer ({type(e).__name__})"
    n = sum(d.chunks for d in docs)
    out = HealthOut(status="unhealthy" if problem else "ok" if n else "degraded", passages=n, documents=len(docs),
                    answer_mode=config.answer_mode, embedding_model=parts.embedding_model, problem=problem or "")
    return JSONResponse(out.model_dump(), status_code=503) if problem else out
