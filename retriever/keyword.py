"""Keyword search: BM25 (Tantivy) over the folded text, stemmed with the Snowball Dutch stemmer.

The index lives on disk (retriever/keyword_store.py) and is kept in step with the Chroma
collection (the single source of truth) passage by passage. A `KeywordIndex` is one committed
state of it: searches on it see neither half an update nor a later one.

    >>> keyword = store.snapshot()
    >>> keyword.top([(["meldcode"], 1.0), (["veilig", "thuis"], 0.5)], 100)   # slot → BM25 score
"""
from __future__ import annotations

import difflib
import hashlib
import math
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
import Stemmer
import tantivy
from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN

from .steps import StepClock

# Question words and fillers carry no topic: they must neither score nor count as "unknown".
_STOP = set(STOPWORDS_DUTCH) | set(STOPWORDS_EN) | {
    "eigenlijk", "nou", "toch", "precies", "soms", "wel", "hoeveel", "welk", "welke", "waarom", "wanneer", "waar",
    "hoe", "wie", "wat", "ongeveer", "zo'n", "ofzo", "enzo", "many", "much", "roughly", "exactly", "actually"}


# Part of the persisted index's identity: change the analysis, and saved indexes are rebuilt.
ANALYSIS_VERSION = f"{len(_STOP)}-snowball-dutch-1"

STEMS_FIELD = "stems"
SLOT_FIELD = "slot"
EMPTY_STEM = "∅"  # a passage without stems still counts in N, as it did in bm25s
_K1, _B = 1.2, 0.75  # BM25's parameters, Tantivy's defaults and ours

_local = threading.local()


@lru_cache(maxsize=200_000)
def stem_hash(stem: str) -> int:
    """A stable 64-bit number for a stem: what the passage store keeps of each passage's stems."""
    return int.from_bytes(hashlib.blake2b(stem.encode(), digest_size=8).digest(), "little")


def stem_hashes(stems: Sequence[str]) -> bytes:
    """A passage's stems as stored for exact BM25 (KeywordIndex._exact): uint64 hashes, in order."""
    return np.array([stem_hash(s) for s in stems], dtype=np.uint64).tobytes()


