"""Running it for real: API keys, CORS, rate limit, question and result limits, structured logs,
an opt-in audit log and Prometheus metrics.

`install_ops(app, settings)` is called by `create_app` when this module exists. The layers, outermost
first: CORS → HTTP metrics → access log (ids, timings, counts; never question text) → OpenAI's
error shape on /v1 (server/errors.py) → API key → rate limit → body size (server/limits.py) →
question/result limits and audit log → the routes.

Open without a key: /health, /metrics, the web page (/, /static) and the bots (/slack, /teams,
which check their own signatures). Everything under /api and /v1 needs `Authorization: Bearer <key>`
as soon as RODEDRAAD_API_KEYS is set.

Metrics are process-wide (module level) and registered in one registry per app, so several apps in
one process (tests) do not collide. With PROMETHEUS_MULTIPROC_DIR set (several uvicorn workers, or
`rodedraad ingest` writing `rodedraad_ingested_chunks_total`), /metrics adds up every process.
"""
from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
import logging
import math
import os
import re
import sys
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timezone
from pathlib import Path

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # prometheus_client picks its multi-process value store at import; the folder must exist.
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rodedraad.settings import Settings

from .errors import OpenAIErrorShape

log = logging.getLogger("rodedraad.access")

# -- metrics (module level: one set per process) ---------------------------------------------------

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


def record_ingest(report) -> None:
    """Count an ingestion run's new chunks (call from `rodedraad ingest`; with a shared
    PROMETHEUS_MULTIPROC_DIR the server's /metrics shows it)."""
    INGESTED_CHUNKS.inc(max(0, int(getattr(report, "chunks_added", 0))))


# -- paths -----------------------------------------------------------------------------------------

PROTECTED_PREFIXES = ("/api", "/v1")
# POST routes whose JSON body holds a question (field) or a result count.
_QUESTION_ROUTES = {"/api/chat": "question", "/api/chat/stream": "question", "/api/search": "query",
                    "/v1/chat/completions": "messages"}
_AUDITED = ("/api/chat", "/api/chat/stream", "/v1/chat/completions")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_CAPTURE_LIMIT = 2_000_000


def is_protected(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PROTECTED_PREFIXES)


def channel_for(path: str) -> str:
    if path.startswith("/v1/"):
        return "openai"
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/slack"):
        return "slack"
    if path.startswith("/teams"):
        return "teams"
    return "other"


def _header(scope: Scope, name: bytes) -> str:
    for k, v in scope.get("headers") or []:
        if k.lower() == name:
            return v.decode("latin-1")
    return ""


def _json_error(status: int, message: str, headers: dict | None = None, detail=None) -> JSONResponse:
    body = {"error": message}
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, headers=headers)


# -- API keys --------------------------------------------------------------------------------------

def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()


def key_id(key: str) -> str:
    """A short, non-reversible name for a key, for logs and the rate limit."""
    return "key:" + hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:12]


class KeyCheck:
    """Constant-time check of a bearer key against the configured keys."""

    def __init__(self, keys: list[str]) -> None:
        self._digests = [_digest(k) for k in keys if k]

    @property
    def enabled(self) -> bool:
        return bool(self._digests)

    @staticmethod
    def presented(scope: Scope) -> str | None:
        auth = _header(scope, b"authorization").strip()
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return token.strip()

    def valid(self, token: str | None) -> bool:
        if token is None:
            return False
        d = _digest(token)
        ok = False
        for known in self._digests:  # compare with every key: no early exit
            ok |= hmac.compare_digest(d, known)
        return ok


# -- rate limit ------------------------------------------------------------------------------------

