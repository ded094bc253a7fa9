"""The layers around the routes, outermost first: CORS → HTTP metrics → access log (ids, timings,
counts; never question text) → OpenAI's error shape on /v1 (server/errors.py) → API key and rate
limit → body size → audit log → the routes.

Open without a key: /health, /metrics, the web page (/, /static) and the bots (/slack, /teams,
which check their own signatures). Everything under /api and /v1 needs `Authorization: Bearer <key>`
as soon as RODEDRAAD_API_KEYS is set. Question length and result count are checked by the routes
(server/limits.py), which also put the Answer on the request state for the two logs.
"""
from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from ..config import ServerConfig
from ..errors import OpenAIErrorShape
from .access_log import AccessLogMiddleware
from .audit import AuditLog, AuditMiddleware
from .body_size import BodySizeLimit
from .gate import GateMiddleware, KeyCheck
from .rate_limit import SlidingWindowLimiter


def install_middleware(app: FastAPI, config: ServerConfig) -> None:
    """Every layer above, in order (each `add_middleware` wraps the ones added before it)."""
    audit = AuditLog(config.audit_log) if config.audit_log else None
    limiter = SlidingWindowLimiter(config.rate_limit_per_minute)
    app.state.rate_limiter = limiter
    app.state.audit_log = audit
    if audit is not None:
        app.add_middleware(AuditMiddleware, audit=audit)
    app.add_middleware(BodySizeLimit, max_bytes=config.limits.max_body_bytes)
    app.add_middleware(GateMiddleware, keys=KeyCheck(list(config.api_keys)), limiter=limiter)
    app.add_middleware(OpenAIErrorShape)  # around the gate and limits, so their /v1 errors are reshaped too
    app.add_middleware(AccessLogMiddleware)


def install_cors(app: FastAPI, config: ServerConfig) -> None:
    """CORS for the configured origins only (outermost, so error answers carry its headers too)."""
    if config.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(config.cors_origins),
                           allow_methods=["GET", "POST", "OPTIONS"],
                           allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                           expose_headers=["X-Request-ID", "Retry-After"], max_age=600)
