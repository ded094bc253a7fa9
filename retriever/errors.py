"""The error family. Library code raises these; the CLI and the server translate them."""
from __future__ import annotations

from pathlib import Path


class RodeDraadError(Exception):
    """Base class; its message is shown to the user as it is."""

    status_code = 400


class ConfigurationError(RodeDraadError):
    """A setting is wrong or missing; the message says which and what to do."""

    status_code = 500


class UnreadableDocument(RodeDraadError):
    """A file could not be turned into text; carries the file and the reason."""

    def __init__(self, path: Path | str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class IndexMissing(RodeDraadError):
    """No index yet where one was expected."""

    status_code = 503


class EmbeddingModelMismatch(ConfigurationError):
    """The index was built with another embedding model than the one configured."""


class PassageNotFound(RodeDraadError):
    """No passage with that id."""

    status_code = 404


def shown_id(value: str, limit: int = 80) -> str:
    """An id as an error message echoes it: quoted, and cut to `limit` characters (a client may
    send kilobytes as an id; the message must not send them back)."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


class DocumentNotFound(RodeDraadError):
    """No ingested file with that document id."""

    status_code = 404


class SourceFileGone(RodeDraadError):
    """The file recorded for a document is no longer where it was ingested from."""

    status_code = 410


class SourceFileChanged(RodeDraadError):
    """The file recorded for a document no longer has the bytes that were ingested."""

    status_code = 409


class NoPages(RodeDraadError):
    """The document has no pages to show (a text, Markdown or HTML file), or not the one asked for."""

    status_code = 404


class EmbeddingServerError(RodeDraadError):
    """The embedding server failed (unreachable, an error status, a malformed answer) after retries."""

    status_code = 503
