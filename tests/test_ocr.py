"""OCR of scanned pages, on image-only PDFs made here from pages of the shipped reports.

Real components throughout: pypdfium2 renders the pages, reportlab writes the "scans", the installed
Tesseract reads them, and they are ingested into real embedded Chroma with the real model.
"""
from __future__ import annotations

import ast
import io
import json
import os
import random
import subprocess
import sys
import time
from difflib import SequenceMatcher
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader, PdfWriter

from ingest import pipeline
from ingest.ocr import NEEDS_OCR, TesseractEngine, bar_mask
from ingest.pipeline import ingest
from ingest.scan import MIN_QUALITY, PageScanner, comparable_words, scan_reason, text_layer_quality
from ingest.word_boxes import read_word_boxes
from retriever.glossary import Glossary
from retriever.index import ReportIndex
from retriever.search import HybridRetriever

from .conftest import NIVEL_PDF, ROOT, TOEZINE_PDF
from .fakes import HashEmbedder

GLOSSARY = Glossary.load(ROOT / "retriever" / "data" / "glossary.toml")
FOOTER = "Nivel / ESHPM Sectorbreed leren van calamiteiten in de jeugdhulpverlening"
DPI = 300
# PDF pages 8-11 of the Nivel report: printed 12 (footer), 13, 14 (no footer), 16 (footer)
SCANNED = (8, 9, 10, 11)
ON_PAGE_9 = "Anno 2016 voelen wij als inspecties nog steeds de urgentie"


# -- making scans -----------------------------------------------------------------------------------

def render(number: int, source: Path = NIVEL_PDF, dpi: int = DPI) -> Image.Image:
    """A PDF page as a grayscale image, as a 300 dpi office scanner would give it."""
    doc = pdfium.PdfDocument(str(source))
    try:
        return doc[number - 1].render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        doc.close()


