"""SQLite bookkeeping for incremental ingestion.

`SQLiteRecordManager` is a LangChain `RecordManager` (which chunk ids are in the index, per
document), so `langchain_core.indexing.index` can skip unchanged chunks and clean up stale ones.
The same file keeps the fingerprint of every ingested file, written only after its chunks are
safely in the index, so a killed run redoes exactly the files it had not finished, and the
SHA-256 of its bytes, so the server can hand out exactly the file that was ingested
(`file_records`, read-only, in `retriever/records_view.py`; see `retriever/sources.py`).
"""
from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from langchain_core.indexing import RecordManager

# Read-only views live apart, without LangChain; re-exported for the modules that write.
from .records_view import RECORDS_FILE, FileRecord, file_records, namespace_for  # noqa: F401


class SQLiteRecordManager(RecordManager):
    """A RecordManager in one SQLite file (WAL, one transaction per call)."""

    def __init__(self, namespace: str, path: Path) -> None:
        super().__init__(namespace)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._lock = threading.Lock()
        self.create_schema()

    def create_schema(self) -> None:
        with self._lock:
            self._db.executescript(
                """
                CREATE TABLE IF NOT EXISTS records (
                    namespace TEXT, key TEXT, group_id TEXT, updated_at REAL,
                    PRIMARY KEY (namespace, key));
                CREATE INDEX IF NOT EXISTS records_group ON records(namespace, group_id, updated_at);
                CREATE TABLE IF NOT EXISTS files (
                    namespace TEXT, path TEXT, doc_id TEXT, fingerprint TEXT, pages INTEGER, chunks INTEGER,
                    PRIMARY KEY (namespace, path));
                CREATE TABLE IF NOT EXISTS meta (namespace TEXT, name TEXT, value TEXT, PRIMARY KEY (namespace, name));
                """
            )
            # Records made before file hashes were kept gain the column; ingestion fills it in.
            if "sha256" not in {row[1] for row in self._db.execute("PRAGMA table_info(files)")}:
                self._db.execute("ALTER TABLE files ADD COLUMN sha256 TEXT DEFAULT ''")

    async def acreate_schema(self) -> None:
        self.create_schema()

    def get_time(self) -> float:
        return time.time()

    async def aget_time(self) -> float:
        return self.get_time()

    def update(self, keys: Sequence[str], *, group_ids: Sequence[str | None] | None = None,
               time_at_least: float | None = None) -> None:
        now = self.get_time()
        if time_at_least and now < time_at_least:
            raise ValueError(f"clock went backwards: {now} < {time_at_least}")
        groups = list(group_ids) if group_ids is not None else [None] * len(keys)
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO records(namespace, key, group_id, updated_at) VALUES (?,?,?,?) "
                "ON CONFLICT(namespace, key) DO UPDATE SET group_id=excluded.group_id, updated_at=excluded.updated_at",
                [(self.namespace, k, g, now) for k, g in zip(keys, groups)],
            )
            self._db.execute("COMMIT")

    async def aupdate(self, keys, *, group_ids=None, time_at_least=None) -> None:
        self.update(keys, group_ids=group_ids, time_at_least=time_at_least)

    def exists(self, keys: Sequence[str]) -> list[bool]:
        if not keys:
            return []
        found: set[str] = set()
        with self._lock:
            for i in range(0, len(keys), 500):
                part = list(keys[i:i + 500])
                q = f"SELECT key FROM records WHERE namespace=? AND key IN ({','.join('?' * len(part))})"
                found.update(r[0] for r in self._db.execute(q, [self.namespace, *part]))
        return [k in found for k in keys]

    async def aexists(self, keys):
        return self.exists(keys)

    def list_keys(self, *, before: float | None = None, after: float | None = None,
                  group_ids: Sequence[str] | None = None, limit: int | None = None) -> list[str]:
        q = "SELECT key FROM records WHERE namespace=?"
        args: list = [self.namespace]
        if before is not None:
            q += " AND updated_at < ?"
            args.append(before)
        if after is not None:
            q += " AND updated_at > ?"
            args.append(after)
        if group_ids is not None:
            q += f" AND group_id IN ({','.join('?' * len(group_ids))})"
            args.extend(group_ids)
        if limit:
            q += " LIMIT ?"
            args.append(limit)
        with self._lock:
            return [r[0] for r in self._db.execute(q, args)]

    async def alist_keys(self, *, before=None, after=None, group_ids=None, limit=None):
        return self.list_keys(before=before, after=after, group_ids=group_ids, limit=limit)

    def delete_keys(self, keys: Sequence[str]) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("DELETE FROM records WHERE namespace=? AND key=?", [(self.namespace, k) for k in keys])
            self._db.execute("COMMIT")

    async def adelete_keys(self, keys) -> None:
        self.delete_keys(keys)

    # -- file fingerprints and index identity -------------------------------------------------

    def file_state(self, path: str) -> tuple[str, str, int, int] | None:
        """(doc_id, fingerprint, pages, chunks) recorded for a file, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT doc_id, fingerprint, pages, chunks FROM files WHERE namespace=? AND path=?",
                (self.namespace, path)).fetchone()
        return tuple(row) if row else None  # type: ignore[return-value]

    def file_sha256(self, path: str) -> str:
        """The SHA-256 recorded for a file's bytes ('' when none was recorded)."""
        with self._lock:
            row = self._db.execute("SELECT sha256 FROM files WHERE namespace=? AND path=?",
                                   (self.namespace, path)).fetchone()
        return (row[0] or "") if row else ""

    def set_file_state(self, path: str, doc_id: str, fingerprint: str, pages: int, chunks: int,
                       sha256: str = "") -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO files(namespace, path, doc_id, fingerprint, pages, chunks, sha256) "
                "VALUES (?,?,?,?,?,?,?)",
                (self.namespace, path, doc_id, fingerprint, pages, chunks, sha256))

    def forget_file(self, path: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM files WHERE namespace=? AND path=?", (self.namespace, path))

    def files(self) -> dict[str, str]:
        """Every recorded file path with its document id."""
        with self._lock:
            return dict(self._db.execute("SELECT path, doc_id FROM files WHERE namespace=?", (self.namespace,)))

    def get_meta(self, name: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE namespace=? AND name=?", (self.namespace, name)).fetchone()
        return row[0] if row else None

    def set_meta(self, name: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?,?,?)", (self.namespace, name, value))

    def delete_meta(self, name: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM meta WHERE namespace=? AND name=?", (self.namespace, name))

    def reset(self) -> None:
        """Forget everything (the collection it described is gone)."""
        with self._lock:
            for table in ("records", "files", "meta"):
                self._db.execute(f"DELETE FROM {table} WHERE namespace=?", (self.namespace,))

    def close(self) -> None:
        self._db.close()
