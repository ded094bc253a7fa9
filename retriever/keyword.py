"""Keyword search: BM25 (bm25s) over the folded text, stemmed with the Snowball Dutch stemmer.

The index is derived from the Chroma collection (the single source of truth), persisted next to
it and rebuilt when the collection's generation changes.
"""
from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Sequence

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN

logging.getLogger("bm25s").setLevel(logging.ERROR)

# Question words and fillers carry no topic: they must neither score nor count as "unknown".
_STOP = set(STOPWORDS_DUTCH) | set(STOPWORDS_EN) | {
    "eigenlijk", "nou", "toch", "precies", "soms", "wel", "hoeveel", "welk", "welke", "waarom", "wanneer", "waar",
    "hoe", "wie", "wat", "ongeveer", "zo'n", "ofzo", "enzo", "many", "much", "roughly", "exactly", "actually"}


# Part of the persisted index's identity: change the analysis, and saved indexes are rebuilt.
ANALYSIS_VERSION = f"{len(_STOP)}-snowball-dutch-1"


_local = threading.local()


def _thread_stemmer() -> Stemmer.Stemmer:
    """One stemmer per thread: building one per call is slow, and a stemmer's cache is not thread-safe."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("dutch")
    return stemmer


class KeywordIndex:
    """BM25 over token lists; `scores` returns one score per indexed passage."""

    def __init__(self, bm25: bm25s.BM25 | None, size: int) -> None:
        self._bm25 = bm25
        self.size = size
        self._stemmer = Stemmer.Stemmer("dutch")
        self._vocab = bm25.vocab_dict if bm25 is not None else {}

    @staticmethod
    def analyse(tokens: Sequence[str], stemmer: Stemmer.Stemmer | None = None) -> list[str]:
        """Stopwords out, Dutch stems in."""
        stemmer = stemmer or _thread_stemmer()
        return stemmer.stemWords([t for t in tokens if t not in _STOP and len(t) > 1])

    @classmethod
    def build(cls, token_lists: list[list[str]]) -> "KeywordIndex":
        """Index already-normalised token lists (one per passage)."""
        stemmer = Stemmer.Stemmer("dutch")
        corpus = [cls.analyse(t, stemmer) or ["∅"] for t in token_lists]
        if not corpus:
            return cls(None, 0)
        bm25 = bm25s.BM25(k1=1.2, b=0.75)
        bm25.index(corpus, show_progress=False)
        return cls(bm25, len(corpus))

    def save(self, path) -> None:
        if self._bm25 is not None:
            self._bm25.save(str(path), show_progress=False)

    @classmethod
    def load(cls, path, size: int) -> "KeywordIndex":
        if size == 0:
            return cls(None, 0)
        bm25 = bm25s.BM25.load(str(path), show_progress=False)
        return cls(bm25, size)

    def stems(self, tokens: Sequence[str]) -> list[str]:
        """Query stems that occur in the index."""
        return [s for s in self.analyse(tokens, self._stemmer) if s in self._vocab]

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every passage for these (normalised) query tokens."""
        return self.weighted_scores([(tokens, 1.0)])

    def weighted_scores(self, token_groups: Sequence[tuple[Sequence[str], float]]) -> np.ndarray:
        """Σ weight × BM25 score over groups of query tokens (the question, its expansion), in one pass.

        Reads the posting lists of bm25s's precomputed score matrix directly: one array for all
        groups instead of one full-size array per `get_scores` call (it matters at 100k passages)."""
        out = np.zeros(self.size, dtype=np.float32)
        if self._bm25 is None:
            return out
        weights: Counter[int] = Counter()
        for tokens, w in token_groups:
            for stem in self.stems(tokens):  # a repeated stem counts again, as in bm25s
                weights[self._vocab[stem]] += w
        data, indices, indptr = (self._bm25.scores[k] for k in ("data", "indices", "indptr"))
        for tid, w in weights.items():
            start, end = indptr[tid], indptr[tid + 1]
            out[indices[start:end]] += w * data[start:end]  # a posting list names each passage once
        return out

    def known(self, stem: str) -> bool:
        """True when the stem, or a spelling one or two edits away, is in the index (typos)."""
        if stem in self._vocab:
            return True
        import difflib

        if len(stem) < 4:
            return False
        if not hasattr(self, "_by_prefix"):
            self._by_prefix: dict[str, list[str]] = {}
            for w in self._vocab:
                self._by_prefix.setdefault(w[:2], []).append(w)
        pool = self._by_prefix.get(stem[:2], []) + self._by_prefix.get(stem[:1] + stem[2:3], [])
        return bool(difflib.get_close_matches(stem, pool, n=1, cutoff=0.8))

    def compound_part(self, stem: str) -> bool:
        """True when a compound's head or tail (5+ letters) is an indexed stem (buurgemeente → gemeent)."""
        return any(stem[:i] in self._vocab or stem[-i:] in self._vocab for i in range(5, len(stem) - 2))

    @property
    def max_idf(self) -> float:
        return float(np.log(1 + (self.size + 0.5) / 0.5)) if self.size else 0.0

    def idf(self, tokens: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of each query stem (0 when absent from the index)."""
        out: dict[str, float] = {}
        if self._bm25 is None:
            return out
        for s in self.analyse(tokens, self._stemmer):
            tid = self._vocab.get(s)
            if tid is None:
                out[s] = 0.0
                continue
            df = float(self._bm25.scores["indptr"][tid + 1] - self._bm25.scores["indptr"][tid]) \
                if "indptr" in self._bm25.scores else 1.0
            out[s] = float(np.log(1 + (self.size - df + 0.5) / (df + 0.5)))
        return out
