"""Plain text, Markdown and HTML files → pages (Markdown and HTML as the text a reader sees).

Text files have no pages; a form feed (\\f) starts a new one. The encoding is detected
(charset-normalizer), so a Windows-1252 or Latin-1 file reads as well as UTF-8.
"""
from __future__ import annotations

import re
from pathlib import Path

from charset_normalizer import from_bytes

from retriever.errors import UnreadableDocument
from retriever.types import Page

MAX_BYTES = 50_000_000
# Text per file (about a thousand dense printed pages). More is not a report but a dump: embedding it
# would take hours, so it is refused with a reason instead (ingest.read_pdf uses the same cap).
MAX_CHARS = 3_000_000
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


def markdown_to_text(markdown: str) -> str:
    """Readable text of a Markdown file: headings, paragraphs and list items on lines of their
    own, emphasis and link markup gone ("*calamiteit:*" reads "calamiteit:"), as a reader sees it
    and as quotes must match. Rendered by markdown-it (CommonMark), read back like a web page."""
    from markdown_it import MarkdownIt

    text = html_to_text(MarkdownIt("commonmark", {"html": False}).render(markdown))
    # "##Titel" without the space CommonMark needs is a heading too in many converters' output
    return re.sub(r"(?m)^#{1,6}(?=\S)", "", text)


def _check_size(path: Path, text: str, limit: int) -> None:
    if len(text) > limit:
        raise UnreadableDocument(path, f"{len(text):,} characters of text, more than the {limit:,} accepted "
                                       "per file; split it into smaller files")


def read_text(path: Path) -> list[Page]:
    """Pages of a .txt, .md or .html file."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise UnreadableDocument(path, f"file of {size} bytes is larger than the {MAX_BYTES} accepted")
    text = decode(path, path.read_bytes())
    suffix = path.suffix.lower()
    is_html = suffix in (".html", ".htm")
    _check_size(path, text, MAX_CHARS * (5 if is_html else 1))  # markup is mostly not text
    if is_html:
        text = html_to_text(text)
        _check_size(path, text, MAX_CHARS)
    elif suffix in (".md", ".markdown"):
        text = markdown_to_text(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    pages = [p for p in text.split("\f")]
    if not any(p.strip() for p in pages):
        raise UnreadableDocument(path, "no text in file")
    # Blank lines separate paragraphs in text files; keep them as the paragraph signal.
    return [Page(number=i + 1, label=str(i + 1), text=p) for i, p in enumerate(pages)]
