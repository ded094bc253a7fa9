"""Request bodies over the configured size get 413, by Content-Length or while they arrive.

The body is read here, before the routes see it: a route's own body parsing would turn a body cut
off midway into a 400 instead."""
from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CLIENT_CLOSED = 499  # nginx's "client closed request"


class BodySizeLimit:
    """Rejects bodies over `max_bytes` before they are read (Content-Length) or as they arrive, and
    hands the routes the body it read (at most `max_bytes`, so memory stays bounded)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        too_big = JSONResponse({"error": f"request body larger than {self.max_bytes} bytes"}, status_code=413)
        if length is not None:
            try:
                if int(length) > self.max_bytes:
                    return await too_big(scope, receive, send)
            except ValueError:
                return await JSONResponse({"error": "bad Content-Length"}, status_code=400)(scope, receive, send)
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client hung up before its body was complete. Nobody reads this answer (the
                # server drops it), but the metrics and the access log count it as the client's
                # doing (nginx's 499), not as a 5xx of ours.
                return await JSONResponse({"error": "client closed the request"}, status_code=CLIENT_CLOSED)(
                    scope, receive, send)
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.max_bytes:
                return await too_big(scope, receive, send)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()  # then wait for the disconnect, as a streaming response does

        await self.app(scope, replay, send)
