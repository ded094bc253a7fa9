"""The uvicorn factory: settings read once, parts built once per worker process, HTTP wired.

    uvicorn --factory rodedraad.app:create_app
"""
from __future__ import annotations

from fastapi import FastAPI

from .assemble import build_parts, server_config
from .settings import Settings


def create_app(settings: Settings | None = None, *, parts=None) -> FastAPI:
    """The application for these settings; `parts` (from `assemble.build_parts`) when already built.

    The config is checked before anything is built, so a refused setting costs no model load. When
    it builds the parts over an embedded index, it holds that index's serving lock."""
    from server.app import check_config, create_app as wire

    settings = settings or Settings()
    config = server_config(settings)
    check_config(config)
    lock = None
    if parts is None and not settings.chroma_url:
        from retriever.index_lock import EmbeddedIndexLock

        lock = EmbeddedIndexLock(settings.data_dir)
        lock.hold_for_serving()  # `rodedraad ingest` on this folder is refused while we serve it
    app = wire(parts if parts is not None else build_parts(settings), config)
    app.state.index_lock = lock  # held as long as the app lives
    return app
