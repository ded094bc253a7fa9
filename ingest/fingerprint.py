"""A file's fingerprint: its bytes with its catalog entry and the settings that shape its chunks.

A file whose fingerprint is recorded (retriever.records) is not read again. Everything that
changes what ingestion makes of a file belongs in `settings_key`, so that the writing run
(ingest.pipeline) and the check before it (ingest.unchanged) cannot disagree.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from retriever.units import UNITS_VERSION

# Bump when parsing or chunking changes, so unchanged files are re-chunked (and re-embedded) once.
# 6: passage ids hash document and text only. 7: Markdown read as its text; numbered heading
# sequences ("Antwoord 3") are not running lines; a footnote number after a full stop ends a line.
PIPELINE_VERSION = "7"


def settings_key(*, embedder_name: str, chunk_tokens: int, themes_version: str, ocr: str) -> str:
    """The settings part of every fingerprint: pipeline and units versions, model, chunk size,
    theme file version and OCR mode."""
    return f"{PIPELINE_VERSION}|u{UNITS_VERSION}|{embedder_name}|{chunk_tokens}|{themes_version}|ocr={ocr}"


def vector_recipe(embedder_name: str) -> str:
    """How vectors are made: a document written with another recipe is re-embedded under the same ids."""
    return f"{PIPELINE_VERSION}|u{UNITS_VERSION}|{embedder_name}"


def fingerprint(path: Path, entry: dict | None, key: str) -> tuple[str, str]:
    """(fingerprint of the bytes with their catalog entry and settings key, SHA-256 of the bytes
    alone), in one read of the file."""
    h, raw = hashlib.sha256(), hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            raw.update(block)
    h.update(json.dumps(entry or {}, sort_keys=True, default=str).encode())
    h.update(key.encode())
    return h.hexdigest(), raw.hexdigest()
