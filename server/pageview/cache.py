"""Rendered pages on disk, keyed by chunk id, page, width, the file's hash and the renderer version.

    >>> cache = PageCache(data_dir / "pages")
    >>> cache.put(key, png_bytes, meta)   # written atomically: readers see all of it or nothing
    >>> cache.get(key)                    # (png bytes, meta) or None

The key's parts come from the index (chunk ids, recorded hashes), never from a request as given.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

_SAFE = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


@dataclass(frozen=True)
class PageKey:
    """What one cached page image depends on."""

    chunk_id: str
    page: int
    width: int
    file_sha256: str
    renderer: str

    def relative(self) -> Path:
        chunk = self.chunk_id if _SAFE.match(self.chunk_id) else hashlib.sha256(self.chunk_id.encode()).hexdigest()
        renderer = re.sub(r"[^0-9A-Za-z_.-]", "_", self.renderer)
        return Path(renderer) / chunk[:2] / f"{chunk}-{self.file_sha256[:12]}-p{self.page}-w{self.width}"


@dataclass(frozen=True)
class PageMeta:
    """What is sent beside a cached image: the pages the passage spans and the highlighted band."""

    pages: tuple[int, ...]
    highlight: tuple[float, float] | None

    @classmethod
    def from_json(cls, text: str) -> "PageMeta":
        data = json.loads(text)
        band = data.get("highlight")
        return cls(tuple(int(p) for p in data["pages"]), (float(band[0]), float(band[1])) if band else None)


class PageCache:
    """A folder of PNGs with a small JSON beside each."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def get(self, key: PageKey) -> tuple[bytes, PageMeta] | None:
        base = self.root / key.relative()
        try:
            meta = PageMeta.from_json(base.with_suffix(".json").read_text(encoding="utf-8"))
            return base.with_suffix(".png").read_bytes(), meta
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: PageKey, png: bytes, meta: PageMeta) -> None:
        """Store one page (the JSON first: a PNG is only ever found with its JSON beside it)."""
        base = self.root / key.relative()
        base.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(base.with_suffix(".json"), json.dumps(asdict(meta)).encode("utf-8"))
        _write_atomically(base.with_suffix(".png"), png)

    def size_bytes(self) -> int:
        """Bytes on disk under the cache folder."""
        return sum(f.stat().st_size for f in self.root.rglob("*") if f.is_file()) if self.root.exists() else 0


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
