"""Plain text, Markdown and HTML files → pages.

Text files have no pages; a form feed (\\f) starts a new one. The encoding is detected
(charset-normalizer), so a Windows-1252 or Latin-1 file reads as well as UTF-8.
"""
from __future__ import annotations

from pathlib import Path

from charset_normalizer import from_bytes

from rodedraad.errors import UnreadableDocument
from rodedraad.types import Page

MAX_BYTES = 50_000_000
_SINGLE_BYTE = {"cp1250", "cp1252", "cp1251", "cp1257", "latin_1", "iso8859_2", "iso8859_15", "iso8859_16",
                "mac_roman", "mac_latin2", "cp850", "cp437", "iso8859_4", "iso8859_10", "iso8859_13", "iso8859_9", "cp1254"}


def decode(path: Path, data: bytes) -> str:
    """Bytes → str in the detected encoding; refuses binary data."""
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableDocument(path, "binary data, not text (wrong extension?)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data[:2_000_000]).best()
    if best is None:
        raise UnreadableDocument(path, "text in an unknown encoding")
    if best.encoding in _SINGLE_BYTE:
        # Short texts make single-byte code pages hard to tell apart; our reports are Dutch,
        # so Windows-1252 wins whenever it decodes the bytes cleanly.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError) as e:
        raise UnreadableDocument(path, f"text could not be decoded as {best.encoding}") from e


def html_to_text(html: str) -> str:
    """Readable text of a web page (inscriptis keeps paragraphs and list structure)."""
    from inscriptis import get_text

    return get_text(html)


def read_text(path: Path) -> list[Page]:
    """Pages of a .txt, .md or .html file."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise UnreadableDocument(path, f"file of {size} bytes is larger than the {MAX_BYTES} accepted")
    text = decode(path, path.read_bytes())
    if path.suffix.lower() in (".html", ".htm"):
        text = html_to_text(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    pages = [p for p in text.split("\f")]
    if not any(p.strip() for p in pages):
        raise UnreadableDocument(path, "no text in file")
    # Blank lines separate paragraphs in text files; keep them as the paragraph signal.
    return [Page(number=i + 1, label=str(i + 1), text=p) for i, p in enumerate(pages)]
