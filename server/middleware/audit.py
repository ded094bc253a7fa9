"""The opt-in audit log: each answered question with its answer and cited chunks, one JSON line.

The routes put the Answer (and the text the client was shown) on the request state; this layer
writes it down once the response is sent."""
from __future__ import annotations

import json
import logging
import os
import threading
from datetime import datetime, timezone
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .scope import request_info, request_state

AUDITED = ("/api/chat", "/api/chat/stream", "/v1/chat/completions")


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


class AuditMiddleware:
    """Writes one audit record per answered question on the chat routes."""

    def __init__(self, app: ASGIApp, audit: AuditLog) -> None:
        self.app = app
        self.audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") not in AUDITED:
            return await self.app(scope, receive, send)
        state = request_state(scope)
        status = 0
        done = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, done
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                done = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            answer = state.get("answer")
            if answer is not None:
                info = request_info(scope)
                self.audit.write({
                    "ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                    "endpoint": scope["path"], "request_id": info.get("request_id", ""),
                    "client": info.get("client", "-"), "status": status, "complete": done,
                    "question": answer.question, "answer": state.get("answer_text", answer.text),
                    "citations": [c.passage.chunk_id for c in answer.citations], "abstained": answer.abstained,
                })