def _thread_stemmer() -> Stemmer.Stemmer:
    """One stemmer per thread: building one per call is slow, and a stemmer's cache is not thread-safe."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("dutch")
    return stemmer


class KeywordIndex:
    """One committed state of the keyword index: BM25 top-n by slot, and the term statistics the
    question analysis needs (document frequencies, the vocabulary for typos and compounds)."""

    def __init__(self, searcher: tantivy.Searcher | None, schema: tantivy.Schema | None,
                 vocabulary: frozenset[str] = frozenset(), *,
                 stems_of: Callable[[list[int]], dict[int, tuple[bytes, int]]] | None = None, average_length: float = 1.0) -> None:
        self._searcher = searcher
        self._schema = schema
        self._vocab = vocabulary
        self._stems_of = stems_of
        self._avgdl = max(average_length, 1e-9)
        self.size = searcher.num_docs if searcher is not None else 0

    @property
    def vocabulary(self) -> frozenset[str]:
        """The indexed stems (for a later snapshot to extend rather than read again)."""
        return self._vocab

    @staticmethod
    def analyse(tokens: Sequence[str], stemmer: Stemmer.Stemmer | None = None) -> list[str]:
        """Stopwords out, Dutch stems in."""
        stemmer = stemmer or _thread_stemmer()
        return stemmer.stemWords([t for t in tokens if t not in _STOP and len(t) > 1])

    def stems(self, tokens: Sequence[str]) -> list[str]:
        """Query stems that occur in the index."""
        return [s for s in self.analyse(tokens) if s in self._vocab]

    def top(self, token_groups: Sequence[tuple[Sequence[str], float]], n: int,
            allowed: np.ndarray | None = None, clock: StepClock | None = None) -> dict[int, float]:
        """Slot → Σ weight × BM25 score of the best n passages, over groups of query tokens (the
        question, its expansion); with `allowed` (a boolean array by slot) only those passages.
        `clock` times the Tantivy search, the stems read and the rescoring (benchmarks/scale.py).

        A repeated stem counts again (its weights add up), as it did in bm25s. Tantivy finds the
        best 1.5n + 10; they are scored again with their exact lengths (`stems_of`): Tantivy keeps a
        passage's length in one byte, and that rounding cost 0.02 r@5 on the check fold."""
        if self._searcher is None or n <= 0:
            return {}
        weights: Counter[str] = Counter()
        for tokens, w in token_groups:
            for stem in self.stems(tokens):
                weights[stem] += w
        if not weights:
            return {}
        query = tantivy.Query.boolean_query([
            (tantivy.Occur.Should, tantivy.Query.boost_query(
                tantivy.Query.term_query(self._schema, STEMS_FIELD, stem), float(w)))
            for stem, w in weights.items()])
        limit = min(self.size, n + n // 2 + 10) if self._stems_of is not None else n
        if allowed is not None:
            share = max(1, int(allowed.sum())) / max(1, self.size)
            limit = min(self.size, int(n / min(1.0, share) * 1.5 + 10))  # oversample, as the dense side does
        clock = clock or StepClock()
        with clock("tantivy search"):
            hits = self._searcher.search(query, limit=limit, count=False).hits
            slots = self._searcher.fast_field_values(SLOT_FIELD, [addr for _score, addr in hits]) if hits else []
        if not hits:
            return {}
        out: dict[int, float] = {}
        for (score, _addr), slot in zip(hits, slots):
            if slot is None or (allowed is not None and (slot >= len(allowed) or not allowed[slot])):
                continue
            out[int(slot)] = float(score)
        if self._stems_of is not None:
            out = self._exact(out, weights, clock)
        if len(out) > n:
            out = dict(sorted(out.items(), key=lambda kv: -kv[1])[:n])
        return out

    def _exact(self, found: dict[int, float], weights: Counter[str], clock: StepClock) -> dict[int, float]:
        """BM25 (k1 1.2, b 0.75, Lucene's idf, as bm25s) of these passages from their stems, all
        passages at once in numpy (a Python loop per passage and stem took 10 ms at 160 passages)."""
        with clock("stems read"):
            rows = self._stems_of(list(found))
        slots = [slot for slot in found if slot in rows]  # a passage deleted since: left out
        if not slots:
            return {}
        query = np.array([stem_hash(s) for s in weights], dtype=np.uint64)
        order = np.argsort(query)
        query = query[order]
        idf = np.array([self._idf_of(s) * w for s, w in weights.items()], dtype=np.float64)[order]
        arrays = [np.frombuffer(rows[slot][0], dtype=np.uint64) for slot in slots]
        lengths = np.array([rows[slot][1] for slot in slots], dtype=np.float64)
        stems = np.concatenate(arrays)
        owner = np.repeat(np.arange(len(slots)), [len(a) for a in arrays])
        where = np.minimum(np.searchsorted(query, stems), len(query) - 1)
        match = query[where] == stems
        tf = np.bincount(owner[match] * len(query) + where[match], minlength=len(slots) * len(query))
        tf = tf.reshape(len(slots), len(query)).astype(np.float64)
        norm = _K1 * (1 - _B + _B * lengths / self._avgdl)
        scores = (tf / (tf + norm[:, None])) @ idf
        return {slot: float(x) for slot, x in zip(slots, scores)}

    def known(self, stem: str) -> bool:
        """True when the stem, or a spelling one or two edits away, is in the index (typos)."""
        if stem in self._vocab:
            return True
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
        return float(math.log(1 + (self.size + 0.5) / 0.5)) if self.size else 0.0

    def idf(self, tokens: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of each query stem (0 when absent from the index)."""
        out: dict[str, float] = {}
        if self._searcher is None:
            return out
        for s in self.analyse(tokens):
            if s not in self._vocab:
                out[s] = 0.0
                continue
            out[s] = self._idf_of(s)
        return out

    def _idf_of(self, stem: str) -> float:
        # deleted passages still count until their segment is merged: never more than N
        df = float(min(self.size, self._searcher.doc_freq(STEMS_FIELD, stem)))
        return float(math.log(1 + (self.size - df + 0.5) / (df + 0.5)))
