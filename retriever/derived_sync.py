"""Brings the passage store, the keyword index and the copy of the vectors in step with the
Chroma collection, by the passages that changed: new ids, ids gone, and passages rewritten in
place under the same id (their `changed_at` metadata moved). Nothing is rebuilt whole because
one report changed.

Several processes on one host share one folder (the workers of `rodedraad serve`): an update
holds an exclusive lock on `<folder>/update.lock`, and a process that finds the collection's
generation already applied by another only reloads.

    >>> sync = DerivedSync(folder, normaliser)
    >>> sync.update(index, index.generation())   # → what changed
"""
from __future__ import annotations

import fcntl
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .index import CHANGED_AT, ReportIndex, window_ids
from .keyword import ANALYSIS_VERSION, KeywordIndex
from .keyword_store import KeywordStore
from .normalise import Normaliser
from .passage_store import PassageStore
from .steps import StepClock
from .units import windows as unit_windows
from .vector_copy import VectorCopy

log = logging.getLogger(__name__)

# Part of the folder's identity: change how passages are stored or analysed, and it is refilled.
_FORMAT = f"8/{ANALYSIS_VERSION}"
# Passages stamped this long before the newest stamp seen are compared again: a write stamped
# earlier may land later (a batch in flight; ReportIndex stamps just before it writes).
_RESTAMP_MARGIN_NS = 10 * 10**9
_LOAD_BATCH = 5_000  # passages per step when a new folder is filled from the whole collection
_VECTOR_BATCH = 1_000  # ids per Chroma get of vectors


@dataclass(frozen=True)
class SyncReport:
    """What one update did."""

    added: int
    removed: int
    full: bool  # filled from the whole collection (a new folder, collection or analysis)
    added_slots: tuple[int, ...] = field(default=(), repr=False)  # for the table to follow in place
    removed_slots: tuple[int, ...] = field(default=(), repr=False)
    listed: bool = False  # True: the two slot lists are everything that changed (this process did it)
    added_stems: frozenset[str] = field(default=frozenset(), repr=False)  # of the added passages


