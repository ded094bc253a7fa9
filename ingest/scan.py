"""Which pages of a PDF are scans, and their OCR.

A page needs OCR when its text layer is unusable and the page is a picture:
- no text layer (under MIN_CHARS characters) on a page mostly covered by images
  (MIN_IMAGE_COVERAGE; a blank page or a vector drawing is not a scan; in a PDF without any text,
  any page with a picture), or
- a garbage text layer (an invisible junk layer over a scan, a broken font encoding): under
  MIN_QUALITY of its characters are in word-like tokens (see `text_layer_quality`).

`PageScanner.read` OCRs those pages one at a time (render, Tesseract, forget the image), so a
500-page scan holds one page image at a time; it has its own progress bar and per-page limit.
"""
from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from difflib import SequenceMatcher
from pathlib import Path
from typing import Literal

from tqdm import tqdm

from retriever.errors import UnreadableDocument
from retriever.types import Chunk

from .ocr import NeedsOcr, OcrPage, OcrWord, TesseractEngine

log = logging.getLogger(__name__)

OcrMode = Literal["auto", "off"]
MIN_CHARS = 20
MIN_IMAGE_COVERAGE = 0.5
# Measured: the 302 text pages of the shipped reports and corpus-extra score 0.62-1.00 (median 0.97;
# the 0.62 is a Woo scan's own OCR layer); junk layers 0.00-0.41 (tests/test_ocr.py). In between.
MIN_QUALITY = 0.5

_EDGE = "\"'“”‘’«»()[]{}<>.,;:!?…-–—/*•·=|"
_NUMBER = re.compile(r"^[€$£]?\d[\d.,:/%+\-–]*[a-z]{0,2}$", re.I)        # 2019, 1.3.1, 12:30, 5.1.2e, 12%
_CODE = re.compile(r"^[A-Za-z]{1,5}[-/]?\d[\w./-]*$")                    # COVID-19, FL240, N5317, v0.9
_ADDRESS = re.compile(r"^(?:https?:/|www\.|[\w.+-]+@[\w-]+\.)", re.I)      # links and e-mail addresses
_LETTERS = re.compile(r"^[^\W\d_]+(?:[-'’/.&][^\W\d_]+)*$")               # zorg-en, kind's, t/m, o.a
# Letter pairs that make up 97 % of the letter pairs in the shipped reports' text (222 pairs, counted
# once from corpus/*.pdf), plus common English ones. Dutch and English words are made almost only of
# these; shifted font encodings and random letters are not (a quarter to a half of their pairs).
_COMMON_PAIRS = frozenset("""
aa ac ad af ag ak al am an ap ar as at ba bb be bi bl br ca ce ch ci co ct cu da de dh di do dr ds dt du
ea eb ec ed ee ef eg ei ek el em en ep er es et eu ev ew ez fe fg fo ft ga gd ge gi gj go gr gs gt ha he
hi ho ht hu ia ic id ie ig ij ik il im in io is it iv jd je jk jn jv ka ke ki kk ko kt ku kw la ld le lf
lg li lk ll lo lp ls lt ma me mi mo mp ms mt mu na nb nc nd ne nf ng ni nk nl nn no nr ns nt nu nw nz oc
od oe of og ok ol om on oo op or ot ou ov pa pe pl po pp pr pu pv ra rb rd re rg ri rk rl rm rn ro rs rt
ru rv rw rz sa sc sd se si sl so sp ss st su ta te th ti to tr ts tt tu tw ud ug ui ul un ur us ut uu va
ve vi vo vr wa we wi wo za ze zi zo
ab ay by ck ey fi fl fr gh gl ly my ny ow oy ph qu ry sh sk sm sn sw ty uw wh wn wr ws ye yo ys
""".split())


