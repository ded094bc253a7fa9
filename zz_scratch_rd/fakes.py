"""A deterministic fake embedder for fast unit tests (retrieval-quality tests use the real model)."""
from __future__ import annotations

import hashlib

import numpy as np

from retriever.embedder import Embedder


class HashEmbedder(Embedder):
    """Bag of hashed words → a unit vector; counts how many texts it embedded."""

    max_tokens = 512

    def __init__(self, name: str = "test:hash-embedder", dim: int = 64) -> None:
        self.name = name
        self.dim = dim
        self.embedded = 0

    def _vec(self, text: str) -> list[float]:
        v = np.zeros(self.dim, dtype=np.float32)
        for w in text.lower().split():
            v[int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dim] += 1.0
        n = float(np.linalg.norm(v)) or 1.0
        return (v / n).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return [self._vec(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2
