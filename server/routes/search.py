"""Search, documents and passages."""
from __future__ import annotations

from fastapi import APIRouter

from ..deps import SearcherDep
from ..schemas import DocumentOut, PassageContextOut, PassageOut, SearchRequest, SearchResponse, SearchResultOut

router = APIRouter(prefix="/api", tags=["search"])


@router.post("/search", response_model=SearchResponse)
def search(req: SearchRequest, searcher: SearcherDep) -> SearchResponse:
    """The retriever's passages for a query, best first."""
    hits = searcher.search(req.query, k=req.k, filters=req.filters.to_filters() if req.filters else None)
    return SearchResponse(query=req.query, results=[SearchResultOut.from_hit(h) for h in hits])


@router.get("/documents", response_model=list[DocumentOut])
def documents(searcher: SearcherDep) -> list[DocumentOut]:
    """Every report in the index, newest first."""
    return [DocumentOut(**d.__dict__) for d in searcher.documents()]


@router.get("/passages/{chunk_id}", response_model=PassageContextOut, responses={404: {"description": "No such passage"}})
def passage(chunk_id: str, searcher: SearcherDep) -> PassageContextOut:
    """One passage with the text just before and after it in its report."""
    p = searcher.passage(chunk_id)
    before, after = searcher.neighbours(chunk_id)
    return PassageContextOut(passage=PassageOut.from_passage(p), before=[PassageOut.from_passage(x) for x in before],
                             after=[PassageOut.from_passage(x) for x in after])
