"""Fusion of ranked lists (weighted reciprocal rank fusion) and near-duplicate removal."""
from __future__ import annotations

import re
from functools import lru_cache
from collections.abc import Mapping, Sequence


def reciprocal_rank_fusion(rankings: Mapping[str, Sequence[int]], weights: Mapping[str, float],
                           k0: float = 60.0) -> dict[int, float]:
    """score(item) = Σ_r weight_r / (k0 + rank_r(item)), ranks starting at 1."""
    fused: dict[int, float] = {}
    for name, ranking in rankings.items():
        w = weights.get(name, 1.0)
        for rank, item in enumerate(ranking, 1):
            fused[item] = fused.get(item, 0.0) + w / (k0 + rank)
    return fused


@lru_cache(maxsize=20_000)
def shingles(text: str, n: int = 5) -> frozenset[tuple[str, ...]]:
    """The 5-word shingles of a passage (cached: the same passages come back question after question)."""
    words = re.findall(r"\w+", text.lower())
    return frozenset(tuple(words[i:i + n]) for i in range(max(1, len(words) - n + 1)))


def is_near_duplicate_shingles(sa: frozenset, sb: frozenset, threshold: float = 0.8) -> bool:
    """True when two shingle sets overlap mostly (Jaccard ≥ threshold)."""
    if not sa or not sb:
        return False
    small, large = (sa, sb) if len(sa) <= len(sb) else (sb, sa)
    if len(small) < threshold * len(large):  # Jaccard ≤ |small| / |large|
        return False
    inter = len(small & large)
    return inter / (len(sa) + len(sb) - inter) >= threshold

