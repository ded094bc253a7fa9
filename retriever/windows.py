"""Window vectors: each passage's windows of consecutive sentences, scored against a question.

A passage is often about several things; its one vector blurs them. The best window says how
well its best two sentences answer (on the tune fold: r@5 0.68 → 0.75 beside the passage vector).
Vectors come from the keyword folder's copy (retriever/vector_copy.py), or else from the windows
collection by id, and are kept in memory for the passages search touches (float16, least
recently used out first), so a repeated question costs no round trip.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from .index import ReportIndex, window_ids
from .types import Passage
from .units import windows as unit_windows
from .vector_copy import VectorCopy


_NONE = np.zeros((0, 0), dtype=np.float16)  # cached: the passage has no windows


class WindowVectors:
    """Window vectors by passage, fetched on demand, at most `max_passages` kept."""

    def __init__(self, index: ReportIndex, max_passages: int = 50_000, copy: VectorCopy | None = None) -> None:
        self.index = index
        self.copy = copy
        self.max_passages = max_passages
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self.index.windows is not None

    def _matrices(self, chunk_ids: list[str], texts: Callable[[list[str]], dict[str, str]]) -> list[np.ndarray | None]:
        """The window matrix of each passage (None: it has none); `texts` gives the text of
        passages the folder's copy lacks, whose window ids depend on how it splits."""
        with self._lock:
            found = {cid: self._cache.get(cid) for cid in chunk_ids}
            for cid, m in found.items():
                if m is not None:
                    self._cache.move_to_end(cid)
        missing = [cid for cid, m in found.items() if m is None]
        found = {cid: (None if m is _NONE else m) for cid, m in found.items()}
        copied = self.copy.window_matrices(missing) if missing and self.copy is not None else {}
        if copied:
            with self._lock:
                for cid, m in copied.items():
                    found[cid] = m if len(m) else None
                    self._cache[cid] = m if len(m) else _NONE
            missing = [cid for cid in missing if cid not in copied]
        if missing:
            wanted = {cid: window_ids(cid, len(unit_windows(text))) for cid, text in texts(missing).items()}
            got = self.index.window_vectors([i for ids in wanted.values() for i in ids])
            with self._lock:
                for cid, ids in wanted.items():
                    rows = [got[i] for i in ids if i in got]
                    if rows:
                        m = np.stack(rows).astype(np.float16)
                        found[cid] = self._cache[cid] = m
                    else:  # none stored (an index from before windows): not asked for again
                        self._cache[cid] = _NONE
        if copied or missing:
            with self._lock:
                while len(self._cache) > self.max_passages:
                    self._cache.popitem(last=False)
        return [found.get(cid) for cid in chunk_ids]

    def best(self, chunk_ids: list[str], query: np.ndarray, texts: Callable[[list[str]], dict[str, str]]) -> np.ndarray:
        """Each passage's best window similarity to the query (NaN where it has no windows)."""
        out = np.full(len(chunk_ids), np.nan, dtype=np.float32)
        if not chunk_ids or not self.available:
            return out
        matrices = self._matrices(chunk_ids, texts)
        have = [i for i, m in enumerate(matrices) if m is not None]
        if not have:
            return out
        # one product over all windows, then the best per passage (not one small product each)
        stacked = np.concatenate([matrices[i] for i in have]).astype(np.float32)
        sims = stacked @ query.astype(np.float32)
        starts = np.cumsum([0] + [len(matrices[i]) for i in have[:-1]])
        out[have] = np.maximum.reduceat(sims, starts)
        return out

    def scores(self, passage: Passage, query: np.ndarray) -> np.ndarray:
        """Similarity of each of one passage's windows to the query, in window order (empty without)."""
        m = self._matrices([passage.chunk_id], lambda _ids: {passage.chunk_id: passage.text})[0] \
            if self.available else None
        return np.zeros(0, dtype=np.float32) if m is None else m.astype(np.float32) @ query.astype(np.float32)
