"""`create_app(parts, config)`: the FastAPI application (API, OpenAI-compatible API, web page,
bots) over parts that are already built. It builds nothing itself: `rodedraad/assemble.py` builds
the parts, and `rodedraad.app:create_app` is the uvicorn factory.
"""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from .bots import check_bots, install_bots
from .config import ServerConfig, check_exposure
from .docs import install_docs
from .errors import install_error_handlers
from .logs import setup_logging
from .metrics import install_metrics, mark_process_dead
from .middleware import install_cors, install_middleware
from .openapi import document_security
from .parts import Parts
from .routes import chat, health, learning, openai_compat, pages, search
from .web import install_web

log = logging.getLogger("rodedraad")


def check_config(config: ServerConfig) -> None:
    """Every refusal a config can earn, before anything is built or served."""
    check_exposure(config)
    check_bots(config)


def create_app(parts: Parts, config: ServerConfig) -> FastAPI:
    """The application over the given parts."""
    check_config(config)
    setup_logging()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Answers are CPU work: more threads than this only fight over the cores and the GIL
        # (measured with 50 clients: 28 new questions/s with anyio's default of 40, 45/s with 8).
        anyio.to_thread.current_default_thread_limiter().total_tokens = config.request_threads
        log.info("rodedraad ready", extra={"passages": len(parts.passages)})
        try:
            yield
        finally:
            mark_process_dead()

    app = FastAPI(
        title="Rode Draad",
        version="0.1.0",
        description="Cited answers over published youth-care calamity reports. An independent assistant, "
                    "not the inspectorate.",
        lifespan=lifespan,
        docs_url=None, redoc_url=None,  # server/docs.py serves /docs without a CDN
        responses={400: {"description": "Malformed request"}, 413: {"description": "Request body too large"},
                   422: {"description": "Invalid request"}},
    )
    app.state.parts = parts
    app.state.config = config
    install_error_handlers(app)
    for router in (health.router, search.router, pages.router, chat.router, openai_compat.router, learning.router):
        app.include_router(router)
    # Order matters: each middleware wraps the ones installed before it.
    install_middleware(app, config)
    app.state.metrics_registry = install_metrics(app)
    install_cors(app, config)
    document_security(app, config)
    install_bots(app, config, parts)
    install_docs(app)
    install_web(app)
    return app
