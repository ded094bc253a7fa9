"""Tesseract OCR of one PDF page: render it, read its words with boxes and confidences, keep the
words that can be trusted, and build the page text from them.

    >>> engine = TesseractEngine()              # raises NeedsOcr when Tesseract or its Dutch model is missing
    >>> page = engine.read(pdf_page, number=3)  # a pypdfium2 page
    >>> page.text, page.mean_confidence, page.words[0].box

Tesseract runs as a child process per page (`tesseract stdin stdout tsv`): a page that runs past
its time limit is killed, and no OCR state lives in our process (nor ever in the server's).
Words are dropped when Tesseract's confidence is under MIN_CONFIDENCE (measured, see
benchmarks/ocr_cutoff.py and the README) or when they touch a redaction bar (a solid dark area).
"""
from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

LANGUAGES = "nld+eng"
# 300 dpi: the resolution Tesseract is trained for; at 200 dpi word accuracy on our reports fell (README).
DPI = 300
MAX_DPI = 600  # a finer scan is read at this (Tesseract gains nothing, and time and memory grow)
PAGE_SECONDS = 120.0
# Words under this Tesseract confidence (0-100) are dropped. Measured (benchmarks/ocr_cutoff.py, 12,449
# words of report pages as clean and as poor scans, and of Woo scans): words at 60-70 were right 40 %
# of the time, at 70-80 63 %; cutting at 70 drops 1111 more wrong words than right ones (README).
MIN_CONFIDENCE = 70.0
NEEDS_OCR = "needs OCR: install tesseract-ocr and tesseract-ocr-nld (see README)"

# A "bar" is a solid dark area at least BAR_CELLS x BAR_CELLS cells of BAR_CELL_MM: no glyph stroke
# is that thick, so only redaction bars, black boxes and dark photos qualify.
_BAR_CELL_MM = 0.7
_BAR_CELLS = 3
_DARK = 128          # grey level under which a pixel counts as ink
_SOLID = 0.85        # share of dark pixels that makes a cell solid
# Tokens made only of these are rules, table borders and specks, not words.
_NOT_WORDS = set("|¦_~=^°")


class NeedsOcr(Exception):
    """Tesseract (or its Dutch model) is not installed; the message says what to install."""


@dataclass(frozen=True)
class OcrWord:
    """One word Tesseract read: its text, confidence (0-100), box in PDF points from the page's
    top-left corner (x0, y0, x1, y1), its line (block, paragraph, line) and whether it was kept."""

    text: str
    confidence: float
    box: tuple[float, float, float, float]
    line: tuple[int, int, int]
    kept: bool = True


@dataclass(frozen=True)
class OcrPage:
    """The OCR of one page: text built from the kept words, every word read, and the page size."""

    number: int
    text: str
    words: tuple[OcrWord, ...]
    width: float   # PDF points
    height: float
    seconds: float
    error: str = ""  # why the page has no OCR text (time limit, Tesseract failure)

    @property
    def kept(self) -> list[OcrWord]:
        return [w for w in self.words if w.kept]

    @property
    def mean_confidence(self) -> float:
        """Mean confidence of the kept words (0 when none)."""
        kept = self.kept
        return sum(w.confidence for w in kept) / len(kept) if kept else 0.0


@lru_cache(maxsize=4)
def _find_tesseract(path_env: str) -> tuple[str, str]:
    """(binary, version) of a Tesseract with the Dutch and English models on PATH; raises NeedsOcr."""
    binary = shutil.which("tesseract", path=path_env)
    if not binary:
        raise NeedsOcr(NEEDS_OCR)
    try:
        langs = subprocess.run([binary, "--list-langs"], capture_output=True, text=True, timeout=30).stdout
        version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise NeedsOcr(f"{NEEDS_OCR}; tesseract did not run ({e})") from e
    installed = set(langs.split())
    missing = [lang for lang in LANGUAGES.split("+") if lang not in installed]
    if missing:
        raise NeedsOcr(f"{NEEDS_OCR}; missing language model(s): {', '.join(missing)}")
    return binary, (version.splitlines() or ["tesseract"])[0].strip()