def _plain(text: str) -> str:
    """Lower case without diacritics (coördinatie → coordinatie)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def _letters_like(part: str) -> bool:
    """One run of letters: short, an abbreviation, or made of common letter pairs, without case flips."""
    if len(part) <= 3:
        return True  # de, en, GGD, mr: too short to judge
    if part.isupper() and len(part) <= 6:
        return True  # KNMI, LVNL, RIVM
    if sum(1 for a, b in zip(part, part[1:]) if a.islower() and b.isupper()) > 1:
        return False  # vOoR, aBcDe: case flips inside a word are junk (one is a name: CoronIT)
    plain = _plain(part)
    pairs = [a + b for a, b in zip(plain, plain[1:])]
    return sum(p in _COMMON_PAIRS for p in pairs) >= 2 / 3 * len(pairs)


def _word_like(token: str) -> bool:
    t = token.strip(_EDGE)
    if not t:
        return False
    if _NUMBER.match(t) or _CODE.match(t) or _ADDRESS.match(t):
        return True
    if not _LETTERS.match(t):
        return False
    return all(_letters_like(p) for p in re.split(r"[-'’/.&]", t) if p)


def text_layer_quality(text: str) -> float:
    """Share (0-1) of the text's non-space characters that sit in word-like tokens.

    Word-like: a number (2019, 1.3.1, 5.1.2e), or letters (with inner hyphens or apostrophes) whose
    letter pairs are at least two-thirds common Dutch/English pairs, with no case flips; plus links,
    e-mail addresses and codes (COVID-19). Dutch and English prose scores about 0.97; shifted font
    encodings, random letters, private-use glyphs and symbol soup score under 0.45. Empty text: 0.
    """
    tokens = unicodedata.normalize("NFKC", text).split()
    total = sum(len(t) for t in tokens)
    if not total:
        return 0.0
    return sum(len(t) for t in tokens if _word_like(t)) / total


def scan_reason(text: str, image_coverage: Callable[[], float], *, min_coverage: float = MIN_IMAGE_COVERAGE) -> str:
    """Why the page needs OCR ('' when its text layer is usable or it is not a picture)."""
    if len("".join(text.split())) < MIN_CHARS:
        coverage = image_coverage()
        return "no text layer" if coverage > 0 and coverage >= min_coverage else ""
    quality = text_layer_quality(text)
    if quality < MIN_QUALITY:
        return f"garbage text layer ({quality:.2f} word-like)"
    return ""


def image_coverage(page) -> float:
    """Share of a pypdfium2 page's area under image objects (capped at 1)."""
    import pypdfium2 as pdfium

    width, height = page.get_size()
    if width <= 0 or height <= 0:
        return 0.0
    area = 0.0
    for obj in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE], max_depth=4):
        left, bottom, right, top = obj.get_bounds()
        area += max(0.0, min(right, width) - max(left, 0.0)) * max(0.0, min(top, height) - max(bottom, 0.0))
    return min(1.0, area / (width * height))


def comparable_words(text: str) -> list[str]:
    """Lower-cased words without edge punctuation, for comparing OCR with a text layer."""
    out = []
    for token in unicodedata.normalize("NFKC", text).lower().split():
        t = token.strip(_EDGE)
        if t:
            out.append(t)
    return out


