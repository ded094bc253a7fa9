"""A passage's page, highlighted: find the passage's file and words, draw, cache.

    >>> views = PageViews(passages=lookup, sources=SourceFiles(data_dir=d, collection="rodedraad"),
    ...                   cache=PageCache(d / "pages"))
    >>> image = views.page_image(chunk_id, width=800)
    >>> image.pages, image.highlight          # (5, 6) for a passage running onto page 6

A cached page is served after a cheap check of the file (size and modification time, hashed again
when either changed); a page drawn afresh is drawn from bytes hashed as they were read.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import pypdfium2 as pdfium

from retriever.errors import NoPages, RodeDraadError
from retriever.passages import PassageLookup
from retriever.sources import SourceFile, SourceFiles
from retriever.types import Passage

from .cache import PageCache, PageKey, PageMeta
from .locate import Span, locate
from .render import DEFAULT_WIDTH, PDFIUM_LOCK, RENDERER_VERSION, WIDTHS, render_png
from .words import Rect, Word, page_words, text_keys

log = logging.getLogger(__name__)
# Passage words left over after its page before the next page is searched for the rest.
_SPILL_WORDS = 3


class UnknownWidth(RodeDraadError):
    """A page width that is not one of the fixed ones."""

    status_code = 400


@dataclass(frozen=True)
class PageImage:
    """One highlighted page of a passage."""

    png: bytes
    page: int
    pages: tuple[int, ...]
    highlight: tuple[float, float] | None
    cached: bool


@dataclass(frozen=True)
class PassagePlace:
    """Where a passage's words are: PDF page number → the boxes of its words there."""

    boxes: dict[int, list[Rect]]

    @property
    def pages(self) -> tuple[int, ...]:
        return tuple(sorted(self.boxes))


def check_width(width: int | None) -> int:
    """The width asked for, when it is one of WIDTHS (the default when none is asked for)."""
    if width is None:
        return DEFAULT_WIDTH
    if width not in WIDTHS:
        raise UnknownWidth(f"width {width} is not offered; choose one of {', '.join(map(str, WIDTHS))}")
    return width


def _boxes(words: list[Word], span: Span) -> list[Rect]:
    return [box for w in words[span.start:span.end] for box in w.boxes]


def place_passage(pdf, passage: Passage) -> PassagePlace:
    """The boxes of a passage's words on its page and, when it runs on, the next (under PDFIUM_LOCK).
    A passage that cannot be found on its page has no boxes: its page is still shown."""
    keys = text_keys(passage.text)
    words = page_words(pdf[passage.page - 1].get_textpage())
    span = locate([w.key for w in words], keys)
    if span is None:
        log.info("passage %s not found on its page %d", passage.chunk_id, passage.page)
        return PassagePlace({passage.page: []})
    place = {passage.page: _boxes(words, span)}
    if len(keys) - span.rest >= _SPILL_WORDS and passage.page < len(pdf):
        rest = keys[span.rest:]
        next_words = page_words(pdf[passage.page].get_textpage())
        more = locate([w.key for w in next_words], rest)
        if more is not None and more.first <= _SPILL_WORDS:  # the rest must start where this page stopped
            place[passage.page + 1] = _boxes(next_words, more)
    return PassagePlace(place)


class PageViews:
    """The highlighted pages of passages, and the checked original files."""

    def __init__(self, *, passages: PassageLookup, sources: SourceFiles, cache: PageCache) -> None:
        self.passages = passages
        self.sources = sources
        self.cache = cache

    def cached_image(self, chunk_id: str, *, width: int | None = None, page: int | None = None) -> PageImage | None:
        """The page from the disk cache, or None when it must be drawn (quick: no pdfium)."""
        _passage, _source, key = self._key(chunk_id, width, page)
        hit = self.cache.get(key)
        if hit is None:
            return None
        return PageImage(hit[0], key.page, hit[1].pages, hit[1].highlight, cached=True)

    def page_image(self, chunk_id: str, *, width: int | None = None, page: int | None = None) -> PageImage:
        """The passage's page (or `page`, the next one it runs onto) as a highlighted PNG."""
        hit = self.cached_image(chunk_id, width=width, page=page)
        if hit is not None:
            return hit
        passage, _source, key = self._key(chunk_id, width, page)
        checked = self.sources.read(passage.doc_id)  # the bytes drawn are the bytes hashed
        key = replace(key, file_sha256=checked.source.sha256)  # the same, unless re-ingested just now
        with PDFIUM_LOCK:
            pdf = pdfium.PdfDocument(checked.data)
            try:
                if not 1 <= passage.page <= len(pdf):
                    raise NoPages(f"passage {chunk_id!r} names PDF page {passage.page}, but the file has {len(pdf)}")
                place = place_passage(pdf, passage)
                if key.page not in place.pages:
                    raise NoPages(f"passage {chunk_id!r} lies on PDF page {' and '.join(map(str, place.pages))}, "
                                  f"not on page {key.page}")
                drawn = render_png(pdf[key.page - 1], width=key.width, boxes=place.boxes[key.page])
            finally:
                pdf.close()
        self.cache.put(key, drawn.png, PageMeta(place.pages, drawn.highlight))
        return PageImage(drawn.png, key.page, place.pages, drawn.highlight, cached=False)

    def _key(self, chunk_id: str, width: int | None, page: int | None) -> tuple[Passage, SourceFile, PageKey]:
        """The passage, its checked file, and the cache key of the page asked for."""
        width = check_width(width)
        passage = self.passages.passage(chunk_id)
        source = self.sources.check(passage.doc_id)
        if not source.has_pages:
            raise NoPages(f"document {passage.doc_id!r} is a {source.path.suffix.lstrip('.') or 'text'} file "
                          "without pages; read the passage in its text")
        return passage, source, PageKey(passage.chunk_id, page or passage.page, width, source.sha256, RENDERER_VERSION)
