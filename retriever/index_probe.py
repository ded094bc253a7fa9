"""Does the index still answer? A cheap check for `/health`: one stored vector, one query.

A server whose embedded index was changed behind its back still had every passage in memory and
said "ok" while Chroma failed each query; only asking Chroma shows it.
"""
from __future__ import annotations

from .index import ReportIndex
from .passages import PassageLookup


def index_problem(index: ReportIndex, passages: PassageLookup) -> str | None:
    """None when the collection answers a nearest-neighbour query for a passage it holds (or holds
    none yet), else what went wrong, in a few words."""
    try:
        known = passages.first()
        if known is None:
            return None
        vectors = index.vectors([known.chunk_id])
        if not vectors:
            return f"passage {known.chunk_id[:16]} is no longer in the index"
        found = index.query(next(iter(vectors.values())).tolist(), 3)
        if not found:
            return "the index returned nothing for a passage it holds"
        index.vectors([chunk_id for chunk_id, _ in found])
    except Exception as e:  # any failure of the store is the answer here
        return f"the index does not answer ({type(e).__name__})"
    return None
