"""Prometheus metrics: what is counted, the timed wrappers around the searcher and the answerer,
and `/metrics`.

Metrics are process-wide (module level) and registered in one registry per app, so several apps in
one process (tests) do not collide. With PROMETHEUS_MULTIPROC_DIR set (several uvicorn workers, or
`rodedraad ingest` writing `rodedraad_ingested_chunks_total`), /metrics adds up every process.
"""
from __future__ import annotations

import contextvars
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # prometheus_client picks its multi-process value store at import; the folder must exist.
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from retriever.passages import PassageLookup
from retriever.types import Answer, Filters, Hit, IngestReport, Searcher

RETRIEVAL_SECONDS = Histogram(
    "rodedraad_retrieval_seconds", "Time to retrieve passages for one query (hybrid search).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1, 2, 5), registry=None)
ANSWER_SECONDS = Histogram(
    "rodedraad_answer_seconds", "Time to answer one question (retrieval, evidence, writing), by channel.",
    ["channel"], buckets=(0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 5, 10, 20, 30, 60), registry=None)
QUESTIONS = Counter("rodedraad_questions_total", "Questions answered, by channel (api, openai, slack, teams, other).",
                    ["channel"], registry=None)
ABSTENTIONS = Counter("rodedraad_abstentions_total", "Answers that abstained: the reports do not hold it.",
                      registry=None)
FALLBACKS = Counter("rodedraad_fallbacks_total", "LLM answers replaced by the extractive answer (slow, failed or unsupported).",
                    registry=None)
INGESTED_CHUNKS = Counter("rodedraad_ingested_chunks_total", "Chunks embedded and written by ingestion runs.",
                          registry=None)
INDEX_PASSAGES = Gauge("rodedraad_index_passages", "Passages in the index as this server last saw it.",
                       registry=None, multiprocess_mode="livemax")
RATE_LIMITED = Counter("rodedraad_rate_limited_total", "Requests refused by the rate limit.", registry=None)
AUTH_FAILURES = Counter("rodedraad_auth_failures_total", "Requests refused for a missing or wrong API key.",
                        registry=None)
OWN_METRICS = (RETRIEVAL_SECONDS, ANSWER_SECONDS, QUESTIONS, ABSTENTIONS, FALLBACKS, INGESTED_CHUNKS,
               INDEX_PASSAGES, RATE_LIMITED, AUTH_FAILURES)

# Which front door a question came in by; set per request, read by the instrumented answerer.
_channel: contextvars.ContextVar[str] = contextvars.ContextVar("rodedraad_channel", default="other")
CHANNELS = ("api", "openai", "slack", "teams", "web", "other")


@contextmanager
def channel(name: str) -> Iterator[None]:
    """Label questions asked inside this block (bots call the answerer in their own threads)."""
    token = _channel.set(name if name in CHANNELS else "other")
    try:
        yield
    finally:
        _channel.reset(token)


def channel_for(path: str) -> str:
    """The channel a request path belongs to."""
    for prefix, name in (("/v1/", "openai"), ("/api/", "api"), ("/slack", "slack"), ("/teams", "teams")):
        if path.startswith(prefix):
            return name
    return "other"


def record_ingest(report: IngestReport) -> None:
    """Count an ingestion run's new chunks (call from `rodedraad ingest`; with a shared
    PROMETHEUS_MULTIPROC_DIR the server's /metrics shows it)."""
    INGESTED_CHUNKS.inc(max(0, int(report.chunks_added)))


class InstrumentedSearcher:
    """A searcher whose searches are timed, and which keeps the index-size gauge current."""

    def __init__(self, searcher: Searcher, passages: PassageLookup) -> None:
        self.inner = searcher
        self.passages = passages
        self.update_gauge()

    def search(self, query: str, *, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        started = time.perf_counter()
        try:
            return self.inner.search(query, k=k, filters=filters)
        finally:
            RETRIEVAL_SECONDS.observe(time.perf_counter() - started)
            self.update_gauge()  # the table is cached: this costs nothing

    def analyse(self, question):
        return self.inner.analyse(question)

    def prepare(self, questions):
        return self.inner.prepare(questions)

    def window_scores(self, passage, question):
        return self.inner.window_scores(passage, question)

    def update_gauge(self) -> None:
        try:
            INDEX_PASSAGES.set(len(self.passages))
        except Exception:  # a gauge must never break a search or start-up
            pass


class InstrumentedAnswerer:
    """An answerer whose questions are counted by channel and timed, with abstentions and fallbacks."""

    def __init__(self, answerer) -> None:
        self.inner = answerer
        self.prompts = answerer.prompts

    def answer(self, question: str, *, history: Sequence = (), filters: Filters | None = None) -> Answer:
        """The full answer (as `stream`, counted once)."""
        final = None
        for item in self.stream(question, history=history, filters=filters):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream(self, question: str, *, history: Sequence = (), filters: Filters | None = None) -> Iterator:
        """The inner answerer's pieces and final Answer, counted and timed."""
        ch = _channel.get()
        QUESTIONS.labels(ch).inc()
        started = time.perf_counter()
        try:
            for item in self.inner.stream(question, history=history, filters=filters):
                if isinstance(item, Answer):
                    if item.abstained:
                        ABSTENTIONS.inc()
                    if item.fallback:
                        FALLBACKS.inc()
                yield item
        finally:
            ANSWER_SECONDS.labels(ch).observe(time.perf_counter() - started)


def install_metrics(app) -> CollectorRegistry:
    """HTTP metrics for every route and `GET /metrics` with ours beside them."""
    from prometheus_fastapi_instrumentator import Instrumentator

    registry = CollectorRegistry(auto_describe=True)
    for metric in OWN_METRICS:
        registry.register(metric)
    Instrumentator(excluded_handlers=["/metrics"], registry=registry).instrument(app).expose(
        app, endpoint="/metrics", include_in_schema=False)
    return registry


def mark_process_dead() -> None:
    """With several workers, a stopped worker's live gauges leave the sum."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid())