def tesseract_version() -> str:
    """'tesseract 5.3.0' when usable OCR is installed; raises NeedsOcr otherwise."""
    return _find_tesseract(os.environ.get("PATH", os.defpath))[1]


def bar_mask(gray: np.ndarray, dpi: int) -> np.ndarray:
    """Boolean mask (in cells) of solid dark areas: redaction bars, black boxes.

    Returns the mask at cell resolution (cells of _BAR_CELL_MM).
    """
    cell = max(2, round(_BAR_CELL_MM / 25.4 * dpi))
    h, w = gray.shape[0] // cell, gray.shape[1] // cell
    if h < _BAR_CELLS or w < _BAR_CELLS:
        return np.zeros((max(h, 1), max(w, 1)), dtype=bool)
    dark = gray[: h * cell, : w * cell] < _DARK
    solid = dark.reshape(h, cell, w, cell).mean(axis=(1, 3)) >= _SOLID
    k = _BAR_CELLS
    # opening (erode then dilate by a k x k square): keeps only solid areas at least k cells each way
    eroded = np.ones((h - k + 1, w - k + 1), dtype=bool)
    for dy in range(k):
        for dx in range(k):
            eroded &= solid[dy:dy + h - k + 1, dx:dx + w - k + 1]
    bars = np.zeros((h, w), dtype=bool)
    for dy in range(k):
        for dx in range(k):
            bars[dy:dy + h - k + 1, dx:dx + w - k + 1] |= eroded
    # Grown by one cell up and down and two sideways (about a word space): the remains of a word
    # clipped by a bar touch it.
    grown = bars.copy()
    grown[1:, :] |= bars[:-1, :]
    grown[:-1, :] |= bars[1:, :]
    wide = grown.copy()
    for d in (1, 2):
        wide[:, d:] |= grown[:, :-d]
        wide[:, :-d] |= grown[:, d:]
    return wide


def _touches(mask: np.ndarray, cell: int, left: int, top: int, width: int, height: int) -> bool:
    y0, x0 = top // cell, left // cell
    y1, x1 = (top + height) // cell + 1, (left + width) // cell + 1
    return bool(mask[y0:y1, x0:x1].any())


def _is_word(text: str) -> bool:
    return any(ch not in _NOT_WORDS for ch in text)


def page_text(words: list[OcrWord]) -> str:
    """Kept words as lines (Tesseract's reading order), a blank line between paragraphs."""
    out: list[str] = []
    line: list[str] = []
    current: tuple[int, int, int] | None = None
    for w in words:
        if not w.kept:
            continue
        if current is not None and w.line != current:
            out.append(" ".join(line))
            if w.line[:2] != current[:2]:
                out.append("")
            line = []
        line.append(w.text)
        current = w.line
    if line:
        out.append(" ".join(line))
    return "\n".join(out)


