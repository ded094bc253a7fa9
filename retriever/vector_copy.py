"""A copy of the collection's passage and window vectors beside the passage store, by chunk id
(float16 in SQLite).

A search scores its candidates with their own vector and their windows' vectors. Those were
fetched from Chroma the first time a passage was met, and a Chroma `get` of a few hundred
vectors costs tens of milliseconds (at 100k passages, most of what a new question paid beyond
the model). The keyword folder's update reads them from the collection once, when it stores the
passage (retriever/derived_sync.py), and a search reads them here: one indexed SQLite read, on
disk, shared through the OS page cache by every worker of the host instead of held by each.

    >>> copy = VectorCopy(folder / "vectors.sqlite3")
    >>> copy.put({"c1": (vector, window_matrix)})
    >>> copy.passage_vectors(["c1"])["c1"]
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (chunk_id TEXT PRIMARY KEY, dim INTEGER NOT NULL, passage BLOB, windows BLOB);
"""
# A row is 1–4 KB (768 bytes a vector at 384 dimensions): 16 KB pages hold several, where 4 KB
# pages held one and left the rest empty (33 → 27 MB for 10k rows of three vectors).
_PAGE_SIZE = 16_384
_BATCH = 900  # SQLite's limit on bound parameters is 999 in older builds


def _blob(v: np.ndarray | None) -> bytes | None:
    return None if v is None else np.ascontiguousarray(v, dtype=np.float16).tobytes()


class VectorCopy:
    """Vectors by chunk id in one SQLite file; one connection per thread (WAL: reads never wait
    for the update that writes)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._db().executescript(_SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            db.execute(f"PRAGMA page_size={_PAGE_SIZE}")  # takes effect only in a new file, before WAL
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def clear(self) -> None:
        """Forget every vector (the folder is filled anew)."""
        db = self._db()
        db.execute("DROP TABLE IF EXISTS vectors")
        db.executescript(_SCHEMA)

    def put(self, vectors: dict[str, tuple[np.ndarray | None, np.ndarray | None]]) -> None:
        """Store (passage vector, window matrix) by chunk id, replacing what an id had."""
        rows = []
        for cid, (own, windows) in vectors.items():
            dim = len(own) if own is not None else (windows.shape[1] if windows is not None and windows.size else 0)
            rows.append((cid, dim, _blob(own), _blob(windows) if windows is not None and windows.size else None))
        if not rows:
            return
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT OR REPLACE INTO vectors(chunk_id, dim, passage, windows) VALUES (?, ?, ?, ?)", rows)
        db.execute("COMMIT")

    def drop(self, chunk_ids: Iterable[str]) -> None:
        ids = list(chunk_ids)
        if not ids:
            return
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        for i in range(0, len(ids), _BATCH):
            part = ids[i:i + _BATCH]
            db.execute(f"DELETE FROM vectors WHERE chunk_id IN ({','.join('?' * len(part))})", part)
        db.execute("COMMIT")

    def _read(self, column: str, chunk_ids: Iterable[str]) -> dict[str, tuple[int, bytes]]:
        ids = list(dict.fromkeys(chunk_ids))
        out: dict[str, tuple[int, bytes]] = {}
        db = self._db()
        for i in range(0, len(ids), _BATCH):
            part = ids[i:i + _BATCH]
            for cid, dim, blob in db.execute(f"SELECT chunk_id, dim, {column} FROM vectors "
                                             f"WHERE chunk_id IN ({','.join('?' * len(part))})", part):
                if dim and (blob is not None or column == "windows"):
                    out[cid] = (dim, blob)
        return out

    def passage_vectors(self, chunk_ids: Iterable[str]) -> dict[str, np.ndarray]:
        """Each stored passage's own vector (float16); ids not stored are left out."""
        return {cid: np.frombuffer(blob, dtype=np.float16) for cid, (_dim, blob) in self._read("passage", chunk_ids).items()}

    def window_matrices(self, chunk_ids: Iterable[str]) -> dict[str, np.ndarray]:
        """Each stored passage's windows as a (windows × dim) float16 matrix, in window order (no
        rows: stored without windows); ids not stored are left out."""
        return {cid: np.frombuffer(blob or b"", dtype=np.float16).reshape(-1, dim)
                for cid, (dim, blob) in self._read("windows", chunk_ids).items()}
