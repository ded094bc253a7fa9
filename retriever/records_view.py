"""The ingest records read-only, without LangChain: what the server hands out (`file_records`)
and what an unchanged re-ingest is decided from (`recorded_ingest`).

`retriever.records` writes the same SQLite file through LangChain's `RecordManager`; importing
LangChain costs ~0.7 s, which a reader must not pay.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

RECORDS_FILE = "records.sqlite3"


def namespace_for(collection: str) -> str:
    """The records' namespace of a Chroma collection."""
    return f"chroma/{collection}"


@dataclass(frozen=True)
class FileRecord:
    """One ingested file as the records keep it: where it was, and the SHA-256 of its bytes then
    (empty for files recorded before hashes were kept; a re-ingest fills it in)."""

    doc_id: str
    path: str
    sha256: str


@dataclass(frozen=True)
class FileState:
    """What ingestion recorded for a file once its chunks were in the index."""

    doc_id: str
    fingerprint: str
    pages: int
    chunks: int
    sha256: str


@dataclass(frozen=True)
class RecordedIngest:
    """The records of one collection: the collection they describe and every file by path."""

    collection_id: str
    files: dict[str, FileState]


def _open_read_only(data_dir: Path) -> sqlite3.Connection | None:
    db_path = data_dir / RECORDS_FILE
    if not db_path.is_file():
        return None
    return sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)


def file_records(data_dir: Path, namespace: str) -> dict[str, FileRecord]:
    """Every recorded file by document id, read-only (the server reads; only ingestion writes).
    Empty when nothing was ever ingested in data_dir."""
    db = _open_read_only(data_dir)
    if db is None:
        return {}
    try:
        columns = {row[1] for row in db.execute("PRAGMA table_info(files)")}
        if not columns:
            return {}
        sha = "sha256" if "sha256" in columns else "''"
        rows = db.execute(f"SELECT doc_id, path, {sha} FROM files WHERE namespace=?", (namespace,)).fetchall()
    finally:
        db.close()
    return {doc_id: FileRecord(doc_id, path, sha or "") for doc_id, path, sha in rows}


def recorded_ingest(data_dir: Path, namespace: str) -> RecordedIngest | None:
    """The records of a namespace, or None when there are none or they are not in today's shape
    (no collection id, no file hashes): then only a writing run can bring them up to date."""
    try:
        db = _open_read_only(data_dir)
        if db is None:
            return None
        try:
            if "sha256" not in {row[1] for row in db.execute("PRAGMA table_info(files)")}:
                return None
            row = db.execute("SELECT value FROM meta WHERE namespace=? AND name='collection_id'",
                             (namespace,)).fetchone()
            rows = db.execute("SELECT path, doc_id, fingerprint, pages, chunks, sha256 FROM files WHERE namespace=?",
                              (namespace,)).fetchall()
        finally:
            db.close()
    except sqlite3.Error:  # locked, damaged or half-made: the writing run opens (or refuses) it properly
        return None
    if not row or not row[0]:
        return None
    return RecordedIngest(row[0], {path: FileState(doc_id, fp or "", pages or 0, chunks or 0, sha or "")
                                   for path, doc_id, fp, pages, chunks, sha in rows})