def image_only_pdf(images: list[Image.Image], *, junk_layer: str = "", dpi: int = DPI) -> bytes:
    """A PDF whose pages are only pictures (stored losslessly); `junk_layer` adds an invisible text
    layer of that text, as bad scanning software does."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for img in images:
        w, h = img.width * 72 / dpi, img.height * 72 / dpi
        c.setPageSize((w, h))
        c.drawImage(ImageReader(img), 0, 0, width=w, height=h)
        if junk_layer:
            t = c.beginText(40, h - 60)
            t.setTextRenderMode(3)  # invisible, like an OCR layer
            t.setFont("Helvetica", 9)
            for line in junk_layer.splitlines():
                t.textLine(line)
            c.drawText(t)
        c.showPage()
    c.save()
    return buf.getvalue()


def redact(img: Image.Image, boxes: list[tuple[float, float, float, float]]) -> Image.Image:
    """Black bars over the given boxes (fractions of the page: x0, y0, x1, y1)."""
    out = img.copy()
    draw = ImageDraw.Draw(out)
    for x0, y0, x1, y1 in boxes:
        draw.rectangle((x0 * out.width, y0 * out.height, x1 * out.width, y1 * out.height), fill=0)
    return out


def shifted(text: str, k: int = 3) -> str:
    """Text through a shifted font encoding: what a broken ToUnicode map gives."""
    def one(c: str) -> str:
        if "a" <= c <= "z":
            return chr((ord(c) - 97 + k) % 26 + 97)
        if "A" <= c <= "Z":
            return chr((ord(c) - 65 + k) % 26 + 65)
        return c
    return "".join(one(c) for c in text)


def text_layer(number: int, source: Path = NIVEL_PDF) -> str:
    return PdfReader(source).pages[number - 1].extract_text()


def word_accuracy(ocr_words: list[str], reference: str) -> tuple[float, float]:
    """(recall, precision) of the OCR words against the reference text, aligned in order."""
    ref = comparable_words(reference)
    got = [w for token in ocr_words for w in comparable_words(token)]
    matched = sum(b.size for b in SequenceMatcher(None, got, ref, autojunk=False).get_matching_blocks())
    return matched / len(ref), matched / max(1, len(got))


# -- one ingest of all the scans, shared by the tests -------------------------------------------------

@pytest.fixture(scope="module")
def scans(tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp("scans")
    (folder / "gescand-rapport.pdf").write_bytes(image_only_pdf([render(n) for n in SCANNED]))
    page9 = render(9)
    bars = [(0.10, 0.20, 0.62, 0.235),    # across the start of a line, cutting words
            (0.35, 0.42, 0.90, 0.47),     # a block in the middle of the text
            (0.15, 0.70, 0.30, 0.715)]    # one name-sized bar
    (folder / "gelakt.pdf").write_bytes(image_only_pdf([redact(page9, bars)]))
    original = PdfReader(NIVEL_PDF)  # PDF pages 12-13 as text, page 14 as a scan with a junk layer
    mixed = PdfWriter()
    for i in (11, 12):
        mixed.add_page(original.pages[i])
    scan = PdfReader(io.BytesIO(image_only_pdf([render(14)], junk_layer=shifted(text_layer(14)))))
    mixed.add_page(scan.pages[0])
    with (folder / "gemengd.pdf").open("wb") as f:
        mixed.write(f)
    data = tmp_path_factory.mktemp("scan-index")
    index = ReportIndex.open(data_dir=data, embedder=embedder, create=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "READ_SECONDS", 3.0)  # OCR takes longer; it must not count against the parse limit
        report = ingest([folder], index=index, normalise=GLOSSARY.normaliser, progress=False,
                        ocr="auto", ocr_boxes_dir=data / "ocr")
    records = [(cid, doc, meta) for cid, doc, meta in index.scan()]
    return {"report": report, "records": records, "index": index, "boxes": data / "ocr", "bars": bars,
            "outcomes": {Path(f.path).name: f for f in report.files}}


def chunks_of(scans, name: str) -> list[tuple[str, dict]]:
    return sorted(((doc, meta) for _cid, doc, meta in scans["records"] if Path(meta["source"]).name == name),
                  key=lambda x: (x[1]["page"], x[1]["position"]))


def test_every_scan_is_ingested_with_its_pages_read_by_ocr(scans):
    out = scans["outcomes"]
    assert {n: o.status for n, o in out.items()} == {"gescand-rapport.pdf": "added", "gelakt.pdf": "added",
                                                      "gemengd.pdf": "added"}, [o.reason for o in out.values()]
    assert (out["gescand-rapport.pdf"].ocr_pages, out["gelakt.pdf"].ocr_pages, out["gemengd.pdf"].ocr_pages) == (4, 1, 1)
    assert scans["report"].summary()["ocr_pages"] == 6


def test_scanned_text_is_found_by_search_with_page_and_label(scans):
    searcher = HybridRetriever(scans["index"], glossary=GLOSSARY)
    hits = searcher.search("urgentie om de lessen uit calamiteitenonderzoeken te delen met bestuurders", k=5)
    top = next(h.passage for h in hits if h.passage.doc_id.startswith("gescand"))
    assert ON_PAGE_9[:40] in " ".join(top.text.split()), top.text[:300]
    assert (top.page, top.page_label) == (2, "13")
    assert top.ocr and 80 <= top.ocr_confidence <= 100


def test_scanned_text_is_cited_with_page_and_label(scans):
    from rodedraad.assemble import open_answerer, terms_of
    from rodedraad.settings import Settings
    from server.schemas import AnswerOut

    searcher = HybridRetriever(scans["index"], glossary=GLOSSARY)
    answer = open_answerer(Settings(_env_file=None), searcher, terms_of(searcher)).answer(
        "Waarom willen de inspecties de lessen uit calamiteitenonderzoeken delen met bestuurders?",
        filters=None)
    cited = [c for c in answer.citations if c.passage.doc_id.startswith("gescand")]
    assert cited, answer.text
    assert all(c.passage.ocr for c in cited)
    by_page = {c.passage.page: c.passage.page_label for c in cited}
    assert all(by_page[p] == {1: "12", 2: "13", 3: "14", 4: "16"}[p] for p in by_page)
    out = AnswerOut.from_answer(answer).model_dump()
    assert all(c["ocr"] and c["ocr_confidence"] > 0 for c in out["citations"] if c["doc_id"].startswith("gescand"))


def test_ocr_word_accuracy_against_the_text_layer_is_at_least_95_percent(scans):
    doc_id = scans["outcomes"]["gescand-rapport.pdf"].doc_id
    for pdf_page, original in enumerate(SCANNED, 1):
        boxes = read_word_boxes(scans["boxes"], doc_id, pdf_page)
        kept = [w[0] for w in boxes["words"] if w[6]]
        recall, precision = word_accuracy(kept, text_layer(original))
        assert recall >= 0.95 and precision >= 0.95, (original, recall, precision)


def test_printed_page_numbers_become_labels_and_the_running_footer_is_removed(scans):
    chunks = chunks_of(scans, "gescand-rapport.pdf")
    labels = {meta["page"]: meta["page_label"] for _doc, meta in chunks}
    assert labels == {1: "12", 2: "13", 3: "14", 4: "16"}
    assert not any(FOOTER in " ".join(doc.split()) for doc, _ in chunks)
    assert all(meta["ocr"] is True and 80 <= meta["ocr_confidence"] <= 100 for _doc, meta in chunks)


def test_word_boxes_are_kept_in_pdf_points_for_a_page_view(scans):
    doc_id = scans["outcomes"]["gescand-rapport.pdf"].doc_id
    record = read_word_boxes(scans["boxes"], doc_id, 2)
    assert record["page_label"] == "13" and record["engine"].startswith("tesseract")
    assert (record["width"], record["height"]) == pytest.approx((595.3, 841.9), abs=0.6)
    anno = next(w for w in record["words"] if w[0] == "urgentie")
    text, conf, x0, y0, x1, y1, kept = anno
    assert kept == 1 and conf > 50 and 0 < x0 < x1 < record["width"] and 0 < y0 < y1 < record["height"]
    # the word really is there on a rendering: its box is not blank
    img = render(9)
    s = DPI / 72
    crop = img.crop((int(x0 * s), int(y0 * s), int(x1 * s), int(y1 * s)))
    assert min(crop.getdata()) < 100
    assert read_word_boxes(scans["boxes"], doc_id, 9) is None


def test_a_redaction_bar_adds_no_garbage_tokens(scans):
    vocabulary = set(comparable_words(text_layer(9)))
    clean = [d for d, m in chunks_of(scans, "gescand-rapport.pdf") if m["page"] == 2]
    redacted = [d for d, _m in chunks_of(scans, "gelakt.pdf")]
    clean_garbage = {w for d in clean for w in comparable_words(d)} - vocabulary
    redacted_words = [w for d in redacted for w in comparable_words(d)]
    added = set(redacted_words) - vocabulary - clean_garbage
    assert not added, added
    assert len(redacted_words) < len([w for d in clean for w in comparable_words(d)]) - 40  # the bars hid text
    # the words cut by the first bar are dropped, not kept as fragments
    boxes = read_word_boxes(scans["boxes"], scans["outcomes"]["gelakt.pdf"].doc_id, 1)
    x_end = scans["bars"][0][2] * boxes["width"]
    y0, y1 = scans["bars"][0][1] * boxes["height"], scans["bars"][0][3] * boxes["height"]
    beside = [w for w in boxes["words"] if w[3] < y1 and w[5] > y0 and abs(w[2] - x_end) < 3]
    assert all(not w[6] for w in beside), beside


def test_a_mixed_pdf_keeps_text_pages_and_reads_the_scanned_page(scans):
    chunks = chunks_of(scans, "gemengd.pdf")
    pages = {m["page"]: m["ocr"] for _d, m in chunks}
    assert pages == {1: False, 2: False, 3: True}
    text3 = " ".join(" ".join(d.split()) for d, m in chunks if m["page"] == 3)
    assert "een open veiligheidscultuur" in text3
    # the invisible junk layer over the scan was recognised and replaced, not indexed
    junk = set(comparable_words(shifted(text_layer(14)))) - set(comparable_words(text_layer(14)))
    assert not junk & set(comparable_words(text3))
    text1 = " ".join(d for d, m in chunks if m["page"] == 1)
    assert "Sectorbreed" in text1 or "sectorbreed" in text1


# -- the garbage-text-layer measure ------------------------------------------------------------------

def _junk_samples() -> dict[str, str]:
    rnd = random.Random(7)
    page = text_layer(9)
    letters = "abcdefghijklmnopqrstuvwxyz"
    return {
        "shifted encoding (+1)": shifted(page, 1),
        "shifted encoding (+3)": shifted(page, 3),
        "shifted encoding (+13)": shifted(page, 13),
        "random letters": " ".join("".join(rnd.choice(letters) for _ in range(rnd.randint(2, 10))) for _ in range(300)),
        "random mixed case": " ".join("".join(rnd.choice(letters + letters.upper()) for _ in range(rnd.randint(2, 10)))
                                      for _ in range(300)),
        "symbol soup": " ".join("".join(rnd.choice("!@#$%^&*()_+{}|:<>?~`-=[]\\;',./") for _ in range(rnd.randint(1, 6)))
                                for _ in range(300)),
        "private-use glyphs": " ".join("".join(chr(rnd.randint(0xE000, 0xE0FF)) for _ in range(5)) for _ in range(200)),
        "glyph ids as Latin Extended": " ".join("".join(chr(rnd.randint(0x100, 0x17F)) for _ in range(6))
                                                for _ in range(200)),
        "replacement characters": "\ufffd" * 400,
    }


@pytest.mark.parametrize("name", list(_junk_samples()))
def test_junk_text_layers_score_under_the_cut(name):
    assert text_layer_quality(_junk_samples()[name]) < MIN_QUALITY - 0.05


def test_real_text_layers_score_over_the_cut():
    scores = [text_layer_quality(p.extract_text()) for src in (NIVEL_PDF, TOEZINE_PDF)
              for p in PdfReader(src).pages if len(p.extract_text().strip()) >= 20]
    assert len(scores) >= 45 and min(scores) >= MIN_QUALITY + 0.2, min(scores)
    # Dutch with accents, abbreviations, numbers, links and codes
    assert text_layer_quality("De coördinatie door GGD en KNMI-LVNL (zie www.igj.nl, 5.1.2e) faalde in 2019; "
                              "COVID-19 maakte het erger, blijft het rapport zeggen.") >= 0.9


def test_which_pages_are_scans():
    full = lambda: 1.0  # noqa: E731 - a page covered by one picture
    none = lambda: 0.0  # noqa: E731 - a blank page or a vector drawing
    assert scan_reason("", full) == "no text layer"
    assert scan_reason("  3 ", full) == "no text layer"
    assert scan_reason("", none) == ""  # blank page: nothing to read
    assert scan_reason(text_layer(9), full) == ""  # a scan with a good OCR layer keeps it
    assert scan_reason(shifted(text_layer(9)), none).startswith("garbage text layer")


def test_bar_mask_finds_bars_and_not_text():
    import numpy as np

    page = render(9)
    assert not bar_mask(np.asarray(page), DPI).any()  # dense small print, bold headings: no bars
    mask = bar_mask(np.asarray(redact(page, [(0.2, 0.3, 0.6, 0.33)])), DPI)
    cell = page.width / mask.shape[1]
    ys, xs = np.nonzero(mask)
    assert xs.min() * cell == pytest.approx(0.2 * page.width, abs=3 * cell)
    assert (xs.max() + 1) * cell == pytest.approx(0.6 * page.width, abs=3 * cell)


# -- settings, limits and failures -------------------------------------------------------------------

def _small_scan(junk_layer: str = "") -> bytes:
    """One small scanned page: the top of the Toezine article."""
    img = render(1, TOEZINE_PDF)
    return image_only_pdf([img.crop((0, 0, img.width, img.height // 4))], junk_layer=junk_layer)


def test_without_tesseract_a_scanned_pdf_fails_by_name_with_what_to_install(tmp_path, monkeypatch):
    folder = tmp_path / "map"
    folder.mkdir()
    (folder / "scan.pdf").write_bytes(_small_scan())
    (folder / "tekst.txt").write_text("De inspectie onderzocht de calamiteit in de jeugdhulp. " * 5, encoding="utf-8")
    monkeypatch.setenv("PATH", str(tmp_path))  # no tesseract on this PATH
    index = ReportIndex.open(data_dir=tmp_path / "data", embedder=HashEmbedder(), create=True)
    report = ingest([folder], index=index, normalise=lambda t: t, progress=False, ocr="auto")
    out = {Path(f.path).name: f for f in report.files}
    assert out["scan.pdf"].status == "failed"
    assert out["scan.pdf"].reason.startswith(NEEDS_OCR)
    assert NEEDS_OCR == "needs OCR: install tesseract-ocr and tesseract-ocr-nld (see README)"
    assert out["tekst.txt"].status == "added"


def test_ocr_off_leaves_scanned_pages_out(tmp_path):
    folder = tmp_path / "map"
    folder.mkdir()
    (folder / "scan.pdf").write_bytes(_small_scan())
    mixed = PdfWriter(clone_from=NIVEL_PDF)
    while len(mixed.pages) > 1:
        mixed.remove_page(len(mixed.pages) - 1)
    mixed.add_page(PdfReader(io.BytesIO(_small_scan(junk_layer=shifted(text_layer(9))))).pages[0])
    with (folder / "gemengd.pdf").open("wb") as f:
        mixed.write(f)
    index = ReportIndex.open(data_dir=tmp_path / "data", embedder=HashEmbedder(), create=True)
    started = time.perf_counter()
    report = ingest([folder], index=index, normalise=lambda t: t, progress=False, ocr="off")
    out = {Path(f.path).name: f for f in report.files}
    assert out["scan.pdf"].status == "failed" and "RODEDRAAD_OCR=auto" in out["scan.pdf"].reason
    assert out["gemengd.pdf"].status == "added" and out["gemengd.pdf"].ocr_pages == 0
    assert {m["page"] for _c, _d, m in index.scan()} == {1}  # nor its junk layer
    assert time.perf_counter() - started < 30


def test_a_page_past_its_ocr_time_limit_is_left_out_and_named(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(_small_scan())
    scanner = PageScanner("auto", engine=lambda: TesseractEngine(page_seconds=0.01))
    started = time.perf_counter()
    pages = scanner.read(path, [""])
    assert time.perf_counter() - started < 20
    assert scanner.failed_pages == [1] and "longer than" in pages[1].error and pages[1].text == ""


def test_a_long_scan_is_read_one_page_at_a_time(tmp_path):
    """500 scanned pages: finding them is quick, and OCR renders and reads one page at a time, in
    order (the scanner keeps each page's words, never its image)."""
    img = Image.new("L", (400, 300), 255)
    ImageDraw.Draw(img).text((20, 20), "Pagina", fill=0)
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    path = tmp_path / "lang.pdf"
    c = canvas.Canvas(str(path))
    reader = ImageReader(img)
    for _ in range(500):
        c.drawImage(reader, 0, 0, width=595, height=842)
        c.showPage()
    c.save()
    scanner = PageScanner("auto")
    started = time.perf_counter()
    reasons = scanner.scanned_pages(path, [""] * 500)
    assert len(reasons) == 500 and time.perf_counter() - started < 30
    rendered = []

    class CountingEngine(TesseractEngine):
        def read(self, page, number):
            rendered.append(number)
            assert len(rendered) == number  # pages come in order, one by one
            return super().read(page, number)

    few = PageScanner("auto", engine=lambda: CountingEngine(dpi=72))
    few.read(path, [""] * 3 + ["Een pagina met genoeg tekst om geen scan te zijn, echt waar."] * 497)
    assert rendered == [1, 2, 3] and sorted(few.pages) == [1, 2, 3]


def test_ocr_has_its_own_progress_bar_in_the_cli(tmp_path):
    folder = tmp_path / "map"
    folder.mkdir()
    (folder / "scan.pdf").write_bytes(_small_scan())
    script = Path(sys.executable).parent / "rodedraad"
    cmd = [str(script)] if script.exists() else [sys.executable, "-c", "from rodedraad.cli import main; main()"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RODEDRAAD_")}
    env.update({"RODEDRAAD_DATA_DIR": str(tmp_path / "data"), "ANONYMIZED_TELEMETRY": "False"})
    p = subprocess.run([*cmd, "ingest", str(folder)], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "OCR scan.pdf" in p.stderr and "page" in p.stderr  # the OCR bar counts pages
    assert "1 pages read by OCR" in p.stdout
    boxes = json.loads((tmp_path / "data" / "ocr").glob("*/page-1.json").__next__().read_text())
    assert boxes["words"]


def test_ocr_never_runs_in_the_server_process():
    """The server does not import ingestion at all (OCR is in ingest/, and Tesseract is a child
    process of `rodedraad ingest`)."""
    found = set()
    for file in (ROOT / "server").rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    assert "ingest" not in found and "pytesseract" not in found
