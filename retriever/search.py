"""Hybrid search over the reports: dense (multilingual e5 in Chroma) + BM25 (Dutch stems),
expanded with the glossary, fused with weighted RRF, filtered in memory.

    >>> searcher = HybridRetriever(index, glossary=Glossary.load(path), keyword_dir=data_dir / "keyword")
    >>> [h.passage.page_label for h in searcher.search("wat ging er mis bij opschalen?", k=5)]
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import PassageNotFound
from .types import Filters, Hit, Passage, ReportRef

from .derived import DerivedState, PassageTable
from .fuse import is_near_duplicate_shingles, reciprocal_rank_fusion, shingles
from .glossary import Expansion, Glossary
from .index import ReportIndex
from .keyword import KeywordIndex
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


@dataclass(frozen=True)
class DocumentSummary(ReportRef):
    """One report in the index."""

    chunks: int
    pages: int


@dataclass(frozen=True)
class Precedent:
    """One report that dealt with the question, with its best passages."""

    doc: DocumentSummary
    score: float
    hits: list[Hit] = field(default_factory=list)


class HybridRetriever:
    """Search, precedents, passages and documents over one ReportIndex."""

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
        self._stems = lru_cache(maxsize=20_000)(self._stems_uncached)

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

    def precedents(self, query: str, *, reports: int = 10, per_report: int = 3,
                   filters: Filters | None = None, hits: list[Hit] | None = None) -> list[Precedent]:
        """Reports that dealt with the question: one entry each, best passages under it.

        `hits`: passages already found for the query (with the filters applied), grouped instead of
        searching again; retriever/precedents.py passes them to embed the query once."""
        if hits is None:
            hits = self.search(query, k=max(40, reports * per_report * 2), filters=filters)
        docs = {d.doc_id: d for d in self.documents()}
        grouped: dict[str, list[Hit]] = {}
        for h in hits:
            grouped.setdefault(h.passage.doc_id, []).append(h)
        out = [Precedent(doc=docs[d], score=sum(x.score for x in hs[:per_report]), hits=hs[:per_report])
               for d, hs in grouped.items() if d in docs]
        out.sort(key=lambda p: p.score, reverse=True)
        return out[:reports]

    # -- term statistics for the answer layer ---------------------------------------------------

    def stems(self, text: str) -> tuple[str, ...]:
        """Folded, stopword-free Dutch stems of a text (as the keyword index sees it).

        Cached: the answer layer stems the same passages' sentences for question after question."""
        return self._stems(text)

    def _stems_uncached(self, text: str) -> tuple[str, ...]:
        return tuple(KeywordIndex.analyse(self.normaliser.tokens(text)))

    def term_weights(self, query: str) -> tuple[dict[str, float], dict[str, float], set[str]]:
        """IDF of the question's own stems, of its glossary expansion's stems, and the stems the
        reports never use (not even with a typo's difference), which get the highest IDF."""
        table = self.derived.table()
        own = table.keyword.idf(self.normaliser.tokens(query))
        unknown = {s for s, w in own.items() if w == 0.0 and not table.keyword.known(s)}
        for s in unknown:
            # a compound of known words is half unknown
            own[s] = table.keyword.max_idf * (0.5 if table.keyword.compound_part(s) else 1.0)
        exp = self.glossary.expand(query)
        extra = table.keyword.idf(" ".join(exp.terms).split()) if exp.terms else {}
        return own, {k: v for k, v in extra.items() if k not in own}, unknown

    # -- lookups -------------------------------------------------------------------------------

    def passage(self, chunk_id: str) -> Passage:
        table = self.derived.table()
        pos = table.positions.get(chunk_id)
        if pos is None:
            raise PassageNotFound(f"no passage with id {chunk_id!r}")
        return table.passages[pos]

    def neighbours(self, chunk_id: str, window: int = 1) -> tuple[list[Passage], list[Passage]]:
        """The passages just before and after one, within its document."""
        table = self.derived.table()
        pos = table.positions.get(chunk_id)
        if pos is None:
            raise PassageNotFound(f"no passage with id {chunk_id!r}")
        doc = table.passages[pos].doc_id
        before = [table.passages[i] for i in range(max(0, pos - window), pos) if table.passages[i].doc_id == doc]
        after = [table.passages[i] for i in range(pos + 1, min(len(table.passages), pos + 1 + window))
                 if table.passages[i].doc_id == doc]
        return before, after

    def documents(self) -> list[DocumentSummary]:
        """Every report in the index, newest first."""
        table = self.derived.table()
        acc: dict[str, list[Passage]] = {}
        for p in table.passages:
            acc.setdefault(p.doc_id, []).append(p)
        out = [DocumentSummary(doc_id=d, title=ps[0].title, publisher=ps[0].publisher, year=ps[0].year,
                               doc_type=ps[0].doc_type, url=ps[0].url, chunks=len(ps),
                               pages=max(p.page for p in ps)) for d, ps in acc.items()]
        return sorted(out, key=lambda d: (-(d.year or 0), d.title))
