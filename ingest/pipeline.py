"""The ingestion job: files → pages → paragraphs → chunks → the index.

    >>> report = ingest([Path("corpus")], index=index, normalise=Normaliser())
    >>> report.summary()["added"]

Incremental: a file whose bytes, catalog entry and chunking settings are unchanged
(ingest.fingerprint) is not even parsed; a run with nothing to write at all is recognised before
the index is opened (ingest.unchanged). A bad file is named in the report with its reason and the rest goes on. Scanned PDF pages
are OCR'd (ingest.scan) with their own progress bar and per-page limit; the file's parse limit
does not count OCR time.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from pypdf import PdfReader
from tqdm import tqdm

from retriever.errors import UnreadableDocument
from retriever.types import Chunk, FileOutcome, IngestReport, Page

from . import fingerprint as fingerprints
from .catalog import describe, doc_id_for, load_catalog
from .chunk import chunk_paragraphs
from .clean import page_paragraphs
from .discover import SUPPORTED, discover, name_problem
from .ocr import MIN_CONFIDENCE
from .read_pdf import clean_surrogates, read_pdf
from .read_text import read_text
from .scan import OcrMode, PageScanner, mark_ocr_chunks
from .word_boxes import forget_word_boxes, write_word_boxes

if TYPE_CHECKING:  # the index (Chroma, LangChain) is imported by whoever opens it, not here
    from retriever.index import ReportIndex

__all__ = ["SUPPORTED", "chunk_file", "discover", "ingest", "read_pages"]

log = logging.getLogger(__name__)

# A file whose reading and chunking takes longer than this is reported, not waited for (main thread only).
READ_SECONDS = 300.0


# What a file that is not a PDF starts with, for a clear reason when one is named .pdf.
_SIGNATURES = ((b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
               (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"),
               (b"PK\x03\x04", "a ZIP archive or Office document"), (b"\xd0\xcf\x11\xe0", "an old Office document"),
               (b"{\\rtf", "an RTF document"))


def _not_a_pdf(head: bytes) -> str:
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            return what
    low = head.lstrip()[:200].lower()
    if low.startswith((b"<!doctype html", b"<html")):
        return "a web page (HTML)"
    return "something else (no %PDF- header in its first 1024 bytes)"


def read_pages(path: Path, scanner: PageScanner | None = None) -> tuple[list[Page], Callable[[str], bool], dict]:
    """Pages of a supported file, a running-line test, and file metadata; `scanner` OCRs scanned PDF pages."""
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise UnreadableDocument(path, "empty file (0 bytes)")
    if suffix == ".pdf":
        with path.open("rb") as f:
            head = f.read(1024)
        if b"%PDF-" not in head:  # readers accept the header anywhere in the first 1024 bytes
            raise UnreadableDocument(path, f"a .pdf file that is {_not_a_pdf(head)}, not a PDF")
        pages, running = read_pdf(path, scanner=scanner)
        meta = {}
        try:
            m = PdfReader(path).metadata or {}
            meta = {k: clean_surrogates(str(m.get(key) or "")).strip()
                    for k, key in (("title", "/Title"), ("author", "/Author"))}
        except Exception:  # metadata is optional; a broken info dict must not fail the file
            meta = {}
        return pages, running.is_running, meta
    if suffix in SUPPORTED:
        with path.open("rb") as f:
            if f.read(5) == b"%PDF-":
                raise UnreadableDocument(path, f"a PDF file with a {suffix} extension; rename it to .pdf")
        return read_text(path), lambda _l: False, {}
    raise UnreadableDocument(path, f"unsupported file type {suffix or '(none)'}; supported: {', '.join(sorted(SUPPORTED))}")


class _ReadTimeout(BaseException):
    """Raised by the alarm; a BaseException so that parsers' `except Exception` cannot swallow it."""


