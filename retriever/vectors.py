"""Passage vectors in memory, by passage slot (retriever/passage_store.py).

Filtered searches score the allowed passages exactly instead of using Chroma's `where` path
(slow at scale) or oversampling. Vectors are read the first time a passage is needed, from the
keyword folder's copy (retriever/vector_copy.py) or else from Chroma, and kept as float16 (77 MB
at 100k passages once all are touched). They live in blocks of `_BLOCK` slots: a new report's
slots past the last block add a block and never copy the vectors kept (copying 100k rows stalled the search that first met a new report by 0.3 s); a
block's rows never touched cost nothing (the OS allocates its pages lazily). Slots are never
reused, so what is kept stays right across updates of the collection.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import numpy as np

from .index import ReportIndex
from .vector_copy import VectorCopy

_FETCH_BATCH = 5000
_BLOCK = 65_536  # slots per block: 48 MB of address space at 384 dimensions, resident only where touched


class PassageVectors:
    """Vectors of passages by slot, filled on demand; `chunk_ids` names the passage at each slot."""

    def __init__(self, index: ReportIndex, chunk_ids: Callable[[Iterable[int]], dict[int, str]],
                 copy: VectorCopy | None = None) -> None:
        self.index = index
        self.chunk_ids = chunk_ids
        self.copy = copy
        self._blocks: list[np.ndarray] = []  # float16 (_BLOCK, dim) each; slot s is row s % _BLOCK of block s // _BLOCK
        self._dim = 0
        self._have = np.zeros(0, dtype=bool)
        self._lock = threading.Lock()

    def similarities(self, slots: np.ndarray, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of the query to each passage at these slots (0 for a passage that
        left the collection)."""
        slots = np.asarray(slots, dtype=np.int64)
        if not len(slots):
            return np.zeros(0, dtype=np.float32)
        self._ensure(slots)
        if not self._dim:
            return np.zeros(len(slots), dtype=np.float32)
        rows = np.empty((len(slots), self._dim), dtype=np.float16)
        blocks = slots // _BLOCK
        for b in np.unique(blocks):
            pick = blocks == b
            rows[pick] = self._blocks[b][slots[pick] % _BLOCK]
        return rows.astype(np.float32) @ np.asarray(query, dtype=np.float32)

    def _grow(self, size: int, dim: int) -> None:
        """Blocks for slots below `size` (new blocks only: the kept ones are not copied)."""
        self._dim = dim
        while len(self._blocks) * _BLOCK < size:
            self._blocks.append(np.zeros((_BLOCK, dim), dtype=np.float16))
        if len(self._have) < size:
            have = np.zeros(len(self._blocks) * _BLOCK, dtype=bool)
            have[: len(self._have)] = self._have
            self._have = have

    def _ensure(self, slots: np.ndarray) -> None:
        top = int(slots.max()) + 1
        if top <= len(self._have) and self._have[slots].all():
            return
        with self._lock:
            if self._dim:
                self._grow(top, self._dim)
            known = slots[slots < len(self._have)]
            missing = np.unique(np.concatenate([known[~self._have[known]], slots[slots >= len(self._have)]]))
            for start in range(0, len(missing), _FETCH_BATCH):
                batch = missing[start:start + _FETCH_BATCH]
                names = self.chunk_ids(batch.tolist())
                got = self.copy.passage_vectors(names.values()) if self.copy is not None else {}
                if len(got) < len(names):  # not copied (yet): from the collection
                    got.update(self.index.vectors([n for n in names.values() if n not in got]))
                if not self._dim and got:
                    self._grow(top, len(next(iter(got.values()))))
                if not self._dim:
                    continue
                for slot in batch:
                    vec = got.get(names.get(int(slot), ""))
                    if vec is not None:
                        self._blocks[slot // _BLOCK][slot % _BLOCK] = vec
                self._have[batch] = True  # gone from Chroma: similarity 0, not fetched again
