"""Optional cross-encoder reranking of the fused candidates (`RODEDRAAD_RERANKER_MODEL`).

Any sentence-transformers CrossEncoder name or local path, e.g. a multilingual MS MARCO model.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

from .errors import ConfigurationError


class CrossEncoderReranker:
    """Scores (question, passage) pairs with a cross-encoder and reorders the candidates."""

    def __init__(self, name_or_path: str) -> None:
        if Path(name_or_path).exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import CrossEncoder

        try:
            self._model = CrossEncoder(name_or_path, device="cpu")
        except Exception as e:  # hub and file errors come in many types
            raise ConfigurationError(f"reranker model {name_or_path!r} could not be loaded ({e}); "
                                     "unset RODEDRAAD_RERANKER_MODEL or give a local path") from e
        self._lock = threading.Lock()

    def rerank(self, query: str, positions: list[int], table) -> list[int]:
        """The same positions, best first by the cross-encoder."""
        if not positions:
            return positions
        pairs = [(query, p.text if p is not None else "") for p in table.passages_at(positions)]
        with self._lock:
            scores = self._model.predict(pairs, show_progress_bar=False)
        return [p for _s, p in sorted(zip(scores, positions), key=lambda x: -float(x[0]))]
