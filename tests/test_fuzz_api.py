"""Fuzzing the API from its own OpenAPI spec (schemathesis, in process): no input may give a 5xx, and
responses must match the spec (status codes, content types, bodies, auth).

The app runs with API keys, a rate limit high enough not to interfere, and the session's real index.
Bounded: at most 30 examples per operation, a fixed seed, no deadline per example.
Each operation is driven through Hypothesis here rather than with `@schema.parametrize()`:
schemathesis 4.32's lazy pytest loader (`from_fixture`) breaks on pytest 9 (`Function._nodeid`).
"""
from __future__ import annotations

import math

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from pydantic import BaseModel
from schemathesis.config import SchemathesisConfig

KEY = "fuzz-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def fuzz_app(corpus_settings, parts):
    from rodedraad.app import create_app

    settings = corpus_settings.model_copy(update={"api_keys": [KEY], "rate_limit_per_minute": 100_000})
    app = create_app(settings, parts=parts)
    with TestClient(app):  # runs the lifespan, so the app's state holds the parts
        yield app


@pytest.fixture(scope="module")
def real_chunk_id(searcher) -> str:
    return searcher.search("calamiteit", k=1)[0].passage.chunk_id


# A body over the size limit is rejected with 413 before it is parsed: that is a rejection too, and
# schemathesis' negative data (long strings in every history item) can reach the limit.
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    config = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": REJECTED}}})
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app, config=config)


EXAMPLES = 30  # per operation: 20 valid-by-the-spec inputs, 10 invalid ones
# Rules the spec cannot express make some schema-valid requests 400/422 on purpose (the last OpenAI
# message must be a non-empty user message; a whitespace-only question): do not count those as failures.
EXCLUDED = [schemathesis.checks.positive_data_acceptance]


def _fuzz(operation, mode, examples: int, failures: list, **fixed) -> int:
    """Run one operation's generated cases; collect failures instead of stopping at the first."""
    calls = 0

    @hypothesis.given(case=operation.as_strategy(generation_mode=mode, **fixed))
    @hypothesis.settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.generate])
    def run(case):
        nonlocal calls
        calls += 1
        try:
            response = case.call_and_validate(headers=AUTH, excluded_checks=EXCLUDED)
        except (Exception, BaseExceptionGroup) as e:  # noqa: BLE001 - schemathesis raises a failure group
            failures.append(f"{operation.label} [{mode.value}] {type(e).__name__}: {str(e)[:1500]}")
            return
        if response.status_code >= 500:
            failures.append(f"{operation.label} [{mode.value}] {response.status_code}: {response.text[:300]}")

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        pass  # nothing to make invalid (an operation without parameters or body)
    return calls


def test_no_input_breaks_the_api(api_schema, real_chunk_id):
    from schemathesis import GenerationMode

    failures: list[str] = []
    calls = 0
    for result in api_schema.get_all_operations():
        op = result.ok()
        calls += _fuzz(op, GenerationMode.POSITIVE, EXAMPLES * 2 // 3, failures)
        calls += _fuzz(op, GenerationMode.NEGATIVE, EXAMPLES // 3, failures)
        if "{chunk_id}" in op.path:  # random ids are all unknown: also ask for a real one
            calls += _fuzz(op, GenerationMode.POSITIVE, 3, failures, path_parameters={"chunk_id": real_chunk_id})
    assert calls >= 100
    assert not failures, "\n\n".join(failures[:10])


def test_fuzzing_covers_every_api_operation(api_schema):
    """The spec the fuzzer reads lists the operations we mean to fuzz."""
    ops = {f"{op.ok().method.upper()} {op.ok().path}" for op in api_schema.get_all_operations()}
    assert {"POST /api/chat", "POST /api/chat/stream", "POST /api/search", "GET /api/passages/{chunk_id}",
            "GET /api/documents", "POST /v1/chat/completions", "GET /v1/models", "GET /health"} <= ops


def test_the_spec_is_served_and_valid(fuzz_app):
    with TestClient(fuzz_app) as c:
        spec = c.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.") and "bearerAuth" in spec["components"]["securitySchemes"]


class BoomIn(BaseModel):
    n: int


def test_the_harness_catches_a_server_error():
    """The same harness over a tiny app with a bug finds it (so a clean run above means something)."""
    from fastapi import FastAPI

    from server.errors import install_error_handlers

    app = FastAPI()
    install_error_handlers(app)

    @app.post("/boom")
    def boom(body: BoomIn) -> dict:
        return {"root": math.sqrt(body.n)}  # ValueError for a negative n: a 500

    failures: list[str] = []
    from schemathesis import GenerationMode

    op = next(r.ok() for r in schemathesis.openapi.from_asgi("/openapi.json", app).get_all_operations())
    _fuzz(op, GenerationMode.POSITIVE, 50, failures)
    # in process the server's exception reaches the harness itself (over HTTP it would be a 500)
    assert failures and all("POST /boom" in f for f in failures)
    assert any("ValueError" in f or " 500" in f for f in failures)
