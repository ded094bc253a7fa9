"""Paragraphs → chunks: by section and paragraph, sized in the embedding model's tokens.

A chunk never crosses a page (its citation names one page) and never exceeds the model's limit.
A passage id hashes its document id and its text only: page, section, page label, themes and the
catalog fields are metadata, updated in place (retriever.index), so editing them breaks no link.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable

from retriever.types import Chunk, DocumentInfo, Page

from .clean import Paragraph

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\u00C0-\u024F“‘(\d])")


def chunk_id(doc_id: str, text: str) -> str:
    """Stable id: same document and text → same id, whatever is said about the text."""
    h = hashlib.sha256("\x1f".join([doc_id, text]).encode()).hexdigest()
    return h[:32]


def _split_long(text: str, limit: int, count: Callable[[str], int]) -> list[str]:
    """Split a paragraph over the limit at sentences, then at words."""
    pieces: list[str] = []
    cur = ""
    for sent in _SENTENCE.split(text):
        cand = f"{cur} {sent}".strip()
        if count(cand) <= limit:
            cur = cand
            continue
        if cur:
            pieces.append(cur)
        if count(sent) <= limit:
            cur = sent
            continue
        words, cur = sent.split(), ""
        for w in words:
            cand = f"{cur} {w}".strip()
            if count(cand) > limit and cur:
                pieces.append(cur)
                cur = w
            else:
                cur = cand
    if cur:
        pieces.append(cur)
    return pieces


def chunk_paragraphs(
    doc: DocumentInfo,
    pages: list[Page],
    paragraphs: Iterable[Paragraph],
    *,
    target_tokens: int,
    max_tokens: int,
    count_tokens: Callable[[str], int],
    normalise: Callable[[str], str],
    tag_themes: Callable[[str], tuple[str, ...]] = lambda _t: (),
) -> list[Chunk]:
    """Pack paragraphs into chunks of about target_tokens, within one page and section."""
    target = min(target_tokens, max_tokens - 16)
    hard = max_tokens - 16  # room for the model's prefix and special tokens
    labels = {p.number: p.label for p in pages}
    chunks: list[Chunk] = []
    section_stack: list[tuple[str, str]] = []  # (number, heading line)
    buf: list[str] = []
    buf_tokens = 0
    buf_page = 0

    def section() -> str:
        return section_stack[-1][1] if section_stack else ""

    def section_path() -> str:
        return " › ".join(h for _n, h in section_stack)

    def emit() -> None:
        nonlocal buf, buf_tokens
        if not buf:
            return
        text = "\n\n".join(buf)
        sec = section()
        themes = tag_themes(f"{sec}\n{text}")
        cid = chunk_id(doc.doc_id, text)
        path = section_path()
        chunks.append(Chunk(chunk_id=cid, doc=doc, text=text, search_text=normalise(f"{path}\n{text}"),
                            page=buf_page, page_label=labels[buf_page], section=sec,
                            position=len(chunks), themes=themes, context=path))
        buf, buf_tokens = [], 0

    for para in paragraphs:
        if para.heading:
            emit()
            depth = para.heading.count(".") + 1
            section_stack = [s for s in section_stack if s[0].count(".") + 1 < depth]
            section_stack.append((para.heading, para.text))
            continue
        if buf and para.page != buf_page:
            emit()
        buf_page = para.page
        n = count_tokens(para.text)
        parts = [para.text] if n <= hard else _split_long(para.text, target, count_tokens)
        for part in parts:
            k = n if len(parts) == 1 else count_tokens(part)
            if buf and buf_tokens + k > target:
                # A list's lead-in ("… zijn de volgende:") belongs with its items: carry it over.
                carried = [buf.pop()] if len(buf) > 1 and buf[-1].rstrip().endswith(":") else []
                emit()
                buf = carried
                buf_tokens = sum(count_tokens(t) for t in carried)
            buf.append(part)
            buf_tokens += k
    emit()
    # Ids must be unique inside a document even if a page repeats a paragraph verbatim.
    seen: dict[str, int] = {}
    out = []
    for c in chunks:
        if c.chunk_id in seen:
            seen[c.chunk_id] += 1
            c = Chunk(**{**c.__dict__, "chunk_id": chunk_id(c.chunk_id, f"#{seen[c.chunk_id]}")})
        else:
            seen[c.chunk_id] = 0
        out.append(c)
    return out
