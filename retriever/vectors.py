"""Passage vectors in memory, by passage slot (retriever/passage_store.py).

Filtered searches score the allowed passages exactly instead of using Chroma's `where` path
(slow at scale) or oversampling. Vectors are fetched from Chroma the first time a passage is
needed and kept as float16 (77 MB at 100k passages once all are touched; rows never touched
cost nothing, the matrix is allocated lazily by the OS). Slots are never reused, so what is
kept stays right across updates of the collection.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import numpy as np

from .index import ReportIndex

_FETCH_BATCH = 5000


class PassageVectors:
    """Vectors of passages by slot, filled on demand; `chunk_ids` names the passage at each slot."""

    def __init__(self, index: ReportIndex, chunk_ids: Callable[[Iterable[int]], dict[int, str]]) -> None:
        self.index = index
        self.chunk_ids = chunk_ids
        self._matrix: np.ndarray | None = None
        self._have = np.zeros(0, dtype=bool)
        self._lock = threading.Lock()

    def similarities(self, slots: np.ndarray, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of the query to each passage at these slots (0 for a passage that
        left the collection)."""
        slots = np.asarray(slots, dtype=np.int64)
        if not len(slots):
            return np.zeros(0, dtype=np.float32)
        self._ensure(slots)
        if self._matrix is None:
            return np.zeros(len(slots), dtype=np.float32)
        return self._matrix[slots].astype(np.float32) @ np.asarray(query, dtype=np.float32)

    def _grow(self, size: int, dim: int) -> None:
        """Room for slots below `size`; copies only the rows fetched (the rest stay untouched pages)."""
        capacity = max(size, int(len(self._have) * 1.25) + 1024)
        matrix = np.zeros((capacity, dim), dtype=np.float16)
        have = np.zeros(capacity, dtype=bool)
        if self._matrix is not None:
            rows = np.flatnonzero(self._have)
            matrix[rows] = self._matrix[rows]
            have[: len(self._have)] = self._have
        self._matrix, self._have = matrix, have

    def _ensure(self, slots: np.ndarray) -> None:
        top = int(slots.max()) + 1
        if top <= len(self._have) and self._have[slots].all():
            return
        with self._lock:
            if top > len(self._have) and self._matrix is not None:
                self._grow(top, self._matrix.shape[1])
            known = slots[slots < len(self._have)]
            missing = np.unique(np.concatenate([known[~self._have[known]], slots[slots >= len(self._have)]]))
            for start in range(0, len(missing), _FETCH_BATCH):
                batch = missing[start:start + _FETCH_BATCH]
                names = self.chunk_ids(batch.tolist())
                got = self.index.vectors(list(names.values()))
                if self._matrix is None and got:
                    self._grow(top, len(next(iter(got.values()))))
                if self._matrix is None:
                    continue
                for slot in batch:
                    vec = got.get(names.get(int(slot), ""))
                    if vec is not None:
                        self._matrix[slot] = vec
                self._have[batch] = True  # gone from Chroma: similarity 0, not fetched again
