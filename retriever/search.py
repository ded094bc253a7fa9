"""Hybrid search over the reports: dense (multilingual e5 in Chroma: each passage's own vector
and its best window's) + BM25 (Dutch stems), expanded with the glossary, z-scored and added,
filtered in memory. A question is analysed once (retriever/question.py) for search and answers.

    >>> searcher = HybridRetriever(index, glossary=Glossary.load(path), keyword_dir=data_dir / "keyword")
    >>> [h.passage.page_label for h in searcher.search("wat ging er mis bij opschalen?", k=5)]
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .derived import DerivedState, PassageTable
from .fuse import is_near_duplicate_shingles, shingles
from .glossary import Glossary
from .index import ReportIndex
from .question import Question, QuestionAnalyser
from .types import Filters, Hit, Passage
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
    keyword: float = 0.3
    expansion: float = 0.5
    expansion_en: float = 0.8
    # a concept's weight is shared by its variants: ÷ n^0.5 (tune: 0 → 0.5 r@5 0.722 → 0.729, MRR
    # 0.594 → 0.593; 1 gave r@5 0.735 but MRR 0.586 and r@10 0.797)
    expansion_share: float = 0.5
    candidates: int = 100
    window_candidates: int = 200
    exact_below: int = 5000  # up to this many passages, all are scored exactly (no nearest-neighbour step)


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
        self.questions = QuestionAnalyser(glossary, self.derived)
        self._vectors = PassageVectors(index, self.derived.sync.passages.chunk_ids, self.derived.sync.vectors)
        self._windows = WindowVectors(index, copy=self.derived.sync.vectors)
        self._recent = threading.local()  # the answer layer scores windows with the vector search just made
        self._vec_lock = threading.Lock()
        # Suggested and repeated questions (and a follow-up's retries) skip the model, which is most
        # of a search's CPU time. The texts stay in this process's memory only.
        self._query_vectors = lru_cache(maxsize=query_cache_size)(self._embed_query)
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="embed")
        self._ahead: OrderedDict[str, Future] = OrderedDict()  # query vectors being made ahead (`prepare`)

    # -- pieces --------------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load the model and the derived keyword index before the first question."""
        self.index.embedder.embed_query("warm")
        self.derived.table()

    def _dense(self, table: PassageTable, qvec: list[float], mask: np.ndarray | None, n: int) -> dict[int, float]:
        """Slot → cosine similarity for the best n passages the mask allows."""
        if mask is not None:
            allowed = int(mask.sum())
            if allowed == 0:
                return {}
            share = allowed / max(1, table.size)
            if share < _EXACT_BELOW and allowed <= _EXACT_MAX:
                slots = np.flatnonzero(mask)
                sims = self._vectors.similarities(slots, np.asarray(qvec, dtype=np.float32))
                top = np.argsort(-sims)[:n] if len(sims) <= n else np.argpartition(-sims, n - 1)[:n]
                return {int(slots[i]): float(sims[i]) for i in top}
            n = int(min(table.size, n / share * 1.5 + 10))
        found = self.index.query(qvec, min(n, table.size))
        slot_of = table.slots_of(cid for cid, _sim in found)
        out: dict[int, float] = {}
        for cid, sim in found:
            slot = slot_of.get(cid)
            if slot is not None and (mask is None or (slot < len(mask) and mask[slot])):
                out[slot] = sim
        return out

    def _keyword(self, table: PassageTable, q: Question, mask: np.ndarray | None, n: int) -> dict[int, float]:
        """BM25 of the question's words, and of each glossary concept it names: a concept's
        variants share its weight (÷ √ of how many stems the index has), as a synonym set is one
        term; summed, a concept listed with ten variants outweighed the question's other words."""
        groups = [(list(q.tokens), 1.0)]
        w = self.weights.expansion_en if q.language == "en" else self.weights.expansion
        for group in q.expansion.groups:
            tokens = " ".join(group).split()
            known = len(set(table.keyword.stems(tokens)))
            if known:
                groups.append((tokens, w / known ** self.weights.expansion_share))
        return table.keyword.top(groups, n, allowed=mask)

    def analyse(self, question: str | Question) -> Question:
        """The question analysed once, for search and for the answer layer (cached)."""
        return question if isinstance(question, Question) else self.questions.analyse(question)

    def dense_query_text(self, query: str | Question) -> str:
        """The text embedded for a query: English questions get their Dutch domain terms added."""
        return self.analyse(query).dense_text

    def _embed_query(self, text: str) -> list[float]:
        return self.index.embedder.embed_query(text)

    def query_vector(self, text: str) -> list[float]:
        """The query embedding, from the LRU query cache when the same text was embedded before."""
        return self._query_vectors(text)

    def prepare(self, questions: "list[str | Question]") -> None:
        """Start embedding questions that will be scored soon (the questions of a message that
        asks several), beside the search, so the answer layer does not wait for them in turn."""
        for q in questions:
            text = self.analyse(q).dense_text
            with self._vec_lock:
                if text not in self._ahead:
                    self._ahead[text] = self._pool.submit(self.query_vector, text)
                while len(self._ahead) > 64:
                    self._ahead.popitem(last=False)

    def window_scores(self, passage: Passage, question: str | Question) -> np.ndarray:
        """Similarity of each window of a passage to the question, in window order: the answer
        layer picks the units that answer by these (the question's vector comes from the cache)."""
        text = self.analyse(question).dense_text
        recent = getattr(self._recent, "vector", None)  # this thread's last search: same question, no model call
        if recent is not None and recent[0] == text:
            qvec = recent[1]
        else:
            with self._vec_lock:
                ahead = self._ahead.get(text)
            qvec = ahead.result() if ahead is not None else self.query_vector(text)
        return self._windows.scores(passage, np.asarray(qvec, dtype=np.float32))

    def clear_query_cache(self) -> None:
        """Forget every cached query vector (benchmarks time new questions this way)."""
        self._query_vectors.cache_clear()

    # -- search --------------------------------------------------------------------------------

    def search(self, query: str | Question, *, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """The k best passages for a question (text, or one analysed already), best first,
        near-duplicates removed."""
        table = self.derived.table()
        q = self.analyse(query)
        if not table.size or not q.text.strip():
            return []
        mask = table.mask(filters)
        n = max(self.weights.candidates, k * 3)
        # The model call releases the GIL: keyword search runs beside it.
        dense_text = q.dense_text
        embedding = self._pool.submit(self.query_vector, dense_text)
        keyword = self._keyword(table, q, mask, n)
        qvec = np.asarray(embedding.result(), dtype=np.float32)
        self._recent.vector = (dense_text, qvec)
        if table.size <= self.weights.exact_below:
            # a small index: every passage is a candidate, scored exactly from memory
            candidates = table.slots if mask is None else table.slots[mask[table.slots]]
        else:
            dense = self._dense(table, qvec.tolist(), mask, n)
            by_window = self._by_window(table, qvec, mask)
            candidates = np.array(sorted(set(dense) | set(keyword) | set(by_window)), dtype=np.int64)
        if not len(candidates):
            return []
        ids = table.chunk_ids_at(candidates)  # the passages themselves are read only for the hits
        if any(cid is None for cid in ids):  # deleted since this table was made (an update is landing)
            keep = np.array([cid is not None for cid in ids], dtype=bool)
            candidates, ids = candidates[keep], [cid for cid in ids if cid is not None]
            if not len(candidates):
                return []
        slot_of = dict(zip(ids, candidates.tolist()))

        def texts(wanted: list[str]) -> dict[str, str]:
            return {p.chunk_id: p.text for p in table.passages_at([slot_of[c] for c in wanted]) if p is not None}

        own = self._vectors.similarities(candidates, qvec)
        best = self._windows.best(ids, qvec, texts)
        best = np.where(np.isnan(best), own, best)  # a passage without windows is its own window
        combined = self.weights.passage * own + self.weights.window * best
        words = np.array([keyword.get(int(i), 0.0) for i in candidates], dtype=np.float32)
        fused = _z(combined) + self.weights.keyword * _z(words)
        ranks = {"dense": _ranks(combined), "keyword": _ranks(words, positive=True)}
        order = [int(i) for i in np.argsort(-fused, kind="stable")]
        if self.reranker is not None:
            where = {int(c): i for i, c in enumerate(candidates)}
            reranked = self.reranker.rerank(q.text, [int(candidates[i]) for i in order[: max(30, k)]], table)
            order = [where[slot] for slot in reranked]
        hits: list[Hit] = []
        kept: list[frozenset] = []
        step = k + 5  # passages read per round, best first: near-duplicates are few
        for start in range(0, len(order), step):
            part = order[start:start + step]
            for i, p in zip(part, table.passages_at(candidates[part])):
                if p is None:
                    continue
                sh = shingles(p.text)
                if any(is_near_duplicate_shingles(sh, other) for other in kept):
                    continue
                kept.append(sh)
                hit_ranks = {name: int(r[i]) for name, r in ranks.items() if r[i] > 0}
                hits.append(Hit(passage=p, score=float(fused[i]), ranks=hit_ranks, relevance=float(own[i])))
                if len(hits) >= k:
                    return hits
        return hits

    def _by_window(self, table: PassageTable, qvec: np.ndarray, mask: np.ndarray | None) -> dict[int, float]:
        """Slot → best window similarity, for the passages whose windows are nearest the question."""
        found = self.index.query_windows(qvec.tolist(), self.weights.window_candidates)
        slot_of = table.slots_of(cid for cid, _sim in found)
        out: dict[int, float] = {}
        for cid, sim in found:
            slot = slot_of.get(cid)
            if slot is not None and (mask is None or (slot < len(mask) and mask[slot])) and sim > out.get(slot, -2.0):
                out[slot] = sim
        return out
