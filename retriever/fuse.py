"""Fusion of ranked lists (weighted reciprocal rank fusion) and near-duplicate removal."""
from __future__ import annotations

import re
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


def _shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i:i + n]) for i in range(max(1, len(words) - n + 1))}


def is_near_duplicate(a: str, b: str, threshold: float = 0.8) -> bool:
    """True when two passages share most of their 5-word shingles (Jaccard ≥ threshold)."""
    sa, sb = _shingles(a), _shingles(b)
    if not sa or not sb:
        return False
    return len(sa & sb) / len(sa | sb) >= threshold