class SlidingWindowLimiter:
    """Sliding-window counter per client (the previous minute weighted by how much of it still
    overlaps the window, plus this minute). O(1) memory per client and at most `max_clients`
    clients (least recently seen are forgotten first)."""

    def __init__(self, limit: int, window: float = 60.0, max_clients: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._clients: OrderedDict[str, list] = OrderedDict()  # client -> [window index, current, previous]
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._clients)

    def hit(self, client: str, now: float | None = None) -> float | None:
        """Count one request; None when allowed, else seconds until one would be allowed."""
        if self.limit <= 0:
            return None
        now = time.monotonic() if now is None else now
        idx = int(now // self.window)
        elapsed = now - idx * self.window
        with self._lock:
            entry = self._clients.get(client)
            if entry is None:
                entry = [idx, 0, 0]
                self._clients[client] = entry
                while len(self._clients) > self.max_clients:
                    self._clients.popitem(last=False)
            else:
                self._clients.move_to_end(client)
            if entry[0] != idx:
                entry[2] = entry[1] if entry[0] == idx - 1 else 0
                entry[1] = 0
                entry[0] = idx
            _, current, previous = entry
            estimate = previous * (self.window - elapsed) / self.window + current
            if estimate + 1 <= self.limit:
                entry[1] += 1
                return None
            # seconds until the estimate leaves room for one more request
            if current + 1 > self.limit:
                wait = (self.window - elapsed) + self.window * (1 - (self.limit - 1) / max(current, 1))
            else:
                wait = (self.window - elapsed) - self.window * (self.limit - 1 - current) / max(previous, 1)
            return max(1.0, wait)


# -- middlewares -----------------------------------------------------------------------------------

class GateMiddleware:
    """API key and rate limit for /api and /v1."""

    def __init__(self, app: ASGIApp, keys: KeyCheck, limiter: SlidingWindowLimiter) -> None:
        self.app = app
        self.keys = keys
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_protected(scope.get("path", "")):
            return await self.app(scope, receive, send)
        token = KeyCheck.presented(scope)
        valid = self.keys.valid(token) if self.keys.enabled else False
        info = scope.setdefault("rodedraad", {})
        if valid:
            client = key_id(token)
        else:
            addr = (scope.get("client") or ("unknown", 0))[0]
            client = f"ip:{addr}"
        info["client"] = client if valid else "anonymous"
        # Unauthenticated attempts are limited per address too, so keys cannot be guessed quickly.
        wait = self.limiter.hit(client)
        if wait is not None:
            RATE_LIMITED.inc()
            info["refused"] = "rate_limit"
            return await _json_error(
                429, f"too many requests: at most {self.limiter.limit} per minute; retry after {math.ceil(wait)} s",
                headers={"Retry-After": str(math.ceil(wait))})(scope, receive, send)
        if self.keys.enabled and not valid:
            AUTH_FAILURES.inc()
            info["refused"] = "auth"
            error = "invalid_token" if token else "invalid_request"
            msg = ("invalid API key" if token else "an API key is required") + \
                "; send the header 'Authorization: Bearer <key>'"
            return await _json_error(401, msg, headers={
                "WWW-Authenticate": f'Bearer realm="rodedraad", error="{error}"'})(scope, receive, send)
        return await self.app(scope, receive, send)


class AccessLogMiddleware:
    """One structured log line per request: id, method, route, status, milliseconds and counts.

    Never the body: questions can hold case details about children."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        incoming = _header(scope, b"x-request-id")
        rid = incoming if _REQUEST_ID.match(incoming or "") else uuid.uuid4().hex[:16]
        info = scope.setdefault("rodedraad", {})
        info["request_id"] = rid
        path = scope.get("path", "")
        token = _channel.set(channel_for(path))
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers") or [])
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            _channel.reset(token)
            fields = {"event": "request", "request_id": rid, "method": scope.get("method", ""),
                      "path": _route_of(scope) or path[:200], "status": status,
                      "ms": round((time.perf_counter() - started) * 1000, 1),
                      "client": info.get("client", "-")}
            for k in ("refused", "citations", "chunk_ids", "abstained", "results", "question_chars"):
                if k in info:
                    fields[k] = info[k]
            log.info(json.dumps(fields, ensure_ascii=False), extra={"rodedraad": fields})


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", "") if route is not None else ""


class InspectMiddleware:
    """Question length and result count limits from the settings, counts for the access log, and
    the opt-in audit log. Sits inside the body-size limit, so the body it reads is bounded."""

    def __init__(self, app: ASGIApp, max_question_chars: int, max_results: int, audit: "AuditLog | None") -> None:
        self.app = app
        self.max_question_chars = max_question_chars
        self.max_results = max_results
        self.audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope.get("method") != "POST" or path not in _QUESTION_ROUTES:
            return await self.app(scope, receive, send)
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # client went away
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        data = _parse_json(body)
        question = _question_of(path, data)
        info = scope.setdefault("rodedraad", {})
        if question is not None:
            info["question_chars"] = len(question)
            if len(question) > self.max_question_chars:
                field = "query" if path == "/api/search" else "question"
                msg = f"the {field} is longer than {self.max_question_chars} characters"
                return await _json_error(422, msg, detail=[{"loc": ["body", _QUESTION_ROUTES[path]], "msg": msg,
                                                            "type": "string_too_long"}])(scope, replay, send)
        if path == "/api/search" and isinstance(data, dict):
            k = data.get("k")
            if isinstance(k, int) and not isinstance(k, bool) and k > self.max_results:
                msg = f"k may be at most {self.max_results}"
                return await _json_error(422, msg, detail=[{"loc": ["body", "k"], "msg": msg,
                                                            "type": "less_than_equal"}])(scope, replay, send)
        status = 0
        content_type = ""
        captured: list[bytes] = []
        size = 0
        done = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, content_type, size, done
            if message["type"] == "http.response.start":
                status = message["status"]
                content_type = dict(message.get("headers") or []).get(b"content-type", b"").decode("latin-1")
            elif message["type"] == "http.response.body":
                piece = message.get("body", b"")
                if size < _CAPTURE_LIMIT:
                    captured.append(piece)
                    size += len(piece)
                if not message.get("more_body", False):
                    done = True
            await send(message)

        try:
            await self.app(scope, replay, send_wrapper)
        finally:
            outcome = _outcome(path, content_type, b"".join(captured)) if status == 200 else {}
            for k in ("citations", "chunk_ids", "abstained", "results"):
                if k in outcome:
                    info[k] = outcome[k]
            if self.audit is not None and path in _AUDITED and question is not None:
                self.audit.write({
                    "ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                    "endpoint": path, "request_id": info.get("request_id", ""), "client": info.get("client", "-"),
                    "status": status, "complete": done, "question": question,
                    "answer": outcome.get("answer", ""), "citations": outcome.get("chunk_ids", []),
                    "abstained": outcome.get("abstained"),
                })


def _parse_json(body: bytes):
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _text_of(content) -> str:
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return content if isinstance(content, str) else ""


def _question_of(path: str, data) -> str | None:
    if not isinstance(data, dict):
        return None
    if path == "/v1/chat/completions":
        messages = data.get("messages")
        if not isinstance(messages, list):
            return None
        users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        return _text_of(users[-1].get("content")).strip() if users else None
    value = data.get(_QUESTION_ROUTES[path])
    return value if isinstance(value, str) else None


def _sse_data(text: str) -> list:
    out = []
    for line in text.splitlines():
        if line.startswith("data:"):
            payload = line[5:].strip()
            if payload and payload != "[DONE]":
                parsed = _parse_json(payload.encode())
                if parsed is not None:
                    out.append(parsed)
    return out


def _outcome(path: str, content_type: str, body: bytes) -> dict:
    """Answer text, cited chunk ids and counts from a 200 response (JSON or server-sent events)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    if path == "/api/search":
        data = _parse_json(body)
        return {"results": len(data.get("results", []))} if isinstance(data, dict) else {}
    if "text/event-stream" in content_type:
        events = _sse_data(text)
        if path == "/api/chat/stream":
            done = next((e for e in reversed(events) if isinstance(e, dict) and "citations" in e), None)
            data = done or {}
        else:  # OpenAI chunks: content deltas, sources on the last one
            answer = "".join(str(((e.get("choices") or [{}])[0].get("delta") or {}).get("content") or "")
                             for e in events if isinstance(e, dict))
            last = next((e for e in reversed(events) if isinstance(e, dict) and "sources" in e), {})
            data = {"answer": answer, "citations": last.get("sources", []), "abstained": last.get("abstained")}
    else:
        data = _parse_json(body)
        if not isinstance(data, dict):
            return {}
        if path == "/v1/chat/completions":
            answer = str(((data.get("choices") or [{}])[0].get("message") or {}).get("content") or "")
            data = {"answer": answer, "citations": data.get("sources", []), "abstained": data.get("abstained")}
    cites = [c.get("chunk_id", "") for c in data.get("citations") or [] if isinstance(c, dict)]
    return {"answer": data.get("answer", ""), "chunk_ids": cites, "citations": len(cites),
            "abstained": data.get("abstained")}


class AuditLog:
    """Opt-in JSON-lines file of questions and answers (mode 0600; one write per line, so several
    workers can append to the same file)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def write(self, record: dict) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            with self._lock:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, line)
                finally:
                    os.close(fd)
        except OSError as e:  # an audit failure must not fail the answer, but must be seen
            logging.getLogger("rodedraad").error("audit log %s not written: %s", self.path, e)


# -- instrumenting the parts -----------------------------------------------------------------------

def instrument_parts(searcher, answerer) -> None:
    """Wrap the instances' search and stream methods with timers and counters (once per instance)."""
    if searcher is not None and not getattr(searcher, "_rodedraad_instrumented", False):
        inner_search = searcher.search

        def search(*args, **kwargs):
            started = time.perf_counter()
            try:
                return inner_search(*args, **kwargs)
            finally:
                RETRIEVAL_SECONDS.observe(time.perf_counter() - started)
                _update_index_gauge(searcher)  # the table is cached: this costs nothing

        searcher.search = search
        searcher._rodedraad_instrumented = True
    if answerer is not None and not getattr(answerer, "_rodedraad_instrumented", False):
        inner_stream = answerer.stream

        def stream(*args, **kwargs):
            ch = _channel.get()
            QUESTIONS.labels(ch).inc()
            started = time.perf_counter()
            try:
                for item in inner_stream(*args, **kwargs):
                    if not isinstance(item, str):
                        if getattr(item, "abstained", False):
                            ABSTENTIONS.inc()
                        if getattr(item, "fallback", ""):
                            FALLBACKS.inc()
                    yield item
            finally:
                ANSWER_SECONDS.labels(ch).observe(time.perf_counter() - started)

        answerer.stream = stream
        answerer._rodedraad_instrumented = True
    _update_index_gauge(searcher)


def _update_index_gauge(searcher) -> None:
    try:
        INDEX_PASSAGES.set(len(searcher.derived.table().passages))
    except Exception:  # a gauge must never break start-up
        pass


# -- logging ---------------------------------------------------------------------------------------

_STD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "rodedraad", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "rodedraad", None)
        out = {"ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
               "level": record.levelname.lower(), "logger": record.name}
        if isinstance(fields, dict):
            out.update(fields)
        else:
            out["msg"] = record.getMessage()
        for k, v in vars(record).items():
            if k not in _STD_ATTRS and k not in out:
                out[k] = v if isinstance(v, (str, int, float, bool, type(None))) else str(v)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def _setup_logging() -> None:
    """JSON lines on stderr for our loggers when nobody configured logging (e.g. under uvicorn)."""
    ours = logging.getLogger("rodedraad")
    if ours.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    ours.addHandler(handler)
    ours.setLevel(logging.INFO)


