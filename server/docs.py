"""`/docs`: Swagger UI from this server (the assets ship in the `fastapi-offline` package), so the
API docs work offline and under the web page's Content-Security-Policy: no CDN, no inline script.

FastAPI's own `/docs` loads Swagger UI from jsdelivr and starts it with an inline script; both are
refused by `default-src 'self'`.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from .web import PAGE_HEADERS

ASSETS_URL = "/docs/assets"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - API docs</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css"><link rel="icon" href="{assets}/favicon.png"></head>
<body><div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script><script src="/docs/init.js"></script></body></html>
"""
_INIT = """window.ui = SwaggerUIBundle({url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis], layout: 'BaseLayout'});
"""


def swagger_assets() -> Path:
    """The folder of Swagger UI's files inside the fastapi-offline package."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).resolve().parent / "static"


def install_docs(app: FastAPI) -> None:
    """Serve `/docs` and its assets locally (create the app with `docs_url=None`)."""
    app.mount(ASSETS_URL, StaticFiles(directory=swagger_assets()), name="docs-assets")
    page = _PAGE.format(title=app.title, assets=ASSETS_URL)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page, headers=PAGE_HEADERS)

    @app.get("/docs/init.js", include_in_schema=False)
    def docs_init() -> Response:
        return Response(_INIT, media_type="text/javascript", headers={"Cache-Control": "no-cache",
                                                                       "X-Content-Type-Options": "nosniff"})
