"""Operations: API keys, rate limit, CORS, limits, metrics, structured logs without questions, audit log.

Every test builds the real app over the session's real index (shared searcher and answerer) with
its own settings, and talks to it through Starlette's TestClient.
"""
from __future__ import annotations

import json
import logging
import uuid

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from retriever.errors import ConfigurationError

KEY = "test-key-1"
OTHER_KEY = "test-key-2"
AUTH = {"Authorization": f"Bearer {KEY}"}
QUESTION = "wat ging er mis bij opschalen?"


@pytest.fixture
def make_client(corpus_settings, parts):
    """Build the app with setting overrides; yields a started TestClient."""
    from rodedraad.app import create_app

    clients = []

    def make(**overrides) -> TestClient:
        settings = corpus_settings.model_copy(update=overrides)
        client = TestClient(create_app(settings, parts=parts))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def metric(client: TestClient, name: str, **labels) -> float:
    """Value of one sample on /metrics (0 when absent)."""
    text = client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


# -- API keys --------------------------------------------------------------------------------------

def test_api_needs_a_bearer_key_when_keys_are_set(make_client):
    c = make_client(api_keys=[KEY, OTHER_KEY])
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}, {"Authorization": f"Basic {KEY}"}):
        r = c.post("/api/chat", json={"question": QUESTION}, headers=headers)
        assert r.status_code == 401, headers
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert "API key" in r.json()["error"]
    assert c.get("/v1/models").status_code == 401
    assert c.get("/api/documents").status_code == 401
    r = c.post("/api/chat", json={"question": QUESTION}, headers=AUTH)
    assert r.status_code == 200
    assert r.json()["citations"], r.json()
    assert c.get("/v1/models", headers={"Authorization": f"Bearer {OTHER_KEY}"}).status_code == 200


def test_health_metrics_and_docs_are_open_without_a_key(make_client):
    c = make_client(api_keys=[KEY])
    assert c.get("/health").status_code == 200
    assert c.get("/metrics").status_code == 200
    assert c.get("/openapi.json").status_code == 200


def test_without_keys_the_api_is_open(make_client):
    c = make_client(api_keys=[])
    assert c.get("/api/documents").status_code == 200


def test_openapi_declares_the_bearer_scheme(make_client):
    spec = make_client(api_keys=[KEY], rate_limit_per_minute=60).get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    op = spec["paths"]["/api/chat"]["post"]
    assert op["security"] == [{"bearerAuth": []}]
    assert {"401", "429"} <= set(op["responses"])
    assert "security" not in spec["paths"]["/health"]["get"]


def test_binding_beyond_loopback_without_keys_is_refused(corpus_settings):
    from rodedraad.app import create_app

    with pytest.raises(ConfigurationError):
        create_app(corpus_settings.model_copy(update={"host": "0.0.0.0", "api_keys": []}))


# -- rate limit ------------------------------------------------------------------------------------

def test_rate_limit_per_key_gives_429_with_retry_after(make_client):
    c = make_client(api_keys=[KEY, OTHER_KEY], rate_limit_per_minute=3)
    before = metric(c, "rodedraad_rate_limited_total")
    assert [c.get("/api/documents", headers=AUTH).status_code for _ in range(3)] == [200] * 3
    r = c.get("/api/documents", headers=AUTH)
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 120
    assert "too many requests" in r.json()["error"]
    # another key has its own budget; open routes are not limited
    assert c.get("/api/documents", headers={"Authorization": f"Bearer {OTHER_KEY}"}).status_code == 200
    assert all(c.get("/health").status_code == 200 for _ in range(5))
    assert metric(c, "rodedraad_rate_limited_total") == before + 1


