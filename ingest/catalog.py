"""The catalog: what a user states per file (title, publisher, year, type, URL); the rest is detected.

`corpus/catalog.toml`:

    ["nivel-eshpm-2019-sectorbreed-leren-van-calamiteiten.pdf"]
    title = "Sectorbreed leren van calamiteiten in de jeugdhulpverlening"
    publisher = "Nivel / ESHPM"
    year = 2019
    doc_type = "onderzoeksrapport"
    url = "https://..."
"""
from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path

from retriever.errors import ConfigurationError
from retriever.links import web_url
from retriever.types import DocumentInfo, Page

log = logging.getLogger("rodedraad.ingest")
CATALOG_NAME = "catalog.toml"
_YEAR = re.compile(r"(?<!\d)(19[89]\d|20[0-4]\d)(?!\d)")


def load_catalog(folder: Path) -> dict[str, dict]:
    """Entries of folder/catalog.toml by file name (empty when there is none)."""
    path = folder / CATALOG_NAME
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigurationError(f"{path}: not valid TOML ({e})") from e
    return {k: v for k, v in data.items() if isinstance(v, dict)}


def doc_id_for(path: Path) -> str:
    """A readable, stable document id from the file name."""
    return re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")[:80] or "document"


def describe(path: Path, pages: list[Page], entry: dict | None, pdf_meta: dict | None = None) -> DocumentInfo:
    """DocumentInfo from the catalog entry, falling back to the file's metadata and text."""
    entry = entry or {}
    pdf_meta = pdf_meta or {}
    first = next((p.text for p in pages if p.text.strip()), "")
    title = entry.get("title") or pdf_meta.get("title") or _first_line(first) or path.stem
    year = entry.get("year")
    if not year:
        m = _YEAR.search(path.stem) or _YEAR.search(first[:3000])
        year = int(m.group(1)) if m else None
    doc_type = entry.get("doc_type") or ("wet" if path.suffix.lower() == ".md" and path.stem.startswith("BWBR") else
                                         "webartikel" if path.suffix.lower() in (".html", ".htm") else "rapport")
    return DocumentInfo(
        doc_id=entry.get("doc_id") or doc_id_for(path),
        title=str(title).strip()[:200],
        publisher=str(entry.get("publisher") or pdf_meta.get("author") or ""),
        year=int(year) if year else None,
        doc_type=str(doc_type),
        url=_catalog_url(path, entry.get("url")),
        source_path=path.name,
    )


def _catalog_url(path: Path, url) -> str:
    """The catalog's URL when it is http(s); any other scheme is left out, with a warning."""
    if url and not web_url(url):
        log.warning("%s: catalog url %r is not an http(s) address; it is left out", path.name, str(url)[:100])
    return web_url(url)


def _first_line(text: str) -> str:
    for line in text.splitlines():
        s = line.strip().lstrip("#").strip()
        if len(s) > 3:
            return s[:200]
    return ""