class PageScanner:
    """OCR for the pages of one PDF that are scans; keeps what it read for the chunks' metadata and
    the word boxes.

        >>> scanner = PageScanner("auto", progress=True)
        >>> ocr_pages = scanner.read(path, texts)   # {page number: OcrPage}

    `mode` "off" never OCRs (scanned pages are left out, with a warning); "auto" OCRs with the
    installed Tesseract and fails the file with NEEDS_OCR when it is missing. `pause` is entered
    around the OCR, so a per-file parse limit does not count OCR time (OCR has its own per page).
    """

    def __init__(self, mode: OcrMode = "auto", *, progress: bool = False,
                 pause: Callable[[], AbstractContextManager] = nullcontext,
                 engine: Callable[[], TesseractEngine] = TesseractEngine) -> None:
        self.mode = mode
        self.progress = progress
        self.pause = pause
        self.engine = engine
        self.pages: dict[int, OcrPage] = {}
        self.left_out: list[int] = []  # scanned pages not read (mode off): their text layer is not used
        self.seconds = 0.0
        self.engine_version = ""

    def scanned_pages(self, path: Path, texts: list[str]) -> dict[int, str]:
        """{1-based page number: why it needs OCR} for the pages that are scans."""
        short = [i for i, t in enumerate(texts) if len("".join(t.split())) < MIN_CHARS]
        doc = None
        if short:
            import pypdfium2 as pdfium

            try:
                doc = pdfium.PdfDocument(str(path))
            except Exception as e:  # noqa: BLE001 - pdfium refuses what pypdf opened: no OCR, say why
                log.warning("%s: cannot render pages for OCR (%s)", path, e)
        # In a document with no text at all, any picture may be the scan (a letter pasted on a page).
        min_coverage = MIN_IMAGE_COVERAGE if len(short) < len(texts) else 0.0
        reasons: dict[int, str] = {}
        try:
            for i, text in enumerate(texts):
                coverage = (lambda i=i: image_coverage(doc[i]) if doc is not None and i < len(doc) else 0.0)
                why = scan_reason(text, coverage, min_coverage=min_coverage)
                if why:
                    reasons[i + 1] = why
        finally:
            if doc is not None:
                doc.close()
        return reasons

    def read(self, path: Path, texts: list[str]) -> dict[int, OcrPage]:
        """OCR the scanned pages of the PDF at `path` whose text layer per page is `texts`."""
        path = Path(path)
        reasons = self.scanned_pages(path, texts)
        if not reasons:
            return {}
        if self.mode == "off":
            self.left_out = sorted(reasons)
            log.warning("%s: %d scanned page(s) left out (RODEDRAAD_OCR=off): %s", path, len(reasons),
                        ", ".join(map(str, sorted(reasons))))
            return {}
        try:
            engine = self.engine()
        except NeedsOcr as e:
            raise UnreadableDocument(path, f"{e}; {len(reasons)} of {len(texts)} pages are scans") from None
        self.engine_version = f"{engine.version} {engine.languages} {engine.dpi}dpi"
        import pypdfium2 as pdfium

        started = time.perf_counter()
        with self.pause():
            doc = pdfium.PdfDocument(str(path))
            bar = tqdm(sorted(reasons), unit="page", desc=f"OCR {path.name[:24]}", disable=not self.progress,
                       leave=False, position=1, dynamic_ncols=True)
            try:
                for number in bar:
                    page = doc[number - 1]
                    try:
                        result = engine.read(page, number)
                    finally:
                        page.close()
                    if result.error:
                        log.warning("%s: page %d: %s; page left out", path, number, result.error)
                    self.pages[number] = result
            finally:
                bar.close()
                doc.close()
        self.seconds += time.perf_counter() - started
        return self.pages

    @property
    def failed_pages(self) -> list[int]:
        return sorted(n for n, p in self.pages.items() if p.error)


def passage_confidence(text: str, words: list[OcrWord]) -> float:
    """Mean confidence of the page's kept words that line up with the passage's words; the page's
    mean when none do."""
    kept = [w for w in words if w.kept]
    if not kept:
        return 0.0
    matcher = SequenceMatcher(None, [w.text for w in kept], text.split(), autojunk=False)
    confs = [kept[i].confidence for b in matcher.get_matching_blocks() for i in range(b.a, b.a + b.size)]
    if not confs:
        confs = [w.confidence for w in kept]
    return round(sum(confs) / len(confs), 1)


def mark_ocr_chunks(chunks: list[Chunk], pages: dict[int, OcrPage]) -> list[Chunk]:
    """Chunks from OCR'd pages get `ocr_confidence` (metadata: the id stays that of the text)."""
    out = []
    for c in chunks:
        page = pages.get(c.page)
        if page is None:
            out.append(c)
            continue
        conf = passage_confidence(c.text, list(page.words))
        out.append(replace(c, ocr_confidence=conf))
    return out


__all__ = ["MIN_QUALITY", "OcrMode", "PageScanner", "comparable_words", "image_coverage",
           "mark_ocr_chunks", "passage_confidence", "scan_reason", "text_layer_quality"]
