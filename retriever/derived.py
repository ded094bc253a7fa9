"""What search keeps beside the Chroma collection: the keyword index and the passages on disk
(retriever/derived_sync.py keeps them in step), and in memory only a compact table per passage
slot (year, report, publisher, type) for filters.

A server checks the collection's generation at most every `check_seconds`, in a background
thread: searches go on with the last committed table until the new one is there. With
`check_seconds=0` (tests, one-shot commands) every call checks and waits for the update.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .derived_sync import DerivedSync, SyncReport
from .index import ReportIndex
from .keyword import KeywordIndex
from .normalise import Normaliser
from .passage_store import PassageStore
from .steps import StepClock
from .types import Filters, Passage

log = logging.getLogger(__name__)


def _by_slot(values: np.ndarray, slots: np.ndarray, size: int, fill: int, old: np.ndarray | None = None) -> np.ndarray:
    """An int32 array by slot: `old` (grown to `size`), with these slots set to these values."""
    out = np.full(size, fill, dtype=np.int32)
    if old is not None:
        out[: min(size, len(old))] = old[:size]
    out[slots] = values
    return out


@dataclass
class PassageTable:
    """One committed state: the keyword index, the published slots, arrays by slot for filters,
    and the store the passages are read from."""

    generation: str
    keyword: KeywordIndex
    store: PassageStore
    slots: np.ndarray  # published slots, ascending
    years: np.ndarray  # by slot (0: unknown)
    doc_codes: np.ndarray
    doc_ids: list[str]
    publisher_codes: np.ndarray
    publishers: list[str]
    type_codes: np.ndarray
    doc_types: list[str]
    _memo: dict = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, generation: str, sync: DerivedSync) -> "PassageTable":
        """The table of what the folder holds now (the keyword index as last committed)."""
        keyword = sync.keywords.snapshot(stems_of=sync.passages.stems, total_length=sync.passages.total_length())
        slots, years, codes, names = sync.passages.columns()
        size = int(slots.max()) + 1 if len(slots) else 0
        docs, pubs, types = (_by_slot(c, slots, size, -1) for c in codes)
        return cls(generation, keyword, sync.passages, slots, _by_slot(years, slots, size, 0), docs, names[0],
                   pubs, names[1], types, names[2])

    def changed(self, generation: str, sync: DerivedSync, update: SyncReport,
                clock: StepClock | None = None) -> "PassageTable":
        """This table with the slots one update added and removed (reads only those rows, not all).
        The vocabulary is the last one and the added stems: a stem whose passages were all
        removed stays in it until the next full load, as it stays in Tantivy's term dictionary
        until its segment is merged (its document frequency, what scores use, is read fresh)."""
        added, removed = list(update.added_slots), list(update.removed_slots)
        clock = clock or StepClock()
        with clock("table columns of the added"):
            slots, years, codes, names = sync.passages.columns(added, (self.doc_ids, self.publishers, self.doc_types))
        with clock("table slot arrays"):
            kept = self.slots[~np.isin(self.slots, np.asarray(removed, dtype=np.int64))] if removed else self.slots
            if not len(kept) or not len(slots) or slots[0] > kept[-1]:
                all_slots = np.concatenate([kept, slots])  # new slots come after the old: no sort needed
            else:
                all_slots = np.union1d(kept, slots)
            size = max(len(self.years), int(all_slots.max()) + 1 if len(all_slots) else 0)
            docs, pubs, types = (_by_slot(c, slots, size, -1, old)
                                 for c, old in zip(codes, (self.doc_codes, self.publisher_codes, self.type_codes)))
        with clock("sqlite total_length"):
            total_length = sync.passages.total_length()
        with clock("vocabulary extended"):
            vocabulary = self.keyword.vocabulary | update.added_stems
        keyword = sync.keywords.snapshot(stems_of=sync.passages.stems, total_length=total_length,
                                         vocabulary=vocabulary, clock=clock)
        return PassageTable(generation, keyword, sync.passages, all_slots, _by_slot(years, slots, size, 0, self.years),
                            docs, names[0], pubs, names[1], types, names[2])

    @property
    def size(self) -> int:
        """How many passages the table holds."""
        return len(self.slots)

    def mask(self, filters: Filters | None) -> np.ndarray | None:
        """Boolean array by slot of the passages the filters allow (None: all)."""
        if filters is None or filters.is_empty():
            return None
        m = np.zeros(len(self.years), dtype=bool)
        m[self.slots] = True
        if filters.year_from:
            m &= self.years >= filters.year_from
        if filters.year_to:
            m &= (self.years <= filters.year_to) & (self.years > 0)
        if filters.doc_ids:
            wanted = [i for i, d in enumerate(self.doc_ids) if d in filters.doc_ids]
            m &= np.isin(self.doc_codes, wanted)
        if filters.publishers:
            wanted = [i for i, p in enumerate(self.publishers)
                      if any(x.lower() in p.lower() for x in filters.publishers)]
            m &= np.isin(self.publisher_codes, wanted)
        if filters.doc_types:
            m &= np.isin(self.type_codes, [i for i, t in enumerate(self.doc_types) if t in filters.doc_types])
        return m

    def passages_at(self, slots) -> list[Passage | None]:
        """The passages at these slots, in order (None for one deleted since this table was made)."""
        found = self.store.passages(slots)
        return [found.get(int(s)) for s in slots]

    def chunk_ids_at(self, slots) -> list[str | None]:
        """The chunk ids at these slots, in order (None for one deleted since this table was made)."""
        found = self.store.chunk_ids(slots)
        return [found.get(int(s)) for s in slots]

    def slots_of(self, chunk_ids) -> dict[str, int]:
        """Chunk id → slot, for those ids the table holds."""
        return self.store.slots(chunk_ids)

    def kept(self, name: str, compute):
        """`compute()`, worked out once per table (what depends on every passage: the report list)."""
        if name not in self._memo:
            self._memo[name] = compute()
        return self._memo[name]

    def all(self) -> list[Passage]:
        """Every passage in reading order (report, then position), read once per table: only the
        learning views need them all."""
        return self.kept("all", lambda: list(self.store.in_reading_order()))


class DerivedState:
    """Keeps a PassageTable in step with the collection (see the module's docstring). `folder`
    None: a temporary folder, removed with this object."""

    def __init__(self, index: ReportIndex, normaliser: Normaliser, folder: Path | None, check_seconds: float = 2.0):
        self.index = index
        self.normaliser = normaliser
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="rodedraad-keyword-"))
            weakref.finalize(self, shutil.rmtree, folder, True)
        self.folder = folder
        self.sync = DerivedSync(folder, normaliser)
        self.check_seconds = check_seconds
        self._table: PassageTable | None = None
        self.last_update: SyncReport | None = None  # what this process's last update changed
        self.last_steps: tuple[tuple[str, float, float], ...] = ()  # its steps and the table's (StepClock)
        self._checked = 0.0
        self._lock = threading.Lock()

    def table(self) -> PassageTable:
        """The current table; never waits for an update once there is one (unless check_seconds is 0)."""
        table = self._table
        if table is None or self.check_seconds <= 0:
            return self.refresh()
        if time.monotonic() - self._checked >= self.check_seconds and self._lock.acquire(blocking=False):
            self._checked = time.monotonic()
            threading.Thread(target=self._refresh_in_background, name="keyword-sync", daemon=True).start()
        return table

    def refresh(self) -> PassageTable:
        """Bring the table in step with the collection now, waiting for it."""
        with self._lock:
            return self._refresh()

    def _refresh_in_background(self) -> None:
        try:
            self._refresh()
        except Exception:  # Chroma away for a moment: keep serving the last table, try again later
            log.exception("keyword index update failed; searching the last committed state")
        finally:
            self._lock.release()

    def _refresh(self) -> PassageTable:
        """Under self._lock."""
        self._checked = time.monotonic()
        generation = self.index.generation()
        if self._table is not None and self._table.generation == generation:
            return self._table
        update, clock = None, StepClock()
        if self.sync.applied() != generation:
            update = self.last_update = self.sync.update(self.index, generation, clock)
        with clock("tantivy reload"):
            self.sync.keywords.reload()  # also what another process on this host committed
        if self._table is not None and update is not None and update.listed:
            # this process made the update: the table follows it without reading every row
            self._table = self._table.changed(generation, self.sync, update, clock)
        else:
            with clock("table load"):
                self._table = PassageTable.load(generation, self.sync)
        self.last_steps = clock.steps
        return self._table
