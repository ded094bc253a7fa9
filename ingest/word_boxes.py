"""Word boxes of OCR'd pages, kept beside the index so a page view can highlight a passage.

One JSON file per OCR'd page: `<dir>/<doc_id>/page-<n>.json` (n = 1-based PDF page), written by
ingestion and replaced whole when the document is re-ingested:

    {"doc_id": "woo1-171080", "page": 3, "page_label": "3",
     "width": 595.3, "height": 841.9,          # page size in PDF points
     "engine": "tesseract 5.3.0 nld+eng 300dpi", "min_confidence": 50.0, "mean_confidence": 91.2,
     "words": [["Geachte", 96.1, 72.0, 101.2, 121.4, 111.9, 1], ...]}

Each word is [text, confidence 0-100, x0, y0, x1, y1, kept]: the box in PDF points from the page's
top-left corner (multiply by dpi/72 for a rendering), kept 0 for a word left out of the text (low
confidence, touching a redaction bar, a stray rule).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from .ocr import OcrPage


def document_dir(root: Path, doc_id: str) -> Path:
    return root / doc_id.replace("/", "_")


def write_word_boxes(root: Path, doc_id: str, pages: dict[int, OcrPage], labels: dict[int, str], *,
                     engine: str, min_confidence: float) -> None:
    """Replace the stored word boxes of `doc_id` with those of `pages`."""
    folder = document_dir(root, doc_id)
    forget_word_boxes(root, doc_id)
    if not pages:
        return
    folder.mkdir(parents=True, exist_ok=True)
    for number, page in sorted(pages.items()):
        record = {
            "doc_id": doc_id, "page": number, "page_label": labels.get(number, str(number)),
            "width": round(page.width, 1), "height": round(page.height, 1), "engine": engine,
            "min_confidence": min_confidence, "mean_confidence": round(page.mean_confidence, 1),
            "words": [[w.text, w.confidence, *w.box, int(w.kept)] for w in page.words],
        }
        tmp = folder / f".page-{number}.json.tmp"
        tmp.write_text(json.dumps(record, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        tmp.replace(folder / f"page-{number}.json")


def read_word_boxes(root: Path, doc_id: str, page: int) -> dict | None:
    """The stored record of one page, or None when that page was not OCR'd."""
    path = document_dir(root, doc_id) / f"page-{page}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def forget_word_boxes(root: Path, doc_id: str) -> None:
    """Remove every stored page of `doc_id`."""
    shutil.rmtree(document_dir(root, doc_id), ignore_errors=True)
