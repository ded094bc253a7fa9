"""Passages on disk (SQLite), so an app worker keeps only what search needs per passage in memory.

Each passage gets a slot: its row number, never reused, which the keyword index and the
in-memory arrays use instead of a position. A passage whose text or metadata changed gets a new
slot; the old one is deleted. Rows are written as `indexed = 0` and become visible once the
keyword index has committed them (`publish`), so a crash between the two leaves rows that the
next update finds (`unpublished`) and drops. SQLite's WAL mode lets every search read the last
committed state while an update writes.

    >>> store = PassageStore(folder / "passages.sqlite3")
    >>> slots = store.insert([(chunk_id, text, metadata)])
    >>> store.publish(slots, removed=[], meta={"generation": gen})
    >>> store.passages(slots)[slots[0]].text
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from .keyword import stem_hashes
from .types import Passage

# Metadata that only ingestion and the keyword index read: not kept with the passage.
_NOT_KEPT = ("search_text", "embed_text")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS passages (
    slot INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id TEXT NOT NULL, doc_id TEXT NOT NULL, position INTEGER NOT NULL, year INTEGER NOT NULL,
    publisher TEXT NOT NULL, doc_type TEXT NOT NULL, indexed INTEGER NOT NULL DEFAULT 0, record TEXT NOT NULL,
    stems BLOB NOT NULL DEFAULT x'', length INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS passages_by_id ON passages(chunk_id);
CREATE INDEX IF NOT EXISTS passages_in_order ON passages(doc_id, position);
CREATE INDEX IF NOT EXISTS passages_unpublished ON passages(slot) WHERE indexed = 0;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_BATCH = 900  # SQLite's limit on bound parameters is 999 in older builds
# meta keys: kept by publish, so an update reads them instead of counting every published row
_COUNT, _LENGTH = "published_count", "published_length"


def _passage(slot_row: tuple) -> Passage:
    cid, record = slot_row
    text, meta = json.loads(record)
    return Passage.from_record(cid, text, meta)


class PassageStore:
    """Passages by slot in one SQLite file; one connection per thread; the most recently read
    `cache_size` passages are kept in memory (a repeated question reads the same ones)."""

    def __init__(self, path: Path, *, cache_size: int = 10_000) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.cache_size = cache_size
        self._local = threading.local()
        self._cache: OrderedDict[int, Passage] = OrderedDict()
        self._cache_lock = threading.Lock()
        with self._db() as db:
            db.executescript(_SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    # -- state ---------------------------------------------------------------------------------

    def get_meta(self, key: str, default: str = "") -> str:
        row = self._db().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self._db().execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def clear(self) -> None:
        """Forget every passage (a new collection, or another analysis)."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'passages'").fetchone()
        db.execute("DROP TABLE passages")  # and its schema: a folder from an older format is rebuilt
        db.execute("DELETE FROM meta")
        db.execute("COMMIT")
        db.executescript(_SCHEMA)
        if seq:  # slots are never reused, not even after a reset (caches by slot stay right)
            db.execute("INSERT INTO sqlite_sequence(name, seq) VALUES ('passages', ?)", (seq[0],))
        with self._cache_lock:
            self._cache.clear()

    # -- writing -------------------------------------------------------------------------------

    def insert(self, records: Iterable[tuple[str, str, dict]], stems: list[list[str]]) -> list[int]:
        """Store (id, text, metadata) records with their stems, not yet visible to search; returns their slots."""
        rows = []
        for (cid, text, meta), analysed in zip(records, stems):
            meta = meta or {}
            kept = {k: v for k, v in meta.items() if k not in _NOT_KEPT}
            rows.append((cid, str(meta.get("doc_id", "")), int(meta.get("position") or 0),
                         int(meta.get("year") or 0), str(meta.get("publisher", "")), str(meta.get("doc_type", "")),
                         json.dumps([text or "", kept], ensure_ascii=False), stem_hashes(analysed),
                         max(1, len(analysed))))  # an empty passage counts as one token, as in bm25s
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        slots = [db.execute("INSERT INTO passages(chunk_id, doc_id, position, year, publisher, doc_type, record, "
                            "stems, length) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row).lastrowid for row in rows]
        db.execute("COMMIT")
        return slots

    def publish(self, added: list[int], removed: list[int], meta: dict[str, str]) -> None:
        """Make `added` visible, delete `removed` and record `meta`, in one transaction. The count
        and total length of the published passages move with them (no update counts every row)."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        count, length = self._published_sums(db)
        gained = self._sums(db, added, indexed=0)
        lost = self._sums(db, removed, indexed=1)
        for i in range(0, len(added), _BATCH):
            part = added[i:i + _BATCH]
            db.execute(f"UPDATE passages SET indexed = 1 WHERE slot IN ({','.join('?' * len(part))})", part)
        self._delete(db, removed)
        sums = {_COUNT: str(count + gained[0] - lost[0]), _LENGTH: str(length + gained[1] - lost[1])}
        for k, v in {**meta, **sums}.items():
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (k, v))
        db.execute("COMMIT")

    @staticmethod
    def _sums(db: sqlite3.Connection, slots: list[int], *, indexed: int) -> tuple[int, int]:
        """How many of these slots are stored with this `indexed` flag, and their total length."""
        count = length = 0
        for i in range(0, len(slots), _BATCH):
            part = slots[i:i + _BATCH]
            n, total = db.execute(f"SELECT COUNT(*), COALESCE(SUM(length), 0) FROM passages WHERE indexed = ? "
                                  f"AND slot IN ({','.join('?' * len(part))})", [indexed, *part]).fetchone()
            count, length = count + n, length + total
        return count, length

    @staticmethod
    def _published_sums(db: sqlite3.Connection) -> tuple[int, int]:
        rows = dict(db.execute("SELECT key, value FROM meta WHERE key IN (?, ?)", (_COUNT, _LENGTH)))
        return int(rows.get(_COUNT, 0)), int(rows.get(_LENGTH, 0))

    def drop(self, slots: list[int]) -> None:
        """Delete these rows (unpublished leftovers of an interrupted update)."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        self._delete(db, slots)
        db.execute("COMMIT")

    @staticmethod
    def _delete(db: sqlite3.Connection, slots: list[int]) -> None:
        for i in range(0, len(slots), _BATCH):
            part = slots[i:i + _BATCH]
            db.execute(f"DELETE FROM passages WHERE slot IN ({','.join('?' * len(part))})", part)

    # -- reading -------------------------------------------------------------------------------

    def unpublished(self) -> list[int]:
        """Slots written by an update that never published them."""
        return [r[0] for r in self._db().execute("SELECT slot FROM passages WHERE indexed = 0")]

    def published_count(self) -> int:
        """How many passages are published."""
        return self._published_sums(self._db())[0]

    def published_ids(self) -> dict[str, int]:
        """Chunk id → slot of every published passage (reads every row: an update asks `slots`
        about the ids it concerns instead, and lists them all only when something was deleted)."""
        return dict(self._db().execute("SELECT chunk_id, slot FROM passages WHERE indexed = 1"))

    def changed_at(self, slots: list[int]) -> dict[int, int]:
        """Slot → the `changed_at` stamp its record was written with (0 without)."""
        out: dict[int, int] = {}
        for i in range(0, len(slots), _BATCH):
            part = slots[i:i + _BATCH]
            out.update(self._db().execute(
                "SELECT slot, COALESCE(json_extract(record, '$[1].changed_at'), 0) FROM passages "
                f"WHERE slot IN ({','.join('?' * len(part))})", part))
        return out

    def columns(self, slots: list[int] | None = None, names: tuple[list[str], ...] = ((), (), ())
                ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[list[str]]]:
        """Of every published passage (or of these slots), by ascending slot: slots, years, and the
        numbers of their doc ids, publishers and document types in `names` (extended by new
        values; returned). Read in pages into arrays, so no Python object per passage stays."""
        query = "SELECT slot, year, doc_id, publisher, doc_type FROM passages WHERE indexed = 1"
        if slots is None:
            cursors = [self._db().execute(query + " ORDER BY slot")]
        else:
            ordered = sorted(int(x) for x in slots)
            cursors = [self._db().execute(query + f" AND slot IN ({','.join('?' * len(part))}) ORDER BY slot", part)
                       for part in (ordered[i:i + _BATCH] for i in range(0, len(ordered), _BATCH))]
        lists = [list(n) for n in names]
        number = [{v: i for i, v in enumerate(n)} for n in lists]
        slot_parts, year_parts, code_parts = [], [], [[], [], []]
        for cursor in cursors:
            while rows := cursor.fetchmany(50_000):
                slot_parts.append(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))
                year_parts.append(np.fromiter((r[1] for r in rows), dtype=np.int32, count=len(rows)))
                for k in range(3):
                    known, out = number[k], lists[k]
                    codes = np.empty(len(rows), dtype=np.int32)
                    for j, r in enumerate(rows):
                        code = known.get(r[2 + k])
                        if code is None:
                            code = known[r[2 + k]] = len(out)
                            out.append(r[2 + k])
                        codes[j] = code
                    code_parts[k].append(codes)

        def joined(parts, dtype):
            return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

        return (joined(slot_parts, np.int64), joined(year_parts, np.int32),
                [joined(p, np.int32) for p in code_parts], lists)

    def stems(self, slots: Iterable[int]) -> dict[int, tuple[bytes, int]]:
        """Slot → (the passage's stems as indexed, as `stem_hashes`; their count), for exact BM25."""
        wanted = [int(s) for s in slots]
        out: dict[int, tuple[bytes, int]] = {}
        for i in range(0, len(wanted), _BATCH):
            part = wanted[i:i + _BATCH]
            for slot, stems, length in self._db().execute(
                    f"SELECT slot, stems, length FROM passages WHERE slot IN ({','.join('?' * len(part))})", part):
                out[slot] = (stems, length)
        return out

    def total_length(self) -> int:
        """Stems in all published passages together (BM25's average length is this over their count)."""
        return self._published_sums(self._db())[1]

    def passages(self, slots: Iterable[int]) -> dict[int, Passage]:
        """Slot → Passage for those slots that are stored (a passage deleted since is left out)."""
        wanted = [int(s) for s in slots]
        out: dict[int, Passage] = {}
        missing: list[int] = []
        with self._cache_lock:
            for s in wanted:
                p = self._cache.get(s)
                if p is None:
                    missing.append(s)
                else:
                    self._cache.move_to_end(s)
                    out[s] = p
        if missing:
            found: dict[int, Passage] = {}
            for i in range(0, len(missing), _BATCH):
                part = missing[i:i + _BATCH]
                for slot, cid, record in self._db().execute(
                        f"SELECT slot, chunk_id, record FROM passages WHERE slot IN ({','.join('?' * len(part))})",
                        part):
                    found[slot] = _passage((cid, record))
            with self._cache_lock:
                for s, p in found.items():
                    self._cache[s] = p
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
            out.update(found)
        return out

    def slots(self, chunk_ids: Iterable[str]) -> dict[str, int]:
        """Chunk id → slot of the published passages among these ids."""
        ids = list(dict.fromkeys(chunk_ids))
        out: dict[str, int] = {}
        for i in range(0, len(ids), _BATCH):
            part = ids[i:i + _BATCH]
            out.update(self._db().execute(
                f"SELECT chunk_id, MAX(slot) FROM passages WHERE indexed = 1 AND chunk_id IN "
                f"({','.join('?' * len(part))}) GROUP BY chunk_id", part))
        return out

    def chunk_ids(self, slots: Iterable[int]) -> dict[int, str]:
        """Slot → chunk id for those slots that are stored."""
        wanted = [int(s) for s in slots]
        out: dict[int, str] = {}
        for i in range(0, len(wanted), _BATCH):
            part = wanted[i:i + _BATCH]
            out.update(self._db().execute(
                f"SELECT slot, chunk_id FROM passages WHERE slot IN ({','.join('?' * len(part))})", part))
        return out

    def around(self, doc_id: str, position: int, window: int) -> list[Passage]:
        """The published passages of a document from position − window to position + window, in order."""
        rows = self._db().execute(
            "SELECT chunk_id, record FROM passages WHERE indexed = 1 AND doc_id = ? AND position BETWEEN ? AND ? "
            "ORDER BY position, slot", (doc_id, position - window, position + window)).fetchall()
        return [_passage(r) for r in rows]

    def in_reading_order(self) -> Iterator[Passage]:
        """Every published passage, by document and position."""
        cursor = self._db().execute(
            "SELECT chunk_id, record FROM passages WHERE indexed = 1 ORDER BY doc_id, position, slot")
        for row in cursor:
            yield _passage(row)

    def first(self) -> Passage | None:
        """Any one published passage (None when there are none)."""
        row = self._db().execute("SELECT chunk_id, record FROM passages WHERE indexed = 1 LIMIT 1").fetchone()
        return _passage(row) if row else None

    def document_rows(self) -> list[tuple[str, int, int, str]]:
        """Per document: doc id, passage count, last page, and the record of its first passage."""
        return self._db().execute(
            "SELECT doc_id, COUNT(*), MAX(json_extract(record, '$[1].page')), "
            "(SELECT record FROM passages q WHERE q.doc_id = p.doc_id AND q.indexed = 1 ORDER BY position LIMIT 1) "
            "FROM passages p WHERE indexed = 1 GROUP BY doc_id").fetchall()
