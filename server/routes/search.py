"""Search, documents and passages."""
from __future__ import annotations

from fastapi import APIRouter, Request

from ..answering.bounds import analysis_text
from ..deps import PassagesDep, SearcherDep
from ..limits import LimitsDep
from ..schemas import DocumentOut, PassageContextOut, SearchRequest, SearchResponse

router = APIRouter(prefix="/api", tags=["search"])


@router.post("/search", response_model=SearchResponse)
def search(req: SearchRequest, request: Request, searcher: SearcherDep, limits: LimitsDep) -> SearchResponse:
    """The retriever's passages for a query, best first."""
    limits.question(req.query, field="query", noun="query")
    hits = searcher.search(analysis_text(req.query), k=limits.results(req.k), filters=req.filters.to_filters() if req.filters else None)
    request.state.results = len(hits)
    return SearchResponse.from_hits(req.query, hits)


@router.get("/documents", response_model=list[DocumentOut])
def documents(passages: PassagesDep) -> list[DocumentOut]:
    """Every report in the index, newest first."""
    return [DocumentOut.from_summary(d) for d in passages.documents()]


@router.get("/passages/{chunk_id}", response_model=PassageContextOut, responses={404: {"description": "No such passage"}})
def passage(chunk_id: str, passages: PassagesDep) -> PassageContextOut:
    """One passage with the text just before and after it in its report."""
    return PassageContextOut.from_passages(passages.passage(chunk_id), *passages.neighbours(chunk_id))
