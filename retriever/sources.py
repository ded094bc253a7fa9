"""The original files behind the index: found by document id in the ingest records, and handed out
only while their bytes are the ones that were ingested.

    >>> sources = SourceFiles(data_dir=Path(".rodedraad"), collection="rodedraad")
    >>> data = sources.read("nivel-eshpm-2019-sectorbreed-leren-van-calamiteiten")  # bytes, checked
    >>> data.media_type
    'application/pdf'

A request never names a path: the id is looked up exactly, and the path comes from the records.
"""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import DocumentNotFound, SourceFileChanged, SourceFileGone
from .records_view import RECORDS_FILE, FileRecord, file_records, namespace_for

MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".markdown": "text/markdown; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
}
PAGED_SUFFIXES = {".pdf"}


@dataclass(frozen=True)
class SourceFile:
    """An ingested file that is still on disk with the bytes it had when it was ingested."""

    doc_id: str
    path: Path
    sha256: str

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES.get(self.path.suffix.lower(), "application/octet-stream")

    @property
    def has_pages(self) -> bool:
        return self.path.suffix.lower() in PAGED_SUFFIXES


@dataclass(frozen=True)
class SourceBytes:
    """A source file's checked bytes (what is served is exactly what was hashed)."""

    source: SourceFile
    data: bytes

    @property
    def media_type(self) -> str:
        return self.source.media_type


class SourceFiles:
    """Ingested files by document id, from the records in data_dir (read again as soon as the records
    change, so an ingestion in another process is seen at once)."""

    def __init__(self, *, data_dir: Path, collection: str) -> None:
        self.data_dir = data_dir
        self.namespace = namespace_for(collection)
        # path → ((size, mtime_ns), sha256 found then): `check` re-hashes only a file whose stat changed.
        self._checked: dict[str, tuple[tuple[int, int], str]] = {}
        self._records_seen: tuple[tuple, dict[str, FileRecord]] | None = None
        self._lock = threading.Lock()

    def record(self, doc_id: str) -> FileRecord:
        """The record of a document's file, or DocumentNotFound."""
        found = self._records().get(doc_id)
        if found is None:
            raise DocumentNotFound(f"no ingested file for document id {doc_id!r}")
        return found

    def _records(self) -> dict[str, FileRecord]:
        """The records, read again whenever the database or its write-ahead log changed."""
        db = self.data_dir / RECORDS_FILE
        stamp = (_stamp(db), _stamp(db.with_name(db.name + "-wal")))
        with self._lock:
            if self._records_seen is not None and self._records_seen[0] == stamp:
                return self._records_seen[1]
        found = file_records(self.data_dir, self.namespace)
        with self._lock:
            self._records_seen = (stamp, found)
        return found

    def read(self, doc_id: str) -> SourceBytes:
        """The file's bytes, hashed as read: SourceFileGone or SourceFileChanged when they are not
        the ingested ones."""
        rec, path = self._located(doc_id)
        with _gone_when_unreadable(rec):
            data = path.read_bytes()
        self._compare(rec, hashlib.sha256(data).hexdigest())
        return SourceBytes(SourceFile(doc_id, path, rec.sha256), data)

    def check(self, doc_id: str) -> SourceFile:
        """The file, when it still has the ingested bytes; hashed again only when its size or
        modification time changed since the last check."""
        rec, path = self._located(doc_id)
        with _gone_when_unreadable(rec):
            st = path.stat()
            stamp = (st.st_size, st.st_mtime_ns)
            with self._lock:
                seen = self._checked.get(rec.path)
            if seen is None or seen[0] != stamp:
                seen = (stamp, _sha256_of(path))
                with self._lock:
                    self._checked[rec.path] = seen
        self._compare(rec, seen[1])
        return SourceFile(doc_id, path, rec.sha256)

    def _located(self, doc_id: str) -> tuple[FileRecord, Path]:
        rec = self.record(doc_id)
        path = Path(rec.path)
        # Ingestion records resolved paths: a symbolic link put in its place is another file.
        if not path.is_file() or path.is_symlink():
            raise _gone(rec)
        return rec, path

    @staticmethod
    def _compare(rec: FileRecord, sha256: str) -> None:
        if not rec.sha256:
            raise SourceFileChanged(f"document {rec.doc_id!r} was ingested before file hashes were recorded; "
                                    "run `rodedraad ingest` again (unchanged files are only hashed, not parsed)")
        if sha256 != rec.sha256:
            raise SourceFileChanged(f"the file of document {rec.doc_id!r} ({rec.path}) has changed since it was "
                                    "ingested; run `rodedraad ingest` again before it is shown")


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _gone(rec: FileRecord) -> SourceFileGone:
    return SourceFileGone(f"the file of document {rec.doc_id!r} is no longer at {rec.path}; "
                          "put it back, or run `rodedraad ingest --prune` to update the index")


@contextmanager
def _gone_when_unreadable(rec: FileRecord) -> Iterator[None]:
    """A file that vanishes or cannot be read between the checks is gone, not a server error."""
    try:
        yield
    except OSError as e:
        raise _gone(rec) from e


def _sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