class TesseractEngine:
    """OCR for PDF pages with the installed Tesseract (Dutch + English models).

    Construct it only when a page needs OCR: the constructor checks the installation and raises
    NeedsOcr with what to install.
    """

    def __init__(self, *, languages: str = LANGUAGES, dpi: int = DPI, page_seconds: float = PAGE_SECONDS,
                 min_confidence: float = MIN_CONFIDENCE) -> None:
        self.binary, self.version = _find_tesseract(os.environ.get("PATH", os.defpath))
        self.languages = languages
        self.dpi = dpi
        self.page_seconds = page_seconds
        self.min_confidence = min_confidence

    def read(self, page, number: int) -> OcrPage:
        """OCR one pypdfium2 page (1-based `number`); a page past the time limit comes back empty
        with `error` set, so one bad page does not lose the file."""
        started = time.perf_counter()
        width, height = page.get_size()
        scale = self._scale(page, width, height)
        image = page.render(scale=scale, grayscale=True).to_pil()
        try:
            rows = self._tsv(image, dpi=round(scale * 72))
        except subprocess.TimeoutExpired:
            return OcrPage(number, "", (), width, height, time.perf_counter() - started,
                           error=f"OCR took longer than {self.page_seconds:.0f} s")
        except (OSError, subprocess.CalledProcessError) as e:
            return OcrPage(number, "", (), width, height, time.perf_counter() - started,
                           error=f"tesseract failed ({e})")
        gray = np.asarray(image, dtype=np.uint8)
        del image
        words = self._words(rows, gray, width / gray.shape[1], dpi=round(scale * 72))
        return OcrPage(number, page_text(words), tuple(words), width, height, time.perf_counter() - started)

    def read_image(self, image) -> list[OcrWord]:
        """The words of a PIL image at this engine's dpi (boxes in points); for measurements."""
        gray = np.asarray(image.convert("L"), dtype=np.uint8)
        return self._words(self._tsv(image, dpi=self.dpi), gray, 72 / self.dpi, dpi=self.dpi)

    def _scale(self, page, width: float, height: float) -> float:
        """Render scale: a page that is one scanned picture of DPI or more is rendered at the picture's
        own resolution (up to MAX_DPI), pixel for pixel; resampling it blurred small print enough to
        lose words. Anything else at DPI."""
        import pypdfium2 as pdfium

        best, best_area = None, 0.0
        for obj in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE], max_depth=4):
            left, bottom, right, top = obj.get_bounds()
            area = (right - left) * (top - bottom)
            if area > best_area:
                best, best_area = (obj, right - left, top - bottom), area
        if best is None or best_area < 0.9 * width * height:
            return self.dpi / 72
        obj, w_pt, h_pt = best
        try:
            px_w, px_h = obj.get_px_size()
        except Exception:  # noqa: BLE001 - an image pdfium cannot measure: the default resolution
            return self.dpi / 72
        native = px_w / w_pt * 72
        if abs(px_h / h_pt * 72 - native) > 0.02 * native or native < 0.98 * self.dpi:
            return self.dpi / 72  # rotated or stretched, or a coarse scan: resample to DPI
        # pdfium rounds the bitmap size up: aim half a pixel under so it comes out at px_w exactly
        return min(native, MAX_DPI) / 72 if native > MAX_DPI else (px_w - 0.5) / w_pt

    def _tsv(self, image, *, dpi: int) -> list[dict]:
        buf = io.BytesIO()
        image.save(buf, format="PNG", compress_level=1)
        # One thread: Tesseract's OpenMP threads made a page 4x slower on our 2 shared cores (README).
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        p = subprocess.run([self.binary, "stdin", "stdout", "-l", self.languages, "--psm", "3",
                            "--dpi", str(dpi), "tsv"], input=buf.getvalue(), capture_output=True,
                           timeout=self.page_seconds, env=env, check=True)
        text = p.stdout.decode("utf-8", "replace")
        return list(csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))

    def _words(self, rows: list[dict], gray: np.ndarray, points_per_pixel: float, *, dpi: int) -> list[OcrWord]:
        mask = bar_mask(gray, dpi)
        cell = max(2, round(_BAR_CELL_MM / 25.4 * dpi))
        words = []
        for r in rows:
            text = (r.get("text") or "").strip()
            if r.get("level") != "5" or not text:
                continue
            try:
                conf = float(r["conf"])
                left, top, w, h = (int(r[k]) for k in ("left", "top", "width", "height"))
                line = (int(r["block_num"]), int(r["par_num"]), int(r["line_num"]))
            except (KeyError, TypeError, ValueError):
                continue
            kept = conf >= self.min_confidence and _is_word(text) and not _touches(mask, cell, left, top, w, h)
            box = tuple(round(v * points_per_pixel, 1) for v in (left, top, left + w, top + h))
            words.append(OcrWord(text, round(conf, 1), box, line, kept))
        return words
