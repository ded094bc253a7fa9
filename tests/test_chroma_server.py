"""Chroma server mode, end to end with real processes: `chroma run` (started here), `rodedraad ingest`
in one process, `rodedraad serve --workers 2` in another, HTTP in between.

Proves: what one process ingests another answers from (with citations); a second ingest of a new file
by yet another process shows up in the running server's search without a restart (the searchers
re-check the collection's generation every ~2 s); both workers' metrics add up on /metrics
(PROMETHEUS_MULTIPROC_DIR); API keys hold on the real server; SIGTERM stops it cleanly.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .conftest import CORPUS, free_port, require

pytestmark = pytest.mark.chroma_server

BIN = Path(sys.executable).parent
KEY = "chroma-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
NEW_WORD = "zwaluwstaartoverleg"  # a word no report uses
NEW_REPORT = (f"Het {NEW_WORD} in de regio\n\nIn 2024 werd het {NEW_WORD} opgericht om de regie over de hulp aan "
              "gezinnen te verbeteren. De inspectie onderzocht of het overleg calamiteiten voorkomt.\n\n"
              f"Conclusie\n\nHet {NEW_WORD} werkte alleen waar de gemeente het voorzitterschap nam.")


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args[:2]} exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} not up after {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")


def _stop(proc: subprocess.Popen, timeout: float = 20) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
            raise
    return proc.returncode


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    """A `chroma run` server on a free loopback port, stopped with SIGTERM at the end."""
    if os.environ.get("RODEDRAAD_TEST_CHROMA_URL"):
        yield os.environ["RODEDRAAD_TEST_CHROMA_URL"]
        return
    chroma = BIN / "chroma"
    require(chroma.exists(), "the chroma CLI is not installed beside this Python")
    root = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = root / "chroma.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(chroma), "run", "--path", str(root / "data"), "--host", "127.0.0.1",
                                 "--port", str(port)], stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "RUST_LOG": "warn"})
    try:
        _wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, log, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        assert _stop(proc) in (0, -signal.SIGTERM)


def _env(chroma_url: str, data_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RODEDRAAD_", "PROMETHEUS_"))}
    return {**env, "RODEDRAAD_CHROMA_URL": chroma_url, "RODEDRAAD_DATA_DIR": str(data_dir),
            "RODEDRAAD_COLLECTION": "servertest", "ANONYMIZED_TELEMETRY": "False", **extra}


def _ingest(paths: list[Path], env: dict, cwd: Path) -> dict:
    p = subprocess.run([str(BIN / "rodedraad"), "ingest", *map(str, paths), "--json"], env=env, cwd=cwd,
                       capture_output=True, text=True, timeout=1200)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout)


@pytest.fixture(scope="module")
def ingested(chroma_url, tmp_path_factory):
    """The shipped corpus, ingested into the server by its own process (own data dir)."""
    work = tmp_path_factory.mktemp("ingest-host")
    env = _env(chroma_url, work / "data")
    summary = _ingest([CORPUS], env, work)
    assert summary["added"] == 2 and summary["chunks_added"] > 100
    return {"summary": summary, "env": env, "cwd": work}


@pytest.fixture(scope="module")
def server(chroma_url, ingested, tmp_path_factory):
    """`rodedraad serve --workers 2` on a free port, with its own data dir and metrics folder."""
    work = tmp_path_factory.mktemp("serve-host")
    port = free_port()
    metrics_dir = work / "prometheus"
    metrics_dir.mkdir()
    env = _env(chroma_url, work / "data", RODEDRAAD_API_KEYS=KEY, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
               RODEDRAAD_RATE_LIMIT_PER_MINUTE="0")
    log = work / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(BIN / "rodedraad"), "serve", "--workers", "2", "--port", str(port)],
                                env=env, cwd=work, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{url}/health", proc, log, timeout=300)
        # both workers: wait until the log says each one started
        deadline = time.monotonic() + 300
        while log.read_text(errors="replace").count("Application startup complete") < 2:
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.2)
        yield {"url": url, "proc": proc, "log": log}
    finally:
        _stop(proc, timeout=30)


def test_a_server_process_answers_from_what_another_process_ingested(server, ingested):
    with httpx.Client(base_url=server["url"], timeout=60) as c:
        health = c.get("/health").json()
        assert health["passages"] == ingested["summary"]["chunks_added"] and health["documents"] == 2
        r = c.post("/api/chat", json={"question": "wat ging er mis bij opschalen?"}, headers=AUTH)
        assert r.status_code == 200, r.text
        body = r.json()
        assert not body["abstained"] and body["citations"]
        assert all(cite["page_label"] and cite["doc_id"] for cite in body["citations"])
        r = c.post("/api/search", json={"query": "sectorbreed leren van calamiteiten", "k": 5}, headers=AUTH)
        assert r.status_code == 200 and len(r.json()["results"]) == 5
        passage = r.json()["results"][0]["chunk_id"]
        assert c.get(f"/api/passages/{passage}", headers=AUTH).json()["passage"]["chunk_id"] == passage


def test_api_keys_hold_on_the_real_server(server):
    with httpx.Client(base_url=server["url"], timeout=60) as c:
        r = c.post("/api/search", json={"query": "regie"})
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        assert c.get("/health").status_code == 200


def test_metrics_of_both_workers_add_up(server):
    """With PROMETHEUS_MULTIPROC_DIR every scrape shows every worker's counts, whichever worker answers."""

    def served(text: str) -> float:
        from prometheus_client.parser import text_string_to_metric_families

        return sum(s.value for fam in text_string_to_metric_families(text) for s in fam.samples
                   if s.name == "http_requests_total" and s.labels.get("handler") == "/api/documents")

    with httpx.Client(base_url=server["url"], timeout=60) as c:
        before = served(c.get("/metrics").text)
        n = 24
        for _ in range(n):
            # new connections, so the kernel spreads them over both workers
            assert httpx.get(f"{server['url']}/api/documents", headers=AUTH, timeout=60).status_code == 200
        scrapes = [served(httpx.get(f"{server['url']}/metrics", timeout=60).text) for _ in range(6)]
        assert all(s == before + n for s in scrapes), (before, scrapes)
        assert "rodedraad_questions_total" in c.get("/metrics").text