def test_rate_limit_per_address_without_keys(make_client):
    c = make_client(api_keys=[], rate_limit_per_minute=2)
    codes = [c.get("/api/documents").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_guessing_keys_is_rate_limited_too(make_client):
    c = make_client(api_keys=[KEY], rate_limit_per_minute=2)
    codes = [c.get("/api/documents", headers={"Authorization": f"Bearer guess{i}"}).status_code for i in range(4)]
    assert codes == [401, 401, 429, 429]


def test_sliding_window_forgets_old_requests_and_stays_bounded():
    from server.middleware.rate_limit import SlidingWindowLimiter

    lim = SlidingWindowLimiter(limit=10, window=60, max_clients=100)
    t = 1000 * 60.0  # the start of a window
    assert all(lim.hit("a", t + i) is None for i in range(10))
    wait = lim.hit("a", t + 10)
    assert wait is not None and 1 <= wait <= 120
    # half a window later the previous minute still weighs half: 5 of 10 used
    assert sum(lim.hit("a", t + 90 + i * 0.01) is None for i in range(10)) == 5
    # two windows later everything is forgotten
    assert all(lim.hit("a", t + 300 + i) is None for i in range(10))
    for i in range(1000):
        lim.hit(f"client-{i}", t)
    assert len(lim) == 100
    assert SlidingWindowLimiter(limit=0).hit("x") is None  # 0 means unlimited


# -- CORS ------------------------------------------------------------------------------------------

def test_cors_allows_only_configured_origins(make_client):
    c = make_client(cors_origins=["https://intranet.example"], api_keys=[KEY])
    pre = c.options("/api/chat", headers={"Origin": "https://intranet.example", "Access-Control-Request-Method": "POST",
                                          "Access-Control-Request-Headers": "authorization,content-type"})
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == "https://intranet.example"
    assert "authorization" in pre.headers["access-control-allow-headers"].lower()
    ok = c.post("/api/chat", json={"question": QUESTION}, headers={**AUTH, "Origin": "https://intranet.example"})
    assert ok.headers["access-control-allow-origin"] == "https://intranet.example"
    # errors carry CORS headers too, so a browser page can show them
    denied = c.post("/api/chat", json={"question": QUESTION}, headers={"Origin": "https://intranet.example"})
    assert denied.status_code == 401 and denied.headers["access-control-allow-origin"] == "https://intranet.example"
    other = c.post("/api/chat", json={"question": QUESTION}, headers={**AUTH, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    bad_pre = c.options("/api/chat", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert bad_pre.status_code == 400


def test_no_cors_headers_by_default(make_client):
    c = make_client(cors_origins=[])
    r = c.get("/api/documents", headers={"Origin": "https://intranet.example"})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


# -- question and result limits --------------------------------------------------------------------

def test_question_length_limit_from_settings(make_client):
    c = make_client(max_question_chars=60)
    assert c.post("/api/chat", json={"question": "a" * 60 + " ?"}).status_code == 422
    r = c.post("/api/chat", json={"question": "calamiteit " * 6})
    assert r.status_code == 422 and "longer than 60 characters" in r.json()["error"]
    assert c.post("/api/chat", json={"question": QUESTION}).status_code == 200
    r = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "x" * 61}]})
    assert r.status_code == 400 and "longer than 60" in r.json()["error"]["message"]  # OpenAI's shape on /v1
    assert c.post("/api/search", json={"query": "y" * 61}).status_code == 422
    r = c.post("/api/chat/stream", json={"question": "z" * 61})
    assert r.status_code == 422


def test_result_count_limit_from_settings(make_client):
    c = make_client(max_results=4)
    r = c.post("/api/search", json={"query": "calamiteit", "k": 5})
    assert r.status_code == 422 and "at most 4" in r.json()["error"]
    r = c.post("/api/search", json={"query": "calamiteit", "k": 4})
    assert r.status_code == 200 and 1 <= len(r.json()["results"]) <= 4


def test_body_size_limit_also_for_chunked_bodies(make_client):
    c = make_client(max_body_bytes=2000)

    def body():
        yield b'{"question": "'
        for _ in range(20):
            yield b"a" * 200
        yield b'"}'

    r = c.post("/api/chat", content=body(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "larger than 2000" in r.json()["error"]


# -- metrics ---------------------------------------------------------------------------------------

def test_metrics_count_questions_retrieval_and_abstentions(make_client):
    c = make_client()
    q_api = metric(c, "rodedraad_questions_total", channel="api")
    q_oai = metric(c, "rodedraad_questions_total", channel="openai")
    retrievals = metric(c, "rodedraad_retrieval_seconds_count")
    abstained = metric(c, "rodedraad_abstentions_total")
    assert c.post("/api/chat", json={"question": QUESTION}).json()["abstained"] is False
    r = c.post("/api/chat", json={"question": "welke gemeente had in 2017 de meeste calamiteiten in de jeugdhulp?"})
    assert r.json()["abstained"] is True
    assert c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}]}).status_code == 200
    assert c.post("/api/search", json={"query": "opschalen"}).status_code == 200
    assert metric(c, "rodedraad_questions_total", channel="api") == q_api + 2
    assert metric(c, "rodedraad_questions_total", channel="openai") == q_oai + 1
    assert metric(c, "rodedraad_abstentions_total") == abstained + 1
    assert metric(c, "rodedraad_retrieval_seconds_count") >= retrievals + 4
    assert metric(c, "rodedraad_index_passages") > 0
    text = c.get("/metrics").text
    assert 'http_request_duration_seconds_bucket{handler="/api/chat"' in text
    for name in ("rodedraad_fallbacks_total", "rodedraad_ingested_chunks_total"):
        assert name in text


