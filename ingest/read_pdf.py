"""PDF → pages with printed page labels, through pypdf.

Labels come from the PDF's /PageLabels when present; else from printed numbers in running
headers/footers, carried by offset to pages without one; else the PDF page number.
Scanned pages (no usable text layer) are read by OCR when a PageScanner is given (ingest.scan);
their text then takes part in running-line and page-number detection like any other page.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PyPdfError

from retriever.errors import UnreadableDocument
from retriever.types import Page

from .running_lines import RunningLines, find_running_lines, labels_from_printed

if TYPE_CHECKING:
    from .scan import PageScanner

MAX_PAGES = 5000
# Text per PDF (about a thousand dense printed pages); the same cap as ingest.read_text.MAX_CHARS.
MAX_CHARS = 3_000_000
# Pages with less text than this are counted as having no text layer.
_MIN_CHARS = 20

logging.getLogger("pypdf").setLevel(logging.ERROR)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _open(path: Path) -> PdfReader:
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            # An owner-password-only PDF opens with the empty password.
            try:
                if not reader.decrypt(""):
                    raise UnreadableDocument(path, "encrypted PDF (a password is needed); save an unprotected copy")
            except (FileNotDecryptedError, NotImplementedError, PyPdfError) as e:
                raise UnreadableDocument(path, f"encrypted PDF that cannot be opened ({e})") from e
        n = len(reader.pages)
    except UnreadableDocument:
        raise
    except FileNotDecryptedError as e:
        raise UnreadableDocument(path, "encrypted PDF (a password is needed)") from e
    except Exception as e:  # noqa: BLE001 - pypdf raises many types on damaged files; all mean "unreadable"
        raise UnreadableDocument(path, f"corrupt or truncated PDF ({type(e).__name__}: {e})") from e
    if n == 0:
        raise UnreadableDocument(path, "PDF has no pages")
    if n > MAX_PAGES:
        raise UnreadableDocument(path, f"PDF has {n} pages, more than the {MAX_PAGES} accepted")
    return reader


def clean_surrogates(text: str) -> str:
    """Text without lone UTF-16 surrogates (broken ToUnicode maps make them; Chroma and the tokenizer
    refuse them): pairs become their character, lone halves U+FFFD."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _has_page_labels(reader: PdfReader) -> bool:
    try:
        return "/PageLabels" in reader.trailer["/Root"]
    except Exception:  # noqa: BLE001 - a damaged catalog just means no labels
        return False


def read_pdf(path: Path, *, scanner: PageScanner | None = None) -> tuple[list[Page], RunningLines]:
    """Pages of a PDF (1-based numbers, printed labels, raw text) and its running lines.

    With a `scanner`, scanned pages are OCR'd (their Page carries `ocr_confidence`). Raises
    UnreadableDocument for encrypted, corrupt or empty PDFs, and for image-only PDFs whose pages
    could not be OCR'd.
    """
    reader = _open(path)
    texts: list[str] = []
    errors: list[str] = []
    total = 0
    for i, page in enumerate(reader.pages):
        try:
            text = clean_surrogates(page.extract_text() or "")
        except Exception as e:  # noqa: BLE001 - one broken page (any parser error) must not lose the file
            errors.append(f"{type(e).__name__}: {e}")
            logging.getLogger(__name__).warning("%s: page %d unreadable (%s)", path, i + 1, errors[-1])
            text = ""
        total += len(text)
        if total > MAX_CHARS:
            raise UnreadableDocument(path, f"more than {MAX_CHARS:,} characters of text (by page {i + 1}); "
                                           "split it into smaller files")
        texts.append(text)
    if len(errors) == len(texts):
        raise UnreadableDocument(path, f"corrupt PDF: no page could be read ({errors[0][:200]})")
    scanned = scanner.read(path, texts) if scanner is not None else {}
    for number, ocr_page in scanned.items():
        texts[number - 1] = ocr_page.text
    for number in scanner.left_out if scanner is not None else ():
        texts[number - 1] = ""  # a junk layer over a scan must not be indexed either
    if sum(len(t.strip()) for t in texts) < _MIN_CHARS * max(1, len(texts) // 10):
        if scanned:
            raise UnreadableDocument(path, f"scanned PDF: OCR found no text on its {len(scanned)} scanned page(s)")
        raise UnreadableDocument(path, "PDF has no text layer (scanned images only); it needs OCR: "
                                       "set RODEDRAAD_OCR=auto and install tesseract-ocr (see README)")
    running = find_running_lines(texts)
    labels = None
    if _has_page_labels(reader):
        try:
            labels = list(reader.page_labels)
        except Exception:  # noqa: BLE001 - damaged labels: fall back to printed numbers
            labels = None
    if labels is None or len(labels) != len(texts):
        labels = labels_from_printed(running.printed)
    pages = [Page(number=i + 1, label=labels[i], text=t,
                  ocr_confidence=round(scanned[i + 1].mean_confidence, 1) if i + 1 in scanned else None)
             for i, t in enumerate(texts)]
    return pages, running
