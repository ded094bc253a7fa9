"""Passage vectors in memory, aligned with a PassageTable's positions.

Filtered searches score the allowed passages exactly instead of using Chroma's `where` path
(slow at scale) or oversampling. Vectors are fetched from Chroma the first time a passage is
needed and kept as float16 (77 MB at 100k passages once all are touched; rows never touched
cost nothing, the matrix is allocated lazily by the OS).
"""
from __future__ import annotations

import threading

import numpy as np

from .derived import PassageTable
from .index import ReportIndex

_FETCH_BATCH = 5000


class PassageVectors:
    """Vectors of one PassageTable's passages, by position, filled on demand."""

    def __init__(self, index: ReportIndex, table: PassageTable) -> None:
        self.index = index
        self.table = table
        self._matrix: np.ndarray | None = None
        self._have = np.zeros(len(table.passages), dtype=bool)
        self._lock = threading.Lock()

    def similarities(self, positions: np.ndarray, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of the query to each passage at these positions (0 for a passage
        that left the collection since the table was built)."""
        positions = np.asarray(positions, dtype=np.int64)
        if not len(positions):
            return np.zeros(0, dtype=np.float32)
        self._ensure(positions)
        if self._matrix is None:
            return np.zeros(len(positions), dtype=np.float32)
        return self._matrix[positions].astype(np.float32) @ np.asarray(query, dtype=np.float32)

    def _ensure(self, positions: np.ndarray) -> None:
        if self._have[positions].all():
            return
        with self._lock:
            missing = positions[~self._have[positions]]
            for start in range(0, len(missing), _FETCH_BATCH):
                batch = missing[start:start + _FETCH_BATCH]
                ids = [self.table.passages[i].chunk_id for i in batch]
                got = self.index.vectors(ids)
                if self._matrix is None and got:
                    dim = len(next(iter(got.values())))
                    self._matrix = np.zeros((len(self.table.passages), dim), dtype=np.float16)
                for pos, cid in zip(batch, ids):
                    vec = got.get(cid)
                    if vec is not None and self._matrix is not None:
                        self._matrix[pos] = vec
                self._have[batch] = True  # gone from Chroma: similarity 0, not fetched again
