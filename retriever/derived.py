"""What search keeps in memory, derived from the Chroma collection: every passage's metadata,
the keyword index over their folded text, and arrays for fast filtering.

Persisted under `<data_dir>/keyword/` with the collection generation it was built from, so a
restart loads it instead of rebuilding; any change to the collection rebuilds it.
"""
from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .index import ReportIndex
from .keyword import ANALYSIS_VERSION, KeywordIndex
from .normalise import Normaliser
from .types import Filters, Passage

_FORMAT = f"3/{ANALYSIS_VERSION}"


@dataclass
class PassageTable:
    """Passages in a fixed order, their keyword index, and per-passage arrays for filters."""

    generation: str
    passages: list[Passage]
    keyword: KeywordIndex
    positions: dict[str, int]
    years: np.ndarray
    doc_codes: np.ndarray
    doc_ids: list[str]

    @classmethod
    def build(cls, index: ReportIndex, normaliser: Normaliser, generation: str) -> "PassageTable":
        passages: list[Passage] = []
        tokens: list[list[str]] = []
        for cid, doc, meta in index.scan():
            passages.append(Passage.from_record(cid, doc or "", meta or {}))
            search = (meta or {}).get("search_text") or normaliser(doc or "")
            tokens.append(str(search).split())
        # Reading order (document, position) makes neighbours adjacent.
        order = sorted(range(len(passages)), key=lambda i: (passages[i].doc_id, passages[i].position))
        passages = [passages[i] for i in order]
        tokens = [tokens[i] for i in order]
        return cls.from_parts(generation, passages, KeywordIndex.build(tokens))

    @classmethod
    def from_parts(cls, generation: str, passages: list[Passage], keyword: KeywordIndex) -> "PassageTable":
        doc_ids = sorted({p.doc_id for p in passages})
        code = {d: i for i, d in enumerate(doc_ids)}
        return cls(
            generation=generation,
            passages=passages,
            keyword=keyword,
            positions={p.chunk_id: i for i, p in enumerate(passages)},
            years=np.array([p.year or 0 for p in passages], dtype=np.int32),
            doc_codes=np.array([code[p.doc_id] for p in passages], dtype=np.int32),
            doc_ids=doc_ids,
        )

    def mask(self, filters: Filters | None) -> np.ndarray | None:
        """Boolean mask of passages the filters allow (None: all)."""
        if filters is None or filters.is_empty():
            return None
        m = np.ones(len(self.passages), dtype=bool)
        if filters.year_from:
            m &= self.years >= filters.year_from
        if filters.year_to:
            m &= (self.years <= filters.year_to) & (self.years > 0)
        if filters.doc_ids:
            wanted = [self.doc_ids.index(d) for d in filters.doc_ids if d in self.doc_ids]
            m &= np.isin(self.doc_codes, wanted)
        if filters.publishers or filters.doc_types:
            m &= np.array([filters.allows(p) for p in self.passages], dtype=bool)
        return m

    def save(self, folder: Path) -> None:
        """Write atomically: a reader never sees half a table."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".keyword-", dir=folder.parent))
        try:
            self.keyword.save(tmp / "bm25")
            with (tmp / "passages.pkl").open("wb") as f:
                pickle.dump(self.passages, f, protocol=pickle.HIGHEST_PROTOCOL)
            (tmp / "state.json").write_text(json.dumps({"generation": self.generation, "format": _FORMAT,
                                                        "size": len(self.passages)}))
            old = folder.with_name(f".old-{os.getpid()}-{time.time_ns()}")
            if folder.exists():
                folder.rename(old)
            tmp.rename(folder)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path, generation: str) -> "PassageTable | None":
        """The persisted table if it was built from this generation, else None."""
        try:
            state = json.loads((folder / "state.json").read_text())
            if state.get("generation") != generation or state.get("format") != _FORMAT:
                return None
            with (folder / "passages.pkl").open("rb") as f:
                passages = pickle.load(f)
            keyword = KeywordIndex.load(folder / "bm25", state["size"])
        except (OSError, ValueError, KeyError, EOFError, pickle.UnpicklingError):
            return None
        return cls.from_parts(generation, passages, keyword)


class DerivedState:
    """Keeps a PassageTable in step with the collection, checking at most every `check_seconds`."""

    def __init__(self, index: ReportIndex, normaliser: Normaliser, folder: Path | None, check_seconds: float = 2.0):
        self.index = index
        self.normaliser = normaliser
        self.folder = folder
        self.check_seconds = check_seconds
        self._table: PassageTable | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def table(self) -> PassageTable:
        now = time.monotonic()
        if self._table is not None and now - self._checked < self.check_seconds:
            return self._table
        with self._lock:
            if self._table is not None and time.monotonic() - self._checked < self.check_seconds:
                return self._table
            generation = self.index.generation()
            if self._table is None or self._table.generation != generation:
                table = PassageTable.load(self.folder, generation) if self.folder else None
                if table is None:
                    table = PassageTable.build(self.index, self.normaliser, generation)
                    if self.folder:
                        try:
                            table.save(self.folder)
                        except OSError:
                            pass  # persisting is an optimisation; a read-only data dir still serves
                self._table = table
            self._checked = time.monotonic()
            return self._table
