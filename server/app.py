"""`create_app(settings)`: the FastAPI application (API, OpenAI-compatible API, web page, bots).

    uvicorn --factory server.app:create_app
"""
from __future__ import annotations

import ipaddress
import logging
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from retriever.errors import ConfigurationError
from rodedraad.settings import Settings

from .bots import install_bots
from .errors import install_error_handlers
from .limits import install_limits
from .ops import install_ops
from .routes import chat, health, openai_compat, search
from .routes.learning import install_learning
from .web import install_web

log = logging.getLogger("rodedraad")


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings) -> None:
    """Refuse to serve beyond loopback without API keys, so a careless deployment is never open."""
    if not is_loopback(settings.host) and not settings.api_keys:
        raise ConfigurationError(
            f"binding to {settings.host} exposes the API beyond this machine; set RODEDRAAD_API_KEYS "
            "(comma-separated bearer keys) or bind to 127.0.0.1")


def build_parts(app: FastAPI, settings: Settings) -> None:
    """Open the index and build searcher and answerer once, for every request to share."""
    from rodedraad.assemble import open_answerer, open_searcher

    searcher = open_searcher(settings)
    searcher.warm_up()
    app.state.searcher = searcher
    app.state.answerer = open_answerer(settings, searcher)


def create_app(settings: Settings | None = None, *, parts: tuple | None = None) -> FastAPI:
    """The application; `parts=(searcher, answerer)` lets tests share ready-built parts."""
    settings = settings or Settings()
    check_exposure(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Answers are CPU work: more threads than this only fight over the cores and the GIL
        # (measured with 50 clients: 28 new questions/s with anyio's default of 40, 45/s with 8).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
        if parts is not None:
            app.state.searcher, app.state.answerer = parts
        else:
            build_parts(app, settings)
        log.info("rodedraad ready", extra={"passages": len(app.state.searcher.derived.table().passages)})
        yield

    app = FastAPI(
        title="Rode Draad",
        version="0.1.0",
        description="Cited answers over published youth-care calamity reports. An independent assistant, "
                    "not the inspectorate.",
        lifespan=lifespan,
        responses={400: {"description": "Malformed request"}, 413: {"description": "Request body too large"},
                   422: {"description": "Invalid request"}},
    )
    app.state.settings = settings
    install_error_handlers(app)
    for router in (health.router, search.router, chat.router, openai_compat.router):
        app.include_router(router)
    _install_features(app, settings)
    return app


def _install_features(app: FastAPI, settings: Settings) -> None:
    """Limits, then auth/metrics/logging, bots, the learning views and the web page (order matters:
    each middleware wraps the ones installed before it)."""
    install_limits(app, settings)
    install_ops(app, settings)
    install_bots(app, settings)
    install_learning(app, settings)
    install_web(app, settings)
