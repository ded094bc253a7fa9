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

from rodedraad.errors import PassageNotFound
from rodedraad.types import Filters, Hit, Passage, ReportRef

from .derived import DerivedState, PassageTable
from .fuse import is_near_duplicate_shingles, shingles
from .glossary import Expansion, Glossary
from .index import ReportIndex
from .keyword import KeywordIndex
from .vectors import PassageVectors
from .windows import WindowVectors

# Below this share of passages a filter uses exact in-memory vectors instead of oversampling Chroma.
_EXACT_BELOW = 0.2
_EXACT_MAX = 20_000


def _z(x: np.ndarray) -> np.ndarray:
    """Standard scores; all equal → zeros."""
    sd = float(x.std())
    return (x - x.mean()) / sd if sd > 1e-9 else np.zeros_like(x)


def _ranks(x: np.ndarray, positive: bool = False) -> np.ndarray:
    """1-based rank of each score (0 where `positive` and the score is not above zero)."""
    r = np.empty(len(x), dtype=np.int64)
    r[np.argsort(-x, kind="stable")] = np.arange(1, len(x) + 1)
    if positive:
        r[x <= 0] = 0
    return r


@dataclass(frozen=True)
class SearchWeights:
    """How the evidence is weighed. Chosen by cross-validation on the tune fold of the dev set
    (benchmarks/ablation.py); the check fold only measures them.

    A passage's dense score is `passage` × its own vector's cosine + `window` × its best
    window's cosine. Dense and keyword scores are z-scored over the candidates and added, the
    keyword side weighted by `keyword`: z-scoring puts two unlike scales on one, where rank
    fusion threw away how far apart the scores are."""

    passage: float = 0.5
    window: float = 0.5
    keyword: float = 0.2
    expansion: float = 0.5
    expansion_en: float = 0.8
    candidates: int = 100
    window_candidates: int = 300


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
        self._windows = WindowVectors(index)
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

    def window_scores(self, passage: Passage, qvec) -> np.ndarray:
        """Similarity of each window of a passage to a query vector (the answer layer picks the
        units that answer by these)."""
        return self._windows.scores(passage, np.asarray(qvec, dtype=np.float32))

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
        qvec = np.asarray(embedding.result(), dtype=np.float32)
        dense = self._dense(table, qvec.tolist(), mask, n)
        by_window = self._by_window(table, qvec, mask)
        candidates = np.array(sorted(set(dense) | set(keyword) | set(by_window)), dtype=np.int64)
        if not len(candidates):
            return []
        own = self._vectors(table).similarities(candidates, qvec)
        best = self._windows.best([table.passages[i] for i in candidates], qvec)
        best = np.where(np.isnan(best), own, best)  # a passage without windows is its own window
        combined = self.weights.passage * own + self.weights.window * best
        words = np.array([keyword.get(int(i), 0.0) for i in candidates], dtype=np.float32)
        fused = _z(combined) + self.weights.keyword * _z(words)
        ranks = {"dense": _ranks(combined), "keyword": _ranks(words, positive=True)}
        order = [int(i) for i in np.argsort(-fused, kind="stable")]
        if self.reranker is not None:
            reranked = self.reranker.rerank(query, [int(candidates[i]) for i in order[: max(30, k)]], table)
            where = {int(c): i for i, c in enumerate(candidates)}
            order = [where[pos] for pos in reranked]
        hits: list[Hit] = []
        kept: list[frozenset] = []
        for i in order:
            p = table.passages[int(candidates[i])]
            sh = shingles(p.text)
            if any(is_near_duplicate_shingles(sh, other) for other in kept):
                continue
            kept.append(sh)
            hit_ranks = {name: int(r[i]) for name, r in ranks.items() if r[i] > 0}
            hits.append(Hit(passage=p, score=float(fused[i]), ranks=hit_ranks, relevance=float(own[i])))
            if len(hits) >= k:
                break
        return hits

    def _by_window(self, table: PassageTable, qvec: np.ndarray, mask: np.ndarray | None) -> dict[int, float]:
        """Position → best window similarity, for the passages whose windows are nearest the question."""
        out: dict[int, float] = {}
        for cid, sim in self.index.query_windows(qvec.tolist(), self.weights.window_candidates):
            pos = table.positions.get(cid)
            if pos is not None and (mask is None or mask[pos]) and sim > out.get(pos, -2.0):
                out[pos] = sim
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