def test_record_ingest_counts_chunks():
    from retriever.types import IngestReport
    from server.metrics import INGESTED_CHUNKS, record_ingest

    before = INGESTED_CHUNKS._value.get()
    record_ingest(IngestReport(chunks_added=7))
    assert INGESTED_CHUNKS._value.get() == before + 7


def test_two_apps_in_one_process_both_serve_metrics(make_client):
    a, b = make_client(), make_client()
    assert a.get("/health").status_code == b.get("/health").status_code == 200
    assert 'http_requests_total{handler="/health"' in b.get("/metrics").text


# -- logs and audit --------------------------------------------------------------------------------

def test_logs_hold_ids_timings_and_counts_but_never_the_question(make_client, caplog, tmp_path, monkeypatch):
    caplog.set_level(logging.DEBUG)
    monkeypatch.chdir(tmp_path)  # where a file with a relative path would land
    c = make_client(audit_log=None)
    assert c.app.state.audit_log is None
    marker = f"kwetsbaarheidsmarker{uuid.uuid4().hex[:8]}"
    question = f"wat ging er mis bij opschalen rond {marker}?"
    r = c.post("/api/chat", json={"question": question}, headers={"X-Request-ID": "req-42"})
    assert r.status_code == 200 and r.headers["x-request-id"] == "req-42"
    answer_piece = r.json()["answer"][-40:]
    c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": question}], "stream": True})
    c.post("/api/chat/stream", json={"question": question})
    c.post("/api/search", json={"query": question})
    c.get(f"/api/passages/{r.json()['citations'][0]['chunk_id']}")
    everything = "\n".join(f"{rec.getMessage()} {vars(rec)}" for rec in caplog.records)
    assert marker not in everything
    assert answer_piece not in everything
    access = [json.loads(rec.getMessage()) for rec in caplog.records if rec.name == "rodedraad.access"]
    first = next(a for a in access if a["request_id"] == "req-42")
    assert first["status"] == 200 and first["path"] == "/api/chat" and first["ms"] > 0
    assert first["citations"] == len(r.json()["citations"])
    assert first["chunk_ids"] == [x["chunk_id"] for x in r.json()["citations"]]
    assert first["question_chars"] == len(question)
    assert {a["path"] for a in access} >= {"/api/chat", "/v1/chat/completions", "/api/chat/stream", "/api/search",
                                           "/api/passages/{chunk_id}"}  # route templates, not raw paths
    assert not list(tmp_path.iterdir()), "without RODEDRAAD_AUDIT_LOG no question is written anywhere"


def test_json_formatter_writes_one_object_per_line():
    from server.logs import JsonFormatter

    rec = logging.makeLogRecord({"name": "rodedraad", "levelname": "INFO", "msg": "ready", "passages": 5})
    out = json.loads(JsonFormatter().format(rec))
    assert out["msg"] == "ready" and out["passages"] == 5 and out["level"] == "info"


def test_audit_log_is_opt_in_and_records_question_answer_and_citations(make_client, tmp_path):
    path = tmp_path / "audit" / "questions.jsonl"
    c = make_client(audit_log=path)
    r1 = c.post("/api/chat", json={"question": QUESTION}).json()
    r2 = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "wat is een calamiteit?"}]}).json()
    stream = c.post("/api/chat/stream", json={"question": QUESTION}).text
    c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}], "stream": True})
    c.post("/api/search", json={"query": QUESTION})  # not a question to the assistant: not audited
    c.post("/api/chat", json={"question": "x" * 5000})  # refused: no answer, not audited
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert [x["endpoint"] for x in lines] == ["/api/chat", "/v1/chat/completions", "/api/chat/stream",
                                              "/v1/chat/completions"]
    first, second, third, fourth = lines
    assert first["question"] == QUESTION and first["answer"] == r1["answer"]
    assert first["citations"] == [x["chunk_id"] for x in r1["citations"]] and first["citations"]
    assert first["abstained"] is False and first["status"] == 200 and first["ts"].endswith("+00:00")
    assert second["question"] == "wat is een calamiteit?"
    assert second["answer"] == r2["choices"][0]["message"]["content"]
    assert second["citations"] == [x["chunk_id"] for x in r2["sources"]]
    assert third["citations"] and third["citations"][0] in stream and third["answer"]
    assert fourth["citations"] and fourth["answer"].startswith(third["answer"][:20])
    assert oct(path.stat().st_mode & 0o777) == "0o600"
