"""Hybrid search over the reports: dense (multilingual e5 in Chroma) + BM25 (Dutch stems),
expanded with the glossary, fused with weighted RRF, filtered in memory.

    >>> searcher = HybridRetriever(index, glossary=Glossary.load(path), keyword_dir=data_dir / "keyword")
    >>> [h.passage.page_label for h in searcher.search("wat ging er mis bij opschalen?", k=5)]
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .derived import DerivedState, PassageTable
from .fuse import is_near_duplicate_shingles, reciprocal_rank_fusion, shingles
from .glossary import Expansion, Glossary
from .index import ReportIndex
from .types import Filters, Hit
from .vectors import PassageVectors

# Below this share of passages a filter uses exact in-memory vectors instead of oversampling Chroma.
_EXACT_BELOW = 0.2
_EXACT_MAX = 20_000


@dataclass(frozen=True)
class SearchWeights:
    """Tunable weights of the retrievers in the fusion and of the glossary expansion."""

    dense: float = 1.0
    keyword: float = 0.9
    expansion: float = 0.5
    expansion_en: float = 0.8
    candidates: int = 100
    rrf_k: float = 5.0  # small k: the top of either list counts (dev r@5 0.89 at 60, 1.00 at 5)


class HybridRetriever:
    """Hybrid search over one ReportIndex (lookups: passages.py; term statistics: terms.py)."""

    def __init__(self, index: ReportIndex, *, glossary: Glossary, keyword_dir: Path | None = None,
                 weights: SearchWeights = SearchWeights(), reranker=None, check_seconds: float = 2.0,
                 query_cache_size: int = 1024) -> None:
        self.index = index
        self.glossary = glossary
        self.normaliser = glossary.normaliser
        self.weights = weights
        self.reranker = reranker
        self.derived = DerivedState(index, self.normaliser, keyword_dir, check_seconds)
        self._vector_store: PassageVectors | None = None
        self._vec_lock = threading.Lock()
        # Suggested and repeated questions (and a follow-up's retries) skip the model, which is most
        # of a search's CPU time. The texts stay in this process's memory only.
        self._query_vectors = lru_cache(maxsize=query_cache_size)(self._embed_query)
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="embed")

    # -- pieces --------------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load the model and the derived keyword index before the first question."""
        self.index.embedder.embed_query("warm")
        self.derived.table()

    def _vectors(self, table: PassageTable) -> PassageVectors:
        """The in-memory vectors of this table's passages (a new table starts a new store)."""
        store = self._vector_store
        if store is None or store.table is not table:
            with self._vec_lock:
                if self._vector_store is None or self._vector_store.table is not table:
                    self._vector_store = PassageVectors(self.index, table)
                store = self._vector_store
        return store

    def _dense(self, table: PassageTable, qvec: list[float], mask: np.ndarray | None, n: int) -> dict[int, float]:
        """Position → cosine similarity for the best n passages the mask allows."""
        if mask is not None:
            allowed = int(mask.sum())
            if allowed == 0:
                return {}
            share = allowed / max(1, len(table.passages))
            if share < _EXACT_BELOW and allowed <= _EXACT_MAX:
                positions = np.flatnonzero(mask)
                sims = self._vectors(table).similarities(positions, np.asarray(qvec, dtype=np.float32))
                top = np.argsort(-sims)[:n] if len(sims) <= n else np.argpartition(-sims, n - 1)[:n]
                return {int(positions[i]): float(sims[i]) for i in top}
            n = int(min(len(table.passages), n / share * 1.5 + 10))
        out: dict[int, float] = {}
        for cid, sim in self.index.query(qvec, min(n, len(table.passages))):
            pos = table.positions.get(cid)
            if pos is not None and (mask is None or mask[pos]):
                out[pos] = sim
        return out

    def _keyword(self, table: PassageTable, query: str, exp: Expansion, mask: np.ndarray | None,
                 n: int) -> dict[int, float]:
        groups = [(self.normaliser.tokens(query), 1.0)]
        if exp.terms:
            w = self.weights.expansion_en if exp.language == "en" else self.weights.expansion
            groups.append((" ".join(exp.terms).split(), w))
        scores = table.keyword.weighted_scores(groups)
        if mask is not None:
            scores[~mask] = 0.0
        scored = np.flatnonzero(scores > 0)  # usually a small share of the passages
        if len(scored) > n:
            scored = scored[np.argpartition(-scores[scored], n - 1)[:n]]  # O(N), not a full sort
        return {int(i): float(scores[i]) for i in scored}

    def dense_query_text(self, query: str, exp: Expansion | None = None) -> str:
        """The text embedded for a query: English questions get their Dutch domain terms added."""
        dutch = (exp or self.glossary.expand(query)).dutch
        return f"{query} ({', '.join(dutch)})" if dutch else query

    def _embed_query(self, text: str) -> list[float]:
        return self.index.embedder.embed_query(text)

    def query_vector(self, text: str) -> list[float]:
        """The query embedding, from the LRU query cache when the same text was embedded before."""
        return self._query_vectors(text)

    def clear_query_cache(self) -> None:
        """Forget every cached query vector (benchmarks time new questions this way)."""
        self._query_vectors.cache_clear()

    # -- search --------------------------------------------------------------------------------

    def search(self, query: str, *, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """The k best passages for a question, best first, near-duplicates removed."""
        table = self.derived.table()
        if not table.passages or not query.strip():
            return []
        mask = table.mask(filters)
        n = max(self.weights.candidates, k * 3)
        exp = self.glossary.expand(query)
        # The model call releases the GIL: keyword search runs beside it.
        embedding = self._pool.submit(self.query_vector, self.dense_query_text(query, exp))
        keyword = self._keyword(table, query, exp, mask, n)
        qvec = embedding.result()
        dense = self._dense(table, qvec, mask, n)
        rankings = {
            "dense": sorted(dense, key=dense.get, reverse=True),
            "keyword": sorted(keyword, key=keyword.get, reverse=True),
        }
        fused = reciprocal_rank_fusion(rankings, {"dense": self.weights.dense, "keyword": self.weights.keyword},
                                       self.weights.rrf_k)
        order = sorted(fused, key=fused.get, reverse=True)
        rank_of = {name: {p: r for r, p in enumerate(ranking, 1)} for name, ranking in rankings.items()}
        if self.reranker is not None:
            order = self.reranker.rerank(query, order[: max(30, k)], table)
        hits: list[Hit] = []
        kept: list[frozenset] = []
        for pos in order:
            p = table.passages[pos]
            sh = shingles(p.text)
            if any(is_near_duplicate_shingles(sh, other) for other in kept):
                continue
            kept.append(sh)
            ranks = {name: r[pos] for name, r in rank_of.items() if pos in r}
            hits.append(Hit(passage=p, score=fused[pos], ranks=ranks, relevance=dense.get(pos, float("nan"))))
            if len(hits) >= k:
                break
        return self._fill_relevance(hits, qvec)

    def _fill_relevance(self, hits: list[Hit], qvec: list[float]) -> list[Hit]:
        """Cosine similarity of every hit to the query (keyword-only hits get theirs computed)."""
        missing = [h for h in hits if h.relevance != h.relevance]
        if not missing:
            return hits
        table = self.derived.table()
        positions = np.array([table.positions.get(h.passage.chunk_id, -1) for h in missing])
        sims = self._vectors(table).similarities(positions[positions >= 0], np.asarray(qvec, dtype=np.float32))
        found = dict(zip(positions[positions >= 0].tolist(), sims.tolist()))
        out = []
        for h in hits:
            if h.relevance != h.relevance:
                h = Hit(h.passage, h.score, h.ranks, float(found.get(table.positions.get(h.passage.chunk_id, -1), 0.0)))
            out.append(h)
        return out
