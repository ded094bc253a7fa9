"""The web chat page: plain HTML, CSS and JavaScript modules from `server/static`, served at `/`
(no build step, no CDN)."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static"

# Everything the page needs comes from this server; nothing external may load.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def install_web(app: FastAPI) -> None:
    """Mount the chat page at `/` and its files at `/static`."""
    index = STATIC_DIR / "index.html"

    @app.get("/", include_in_schema=False)
    def web_page() -> FileResponse:
        """The chat page; `/?passage=<chunk_id>` opens that passage on load (the page reads the query)."""
        return FileResponse(index, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