# -- OpenAPI ---------------------------------------------------------------------------------------

def _document_security(app: FastAPI, settings: Settings) -> None:
    """Declare the bearer scheme and the 401/429/422 answers on /api and /v1 in the OpenAPI spec."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is not None and app.openapi_schema.get("x-rodedraad-ops"):
            return app.openapi_schema
        schema = build()
        if settings.api_keys:
            schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearerAuth"] = {
                "type": "http", "scheme": "bearer", "description": "One of RODEDRAAD_API_KEYS"}
        for path, ops in schema.get("paths", {}).items():
            if not is_protected(path):
                continue
            for op in ops.values():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                if settings.api_keys:
                    op["security"] = [{"bearerAuth": []}]
                    op["responses"].setdefault("401", {"description": "Missing or invalid API key"})
                if settings.rate_limit_per_minute:
                    op["responses"].setdefault("429", {"description": "Rate limit reached; see Retry-After"})
                op["responses"].setdefault("413", {"description": "Request body too large"})
                op["responses"].setdefault("422", {"description": "Invalid request"})
        schema["x-rodedraad-ops"] = True
        app.openapi_schema = schema
        return schema

    app.openapi = openapi


# -- install ---------------------------------------------------------------------------------------

def install_ops(app: FastAPI, settings: Settings) -> None:
    """Auth, limits, logs, audit log, metrics and CORS on the app (see the module docstring)."""
    from prometheus_fastapi_instrumentator import Instrumentator

    _setup_logging()
    audit = AuditLog(settings.audit_log) if settings.audit_log else None
    limiter = SlidingWindowLimiter(settings.rate_limit_per_minute)
    app.state.rate_limiter = limiter
    app.state.audit_log = audit
    # Innermost: after the body-size limit, so the body read here is bounded.
    app.user_middleware.append(Middleware(InspectMiddleware, max_question_chars=settings.max_question_chars,
                                          max_results=settings.max_results, audit=audit))
    app.add_middleware(GateMiddleware, keys=KeyCheck(settings.api_keys), limiter=limiter)
    app.add_middleware(OpenAIErrorShape)  # around the gate and limits, so their /v1 errors are reshaped too
    app.add_middleware(AccessLogMiddleware)

    registry = CollectorRegistry(auto_describe=True)
    for metric in OWN_METRICS:
        registry.register(metric)
    app.state.metrics_registry = registry
    Instrumentator(excluded_handlers=["/metrics"], registry=registry).instrument(app).expose(
        app, endpoint="/metrics", include_in_schema=False)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST", "OPTIONS"],
                           allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                           expose_headers=["X-Request-ID", "Retry-After"], max_age=600)
    _document_security(app, settings)

    inner_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a):
        async with inner_lifespan(a) as state:
            instrument_parts(getattr(app.state, "searcher", None), getattr(app.state, "answerer", None))
            try:
                yield state
            finally:
                if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
                    from prometheus_client import multiprocess

                    multiprocess.mark_process_dead(os.getpid())

    app.router.lifespan_context = lifespan
