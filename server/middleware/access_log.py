"""One structured log line per request: id, method, route, status, milliseconds and counts.

Never the body: questions can hold case details about children."""
from __future__ import annotations

import json
import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..metrics import _channel, channel_for
from .scope import header, request_info, request_state

log = logging.getLogger("rodedraad.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def counts(state: dict) -> dict:
    """What the routes left on the request state, as log fields: results, citations, abstention."""
    out = {}
    if "question_chars" in state:
        out["question_chars"] = state["question_chars"]
    if "results" in state:
        out["results"] = state["results"]
    answer = state.get("answer")
    if answer is not None:
        chunk_ids = [c.passage.chunk_id for c in answer.citations]
        out.update(citations=len(chunk_ids), chunk_ids=chunk_ids, abstained=answer.abstained)
    return out


class AccessLogMiddleware:
    """Gives each request an id (the client's `X-Request-ID` when it is sane), labels its channel
    for the metrics, and logs it when it is done."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        incoming = header(scope, b"x-request-id")
        rid = incoming if _REQUEST_ID.match(incoming or "") else uuid.uuid4().hex[:16]
        info = request_info(scope)
        info["request_id"] = rid
        state = request_state(scope)
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
            if "refused" in info:
                fields["refused"] = info["refused"]
            fields.update(counts(state))
            log.info(json.dumps(fields, ensure_ascii=False), extra={"rodedraad": fields})


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", "") if route is not None else ""
