"""One JSON error shape for every failure: `{"error": message, "detail": ...}`; never a bare 500."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rodedraad.errors import RodeDraadError

log = logging.getLogger("rodedraad")


def _clean(errors: list) -> list:
    """Validation errors without the echoed input (it may be large or hold case details)."""
    return [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in errors]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RodeDraadError)
    async def library_error(_req: Request, exc: RodeDraadError):
        status = exc.status_code if 400 <= exc.status_code < 600 else 400
        return JSONResponse({"error": str(exc)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_req: Request, exc: RequestValidationError):
        errors = _clean(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse({"error": "malformed JSON body", "detail": errors}, status_code=400)
        return JSONResponse({"error": "invalid request", "detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_req: Request, exc: StarletteHTTPException):
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(_req: Request, exc: Exception):
        log.exception("unexpected error")
        return JSONResponse({"error": "internal error; the server log has the details"}, status_code=500)