@contextmanager
def time_limit(path: Path, seconds: float):
    """Turn a parse that runs past `seconds` into UnreadableDocument (SIGALRM; a no-op off the main thread)."""
    if seconds <= 0 or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def alarm(_signum, _frame):
        raise _ReadTimeout()

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _ReadTimeout:
        raise UnreadableDocument(path, f"reading took longer than {seconds:.0f} s; the file is too complex or "
                                       "damaged") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def paused_time_limit():
    """Stop time_limit's clock while the body runs: OCR has its own limit per page, and a 500-page
    scan must not hit the limit meant for a parser that hangs."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return
    remaining, _interval = signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        yield
    finally:
        if remaining > 0:
            signal.setitimer(signal.ITIMER_REAL, remaining)


def chunk_file(path: Path, entry: dict | None, *, doc_id: str, target_tokens: int, max_tokens: int,
               count_tokens: Callable[[str], int], normalise: Callable[[str], str],
               tag_themes: Callable[[str], tuple[str, ...]],
               scanner: PageScanner | None = None) -> tuple[list[Page], list[Chunk]]:
    """Read, clean and chunk one file (OCR'ing scanned PDF pages with `scanner`)."""
    pages, is_running, meta = read_pages(path, scanner)
    doc = describe(path, pages, {**(entry or {}), "doc_id": doc_id}, meta)
    paragraphs = [para for p in pages for para in page_paragraphs(p.text, p.number, is_running)]
    chunks = chunk_paragraphs(doc, pages, paragraphs, target_tokens=target_tokens, max_tokens=max_tokens,
                              count_tokens=count_tokens, normalise=normalise, tag_themes=tag_themes)
    if scanner is not None and scanner.pages:
        chunks = mark_ocr_chunks(chunks, {n: p for n, p in scanner.pages.items() if not p.error})
    if not chunks:
        raise UnreadableDocument(path, "no text found to index")
    return pages, chunks


def ingest(paths: Iterable[Path], *, index: ReportIndex, normalise: Callable[[str], str],
           tag_themes: Callable[[str], tuple[str, ...]] = lambda _t: (), chunk_tokens: int = 320,
           prune: bool = False, progress: bool = True, ocr: OcrMode = "auto",
           ocr_boxes_dir: Path | None = None,
           on_file: Callable[[FileOutcome], None] | None = None) -> IngestReport:
    """Bring the index in line with the files under `paths`; returns what happened per file.

    `ocr` "auto" reads scanned PDF pages with Tesseract (a file that needs it fails by name when
    Tesseract is missing), "off" leaves them out. The word boxes of OCR'd pages go to
    `ocr_boxes_dir` (ingest.word_boxes) when given. `on_file`, when given, is called with each
    file's outcome as soon as that file is done (progress for a long run).
    """
    started = time.perf_counter()
    records = index.records
    assert records is not None, "open the index with create=True"
    report = IngestReport()

    def done(outcome: FileOutcome) -> None:
        report.files.append(outcome)
        if on_file is not None:
            on_file(outcome)

    files, problems = discover(paths)
    for problem in problems:
        done(problem)
    max_tokens = index.embedder.max_tokens
    settings_key = fingerprints.settings_key(embedder_name=index.embedder.name, chunk_tokens=chunk_tokens,
                                             themes_version=getattr(tag_themes, "version", ""), ocr=ocr)
    recipe = fingerprints.vector_recipe(index.embedder.name)
    known = records.files()
    used_ids = {v: k for k, v in known.items()}
    changed = False
    bar = tqdm(files, unit="file", disable=not progress, desc="ingest", dynamic_ncols=True)
    for path in bar:
        key = str(path)
        catalog = load_catalog(path.parent)
        entry = catalog.get(path.name)
        doc_id = known.get(key) or (entry or {}).get("doc_id") or doc_id_for(path)
        if used_ids.get(doc_id, key) != key:
            doc_id = f"{doc_id}-{path.suffix.lstrip('.').lower() or 'file'}"
        used_ids[doc_id] = key
        problem = name_problem(path)
        if problem:
            done(FileOutcome(os.fsencode(path).decode("utf-8", "backslashreplace"), "failed",
                                            doc_id, reason=problem))
            continue
        scanner = PageScanner(ocr, progress=progress, pause=paused_time_limit)
        try:
            fp, sha256 = fingerprints.fingerprint(path, entry, settings_key)
            state = records.file_state(key)
            if state and state[1] == fp:
                if records.file_sha256(key) != sha256:  # recorded before file hashes were kept
                    records.set_file_state(key, *state, sha256=sha256)
                done(FileOutcome(key, "unchanged", state[0], state[2], state[3]))
                continue
            with time_limit(path, READ_SECONDS):
                pages, chunks = chunk_file(path, entry, doc_id=doc_id, target_tokens=chunk_tokens,
                                           max_tokens=max_tokens, count_tokens=index.embedder.count_tokens,
                                           normalise=normalise, tag_themes=tag_themes, scanner=scanner)
        except UnreadableDocument as e:
            done(FileOutcome(key, "failed", doc_id, reason=e.reason, ocr_seconds=scanner.seconds))
            continue
        except Exception as e:  # noqa: BLE001 - any parser failure fails this file only; the run goes on
            log.debug("%s failed", key, exc_info=True)
            done(FileOutcome(key, "failed", doc_id, reason=f"{type(e).__name__}: {e}",
                                            ocr_seconds=scanner.seconds))
            continue
        bar.set_postfix_str(f"{path.name[:30]} {len(pages)}p {len(chunks)}c")
        result = index.write_document(doc_id, chunks, recipe=recipe)
        read_by_ocr = {n: p for n, p in scanner.pages.items() if not p.error}
        if ocr_boxes_dir is not None:
            write_word_boxes(ocr_boxes_dir, doc_id, read_by_ocr, {p.number: p.label for p in pages},
                             engine=scanner.engine_version, min_confidence=MIN_CONFIDENCE)
        note = ""
        if scanner.failed_pages:  # the rest of the file is worth having; say what is missing
            note = "OCR left out page(s) " + ", ".join(
                f"{n} ({scanner.pages[n].error})" for n in scanner.failed_pages)
        # Only now is the file done: a run killed before this line redoes it.
        records.set_file_state(key, doc_id, fp, len(pages), len(chunks), sha256)
        changed = changed or result.added > 0 or result.deleted > 0 or result.retagged > 0 or result.reembedded > 0
        report.chunks_added += result.added
        report.chunks_deleted += result.deleted
        report.chunks_retagged += result.retagged
        report.chunks_reembedded += result.reembedded
        done(FileOutcome(key, "updated" if state else "added", doc_id, len(pages), len(chunks),
                                        reason=note, ocr_pages=len(read_by_ocr), ocr_seconds=scanner.seconds))
    if prune:
        for key, doc_id in known.items():
            if not Path(key).exists():
                report.chunks_deleted += index.remove_document(doc_id)
                if ocr_boxes_dir is not None:
                    forget_word_boxes(ocr_boxes_dir, doc_id)
                records.forget_file(key)
                done(FileOutcome(key, "removed", doc_id))
                changed = True
    if changed:
        index.touch()
    report.seconds = time.perf_counter() - started
    return report