class DerivedSync:
    """The passage store and keyword index in one folder, and how they follow the collection."""

    def __init__(self, folder: Path, normaliser: Normaliser) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.normaliser = normaliser
        self.passages = PassageStore(self.folder / "passages.sqlite3")
        self.keywords = KeywordStore(self.folder / "tantivy")
        self.vectors = VectorCopy(self.folder / "vectors.sqlite3")

    def applied(self) -> str:
        """The collection generation the folder is in step with ('' for none, or another format)."""
        if not self.passages.get_meta("identity").startswith(f"{_FORMAT}:"):
            return ""
        return self.passages.get_meta("generation")

    def update(self, index: ReportIndex, generation: str, clock: StepClock | None = None) -> SyncReport:
        """Apply what changed in the collection since the last update (under the folder's lock);
        `clock` times its steps."""
        clock = clock or StepClock()
        with (self.folder / "update.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.applied() == generation:
                return SyncReport(0, 0, False)  # another process on this host did it
            identity = f"{_FORMAT}:{index.collection.id}"
            full = self.passages.get_meta("identity") != identity
            if full:
                self.keywords.clear()
                self.passages.clear()
                self.vectors.clear()
                self.passages.set_meta("identity", identity)
            with clock("unpublished"):
                leftovers = self.passages.unpublished()
            if leftovers:  # an update that stopped between its two writes
                self.keywords.apply(removed=leftovers)
                self.passages.drop(leftovers)
            if not self.passages.published_count():
                report = self._fill(index, generation)
            else:
                report = self._follow(index, generation, clock)
            log.info("keyword index in step", extra={"added": report.added, "removed": report.removed,
                                                     "full": report.full or full})
            return report

    def add(self, records: list[tuple[str, str, dict]]) -> None:
        """Store and index these (id, text, metadata) passages directly, without a collection
        (benchmarks/scale.py fills a folder of a million passages this way)."""
        self._apply(records, [], {})

    def _stems(self, text: str, meta: dict) -> list[str]:
        search = (meta or {}).get("search_text") or self.normaliser(text or "")
        return KeywordIndex.analyse(str(search).split())

    def _apply(self, records: list[tuple[str, str, dict]], removed: list[int], meta: dict[str, str],
               clock: StepClock | None = None) -> tuple[list[int], list[list[str]]]:
        """Rows first (unpublished), then the keyword commit, then publish: a search never meets
        a keyword hit whose passage is not stored. Returns the new slots and their stems."""
        clock = clock or StepClock()
        with clock("stems"):
            stems = [self._stems(text, m) for _cid, text, m in records]
        with clock("sqlite insert"):
            slots = self.passages.insert(records, stems)
        self.keywords.apply(removed=removed, added=list(zip(slots, stems)), clock=clock)
        with clock("sqlite publish"):
            self.passages.publish(slots, removed, meta)
        return slots, stems

    def _copy_vectors(self, index: ReportIndex, records: list[tuple[str, str, dict]]) -> None:
        """Copy these passages' vectors and window vectors from the collection (the windows are
        written before their passage, so a passage seen here has its windows in place)."""
        ids = [cid for cid, _text, _meta in records]
        own: dict[str, np.ndarray] = {}
        for i in range(0, len(ids), _VECTOR_BATCH):
            own.update(index.vectors(ids[i:i + _VECTOR_BATCH]))
        wanted = {cid: window_ids(cid, len(unit_windows(text or ""))) for cid, text, _meta in records} \
            if index.windows is not None else {}
        flat = [w for ws in wanted.values() for w in ws]
        windows: dict[str, np.ndarray] = {}
        for i in range(0, len(flat), _VECTOR_BATCH):
            windows.update(index.window_vectors(flat[i:i + _VECTOR_BATCH]))
        copied = {}
        for cid in ids:
            if cid in own:  # gone from the collection since it was listed: not copied
                rows = [windows[w] for w in wanted.get(cid, ()) if w in windows]
                copied[cid] = (own[cid], np.stack(rows) if rows else None)
        self.vectors.put(copied)

    def _newest(self, records, since: int) -> int:
        return max([since] + [int((m or {}).get(CHANGED_AT) or 0) for _c, _t, m in records])

    def _fill(self, index: ReportIndex, generation: str) -> SyncReport:
        """Every passage of the collection, in batches (memory stays bounded)."""
        newest, batch, total = 0, [], 0
        for record in index.scan():
            batch.append(record)
            if len(batch) >= _LOAD_BATCH:
                newest = self._newest(batch, newest)
                self._copy_vectors(index, batch)
                self._apply(batch, [], {})
                total += len(batch)
                batch = []
        newest = self._newest(batch, newest)
        self._copy_vectors(index, batch)
        self._apply(batch, [], {"generation": generation, CHANGED_AT: str(newest)})
        return SyncReport(total + len(batch), 0, True)

    def _follow(self, index: ReportIndex, generation: str, clock: StepClock) -> SyncReport:
        """New ids, ids gone, and passages rewritten in place since the newest stamp seen. Only the
        stamped ids are looked up; every id is listed only when the count says something was
        deleted or written without a stamp."""
        since = int(self.passages.get_meta(CHANGED_AT, "0") or 0)
        with clock("chroma changed_since"):
            stamped = index.changed_since(since - _RESTAMP_MARGIN_NS)
        with clock("sqlite slots of the stamped ids"):
            known = self.passages.slots(stamped)  # chunk id → slot, of those stored
        new = [cid for cid in stamped if cid not in known]
        with clock("chroma count"):
            count = index.count()
        if count == self.passages.published_count() + len(new):
            removed = []  # nothing left, nothing came unstamped: no need to list every id
        else:  # something was deleted, or written without a stamp: compare every id
            known = self.passages.published_ids()
            ids = index.ids()
            removed = [slot for cid, slot in known.items() if cid not in ids]
            new = [cid for cid in ids if cid not in known]
        with clock("chroma passages_by_id"):
            records = list(index.passages_by_id(new))
        recent = {cid: at for cid, at in stamped.items() if cid in known}
        if recent:
            stored = self.passages.changed_at([known[cid] for cid in recent])
            rewritten = [cid for cid, at in recent.items() if int(stored.get(known[cid]) or 0) != at]
            for cid, text, meta in index.passages_by_id(rewritten):
                removed.append(known[cid])
                records.append((cid, text, meta))
        with clock("chroma vectors of the added"):
            gone = set(self.passages.chunk_ids(removed).values()) - {cid for cid, _t, _m in records}
            self.vectors.drop(gone)
            self._copy_vectors(index, records)
        slots, stems = self._apply(records, removed, {"generation": generation,
                                                      CHANGED_AT: str(self._newest(records, since))}, clock)
        return SyncReport(len(records), len(removed), False, tuple(slots), tuple(removed), listed=True,
                          added_stems=frozenset(s for passage in stems for s in passage))