def test_a_second_ingest_by_another_process_shows_up_without_a_restart(server, ingested, tmp_path_factory):
    extra = tmp_path_factory.mktemp("extra-report")
    (extra / "zwaluwstaart-2024.txt").write_text(NEW_REPORT, encoding="utf-8")
    with httpx.Client(base_url=server["url"], timeout=60) as c:
        before = c.post("/api/search", json={"query": NEW_WORD, "k": 3}, headers=AUTH).json()["results"]
        assert not any(NEW_WORD in r["text"] for r in before)
        summary = _ingest([extra], ingested["env"], ingested["cwd"])
        assert summary["added"] == 1 and summary["chunks_added"] >= 1
        deadline = time.monotonic() + 60
        streak = 0  # both workers must have refreshed: ask until several answers in a row find it
        results: list = []
        while streak < 8:
            assert time.monotonic() < deadline, \
                f"the new report never appeared in the server's search: {[(r['doc_id'], r['text'][:60]) for r in results]}"
            results = httpx.post(f"{server['url']}/api/search", json={"query": NEW_WORD, "k": 10}, headers=AUTH,
                                 timeout=60).json()["results"]
            found = any(r["doc_id"] == "zwaluwstaart-2024" and NEW_WORD in r["text"] for r in results)
            streak = streak + 1 if found else 0
            time.sleep(0.1 if found else 0.5)
        health = c.get("/health").json()
        assert health["documents"] == 3
        assert health["passages"] == ingested["summary"]["chunks_added"] + summary["chunks_added"]


def test_sigterm_stops_the_server_cleanly(server):
    """Last in this module: uvicorn shuts down gracefully on SIGTERM (timeout_graceful_shutdown)."""
    proc = server["proc"]
    started = time.monotonic()
    rc = _stop(proc, timeout=30)
    assert rc == 0, server["log"].read_text(errors="replace")[-3000:]
    assert time.monotonic() - started < 30
    assert "Traceback" not in server["log"].read_text(errors="replace")
