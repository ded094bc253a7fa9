"""One JSON error shape for every failure, never a bare 500.

/api and the rest: `{"error": message, "detail": ...}`. The OpenAI-compatible /v1 speaks OpenAI's
dialect instead, because its clients (the `openai` SDK, LangChain) parse that shape:
`{"error": {"message": ..., "type": ..., "param": ..., "code": ...}}`, with 400 for every invalid
request (OpenAI never sends 422).
"""
from __future__ import annotations

import json
import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from retriever.errors import RodeDraadError

log = logging.getLogger("rodedraad")

OPENAI_PREFIX = "/v1"
_OPENAI_TYPES = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}
_OPENAI_CODES = {401: "invalid_api_key", 413: "request_too_large", 429: "rate_limit_exceeded"}
# The member tags pydantic appends to a union field's error location (`content.str`, `content.list[any]`).
_UNION_TAG = re.compile(r"^(str|int|float|bool|bytes|none|[a-z-]+\[.*\])$")


def is_openai_path(path: str) -> bool:
    return path == OPENAI_PREFIX or path.startswith(OPENAI_PREFIX + "/")


def _clean(errors: list) -> list:
    """Validation errors without the echoed input (it may be large or hold case details)."""
    return [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in errors]


def _param(loc) -> str | None:
    """The field a validation error is about, as OpenAI writes it (`messages[0].role`)."""
    parts = list(loc or [])
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    if not parts or not isinstance(parts[0], str):  # the whole body, or a JSON parse position
        return None
    while len(parts) > 1 and isinstance(parts[-1], str) and _UNION_TAG.match(parts[-1]):
        parts.pop()
    out = parts[0]
    for p in parts[1:]:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def openai_error(status: int, message: str, detail: list | None = None,
                 param: str | None = None) -> tuple[int, dict]:
    """Status and body of an error in OpenAI's shape; `detail` holds validation errors, if any."""
    first = detail[0] if detail and isinstance(detail[0], dict) else {}
    code = first.get("type") or _OPENAI_CODES.get(status)
    if status == 422:
        status = 400
    kind = "server_error" if status >= 500 else _OPENAI_TYPES.get(status, "invalid_request_error")
    return status, {"error": {"message": message, "type": kind, "param": param or _param(first.get("loc")),
                              "code": code}}


def error_response(path: str, status: int, message: str, *, detail: list | None = None,
                   param: str | None = None, headers: dict | None = None) -> JSONResponse:
    """The error in the shape the path's clients expect."""
    if is_openai_path(path):
        status, body = openai_error(status, message, detail, param)
    else:
        body = {"error": message} if detail is None else {"error": message, "detail": detail}
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_message(errors: list) -> str:
    """A readable summary of the first validation error, for clients that show only the message."""
    if not errors:
        return "invalid request"
    first = errors[0]
    where = _param(first.get("loc"))
    text = f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid request"))
    return text + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RodeDraadError)
    async def library_error(req: Request, exc: RodeDraadError):
        status = exc.status_code if 400 <= exc.status_code < 600 else 400
        return error_response(req.url.path, status, str(exc), detail=getattr(exc, "detail", None),
                              param=getattr(exc, "param", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(req: Request, exc: RequestValidationError):
        errors = _clean(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(req.url.path, 400, "malformed JSON body", detail=errors)
        message = _validation_message(errors) if is_openai_path(req.url.path) else "invalid request"
        return error_response(req.url.path, 422, message, detail=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(req: Request, exc: StarletteHTTPException):
        return error_response(req.url.path, exc.status_code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(req: Request, exc: Exception):
        log.exception("unexpected error")
        return error_response(req.url.path, 500, "internal error; the server log has the details")


class OpenAIErrorShape:
    """On /v1, turns the `{"error": message}` answers of the layers around the routes (API key,
    rate limit, body size, question length) into OpenAI's shape, so those layers need not know
    which dialect a path speaks. Only JSON error responses are held back; they are small."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_openai_path(scope.get("path", "")):
            return await self.app(scope, receive, send)
        start: Message | None = None
        parts: list[bytes] = []

        async def send_wrapper(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                ctype = dict(message.get("headers") or []).get(b"content-type", b"")
                if message["status"] >= 400 and ctype.startswith(b"application/json"):
                    start = message  # hold it: the status may change with the body
                    return
            if start is None or message["type"] != "http.response.body":
                return await send(message)
            parts.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            status, body = _reshape(start["status"], b"".join(parts))
            headers = [(k, v) for k, v in start.get("headers") or [] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, receive, send_wrapper)


def _reshape(status: int, body: bytes) -> tuple[int, bytes]:
    """An `{"error": message, "detail"?: [...]}` body in OpenAI's shape; anything else as it is."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return status, body
    if not isinstance(data, dict) or not isinstance(data.get("error"), str):
        return status, body  # already OpenAI-shaped (the handlers above), or not ours
    detail = data.get("detail") if isinstance(data.get("detail"), list) else None
    status, shaped = openai_error(status, data["error"], detail)
    return status, json.dumps(shaped, ensure_ascii=False).encode("utf-8")
