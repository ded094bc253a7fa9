"""API key and rate limit for /api and /v1."""
from __future__ import annotations

import hashlib
import hmac
import math

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ..metrics import AUTH_FAILURES, RATE_LIMITED
from .rate_limit import SlidingWindowLimiter
from .scope import header, request_info

PROTECTED_PREFIXES = ("/api", "/v1")


def is_protected(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PROTECTED_PREFIXES)


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
        auth = header(scope, b"authorization").strip()
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


class GateMiddleware:
    """Refuses /api and /v1 requests without a valid key (when keys are set) or over the rate limit."""

    def __init__(self, app: ASGIApp, keys: KeyCheck, limiter: SlidingWindowLimiter) -> None:
        self.app = app
        self.keys = keys
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if sum(1 for k, _ in scope.get("headers") or [] if k.lower() == b"authorization") > 1:
            # which one counts differs between proxies and frameworks: a smuggling risk, so neither does
            request_info(scope)["refused"] = "auth"
            return await JSONResponse({"error": "more than one Authorization header; send exactly one"},
                                      status_code=400)(scope, receive, send)
        if not is_protected(scope.get("path", "")):
            return await self.app(scope, receive, send)
        token = KeyCheck.presented(scope)
        valid = self.keys.valid(token) if self.keys.enabled else False
        info = request_info(scope)
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
            return await JSONResponse(
                {"error": f"too many requests: at most {self.limiter.limit} per minute; retry after {math.ceil(wait)} s"},
                status_code=429, headers={"Retry-After": str(math.ceil(wait))})(scope, receive, send)
        if self.keys.enabled and not valid:
            AUTH_FAILURES.inc()
            info["refused"] = "auth"
            error = "invalid_token" if token else "invalid_request"
            msg = ("invalid API key" if token else "an API key is required") + \
                "; send the header 'Authorization: Bearer <key>'"
            return await JSONResponse({"error": msg}, status_code=401, headers={
                "WWW-Authenticate": f'Bearer realm="rodedraad", error="{error}"'})(scope, receive, send)
        return await self.app(scope, receive, send)
