"""Broken and hostile files beside good ones: every bad one is named with a reason, every good one is
ingested, nothing crashes or hangs, and the CLI's exit code says what happened (0 all ingested,
1 some failed, 2 usage or configuration error).

The folder is made here: reportlab and pypdf for the PDFs, bytes by hand for the hostile ones.
"""
from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_SCRIPT = Path(sys.executable).parent / "rodedraad"
RODEDRAAD = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-c", "from rodedraad.cli import main; main()"]

DUTCH = ("De inspectie onderzocht de calamiteit in de jeugdhulp. Het gezin kreeg hulp van drie organisaties, "
         "maar niemand had de regie. Signalen over de veiligheid van het kind werden niet gedeeld. ")
CP1252_TEXT = ("Coördinatie en regie\n\nDe coördinatie van de zorg rond het gezin was versnipperd. "
               "Het café-overleg van de wijkteams leverde geen financiële afspraken op. "
               "Na de ruïneuze bezuinigingen werd de hulp geëvalueerd door de inspectie.\n\n"
               "Naïeve aannames over de thuissituatie leidden tot een reëel risico voor het kind. ") * 3
SCRIPT_MARKER = "scriptmarkerxyzzy"
STYLE_MARKER = "stylemarkerplugh"


# -- making the files ------------------------------------------------------------------------------

def _pdf(pages: list[str], **canvas_kw) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, **canvas_kw)
    for text in pages:
        y = 800
        for line in text.split("\n"):
            c.drawString(60, y, line)
            y -= 14
        c.showPage()
    c.save()
    return buf.getvalue()


def _png(w: int = 8, h: int = 8) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x80\x20\x20" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _image_only_pdf() -> bytes:
    """A 'scanned' PDF with nothing to read: each page is one picture of dotted lines, no text layer."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    img = Image.new("L", (400, 300), 255)
    for x in range(20, 380, 7):  # lines that look like text to a person, not to a parser
        for y in range(30, 280, 20):
            img.putpixel((x, y), 0)
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for _ in range(2):
        c.drawImage(ImageReader(img), 50, 400, width=400, height=300)
        c.showPage()
    c.save()
    return buf.getvalue()


SCANNED_TEXT = ("Gescand rapport over de jeugdhulp\nDe inspectie stelde vast dat niemand de regie had over de hulp\n"
                "aan het gezin. De signalen over de veiligheid van het kind werden niet gedeeld.")


def _scanned_pdf() -> bytes:
    """A real scan: a page of text rendered to a 300 dpi picture, no text layer (OCR reads it)."""
    import pypdfium2 as pdfium
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    page = pdfium.PdfDocument(_pdf([SCANNED_TEXT]))[0]
    img = page.render(scale=300 / 72, grayscale=True).to_pil()
    img = img.crop((0, 0, img.width, img.height // 5))  # the printed part: a quick OCR
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(img.width * 72 / 300, img.height * 72 / 300))
    c.drawImage(ImageReader(img), 0, 0, width=img.width * 72 / 300, height=img.height * 72 / 300)
    c.showPage()
    c.save()
    return buf.getvalue()


def _hand_pdf(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF from raw object bodies (1-based), with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root {root} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _nested_pdf(depth: int = 50_000) -> bytes:
    """Deeply nested arrays and dictionaries in the page and the catalog (parser recursion)."""
    arrays = b"[" * depth + b"]" * depth
    dicts = b"<< /A " * depth + b"1" + b" >>" * depth
    content = b"BT /F1 12 Tf 72 720 Td (Diep geneste objecten) Tj ET"
    return _hand_pdf([
        b"<< /Type /Catalog /Pages 2 0 R /Nest " + arrays + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> /X "
        + dicts + b" >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def _page_tree_loop_pdf() -> bytes:
    """A page tree whose /Kids points back at itself."""
    return _hand_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Pages /Parent 2 0 R /Kids [3 0 R 2 0 R] /Count 2 >>",
    ])


def _bomb_pdf() -> bytes:
    """A page whose content stream inflates to 200 MB of nothing."""
    comp = zlib.compressobj(9)
    data = b"".join(comp.compress(b" " * (1 << 20)) for _ in range(200)) + comp.flush()
    return _hand_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream",
    ])


def _broken_glyphs_pdf() -> bytes:
    """Good text, plus glyphs whose ToUnicode map points at lone UTF-16 surrogates (Chroma refuses those)."""
    cmap = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Kapot def\n"
            b"1 begincodespacerange <00> <FF> endcodespacerange\n"
            b"2 beginbfchar <41> <D800> <42> <DFFF> endbfchar\n"
            b"endcmap CMapName currentdict /CMap defineresource pop end end")
    content = (b"BT /F1 12 Tf 72 720 Td (Dit is gewone tekst over de jeugdzorg en de inspectie.) Tj "
               b"0 -20 Td (Ook de gemeente had geen zicht op het gezin.) Tj 0 -20 Td (BA AB B A) Tj ET")
    return _hand_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream",
    ])


def _many_pages_pdf(n: int) -> bytes:
    from pypdf import PdfWriter

    w = PdfWriter()
    for _ in range(n):
        w.add_blank_page(width=72, height=72)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def make_good(folder: Path) -> dict[str, str]:
    """Good files; returns name → a phrase its ingested text must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "goed-rapport.txt").write_text(f"Samenvatting\n\n{DUTCH * 3}\n\nConclusies\n\n{DUTCH}", encoding="utf-8")
    (folder / "notities.md").write_text(f"# Leerpunten\n\n- {DUTCH}\n- De regie ontbrak bij de overdracht.\n",
                                        encoding="utf-8")
    (folder / "windows-1252.txt").write_bytes(CP1252_TEXT.encode("cp1252"))
    (folder / "pagina.html").write_text(
        f"<html><head><title>Toezicht</title><style>body {{ color: red }} /* {STYLE_MARKER} */</style>"
        f"<script>var x = '{SCRIPT_MARKER}'; document.write(x);</script></head>"
        f"<body><h1>Toezicht jeugd</h1><p>{DUTCH}</p><script>alert('{SCRIPT_MARKER}')</script>"
        f"<p>De wijkteams werkten langs elkaar heen.</p></body></html>", encoding="utf-8")
    (folder / "goed.pdf").write_bytes(_pdf([f"Rapport over toezicht\n{DUTCH[:90]}\n{DUTCH[90:]}",
                                            "Conclusie: de regie over de hulp ontbrak."]))
    (folder / "kapotte-glyphs.pdf").write_bytes(_broken_glyphs_pdf())
    (folder / "gescand.pdf").write_bytes(_scanned_pdf())  # image only: ingested by OCR, no longer refused
    return {"gescand.pdf": "niemand de regie had over de hulp",
            "kapotte-glyphs.pdf": "gewone tekst over de jeugdzorg", "goed-rapport.txt": "niemand had de regie", "notities.md": "De regie ontbrak bij de overdracht",
            "windows-1252.txt": "coördinatie van de zorg", "pagina.html": "De wijkteams werkten langs elkaar heen",
            "goed.pdf": "de regie over de hulp ontbrak"}


def make_bad(folder: Path, *, max_pages: int) -> dict[str, str]:
    """Broken and hostile files; returns name → a word its failure reason must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    good_pdf = _pdf([f"Een goede pagina\n{DUTCH[:80]}"] * 3)
    files = {
        "kapot.pdf": b"%PDF-1.4\n" + os.urandom(4000),
        "afgebroken.pdf": good_pdf[: len(good_pdf) // 2],
        "versleuteld.pdf": _pdf([DUTCH[:80]], encrypt="geheim"),
        "leeg.pdf": b"",
        "leeg.txt": b"",
        "gescand-zonder-tekst.pdf": _image_only_pdf(),
        "eigenlijk-pdf.txt": good_pdf,
        "plaatje.pdf": _png(),
        "te-veel-paginas.pdf": _many_pages_pdf(max_pages + 1),
        "diep-genest.pdf": _nested_pdf(),
        "paginaboom-lus.pdf": _page_tree_loop_pdf(),
        "zipbom.pdf": _bomb_pdf(),
        "enorme-regel.txt": ("Dit is een zin over de jeugdzorg zonder regeleinde. " * 100_000).encode(),
        "rapport.docx": b"PK\x03\x04" + os.urandom(2000),
        "binair.md": b"# kop\n\x00\x01\x02\x00" + os.urandom(3000),
        "alleen-script.html": f"<html><script>var a='{SCRIPT_MARKER}';</script></html>".encode(),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    os.symlink("lus-b.txt", folder / "lus-a.txt")
    os.symlink("lus-a.txt", folder / "lus-b.txt")
    os.symlink("zelf.md", folder / "zelf.md")
    os.symlink("bestaat-niet.pdf", folder / "kapotte-link.pdf")
    os.mkfifo(folder / "pijp.txt")  # reading it would block forever
    return {
        "kapot.pdf": "pdf", "afgebroken.pdf": "pdf", "versleuteld.pdf": "encrypted", "leeg.pdf": "empty",
        "leeg.txt": "empty", "gescand-zonder-tekst.pdf": "ocr found no text", "eigenlijk-pdf.txt": "pdf", "plaatje.pdf": "pdf",
        "te-veel-paginas.pdf": "pages", "diep-genest.pdf": "pdf", "paginaboom-lus.pdf": "pdf",
        "zipbom.pdf": "pdf", "enorme-regel.txt": "characters", "rapport.docx": "unsupported",
        "binair.md": "binary", "alleen-script.html": "no text", "lus-a.txt": "symbolic link",
        "lus-b.txt": "symbolic link", "zelf.md": "symbolic link", "kapotte-link.pdf": "symbolic link",
        "pijp.txt": "not a regular file",
    }


# -- running the CLI -------------------------------------------------------------------------------

def run_ingest(paths: list[Path], data_dir: Path, *extra: str, env: dict | None = None, timeout: float = 600):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("RODEDRAAD_")}
    full_env.update({"RODEDRAAD_DATA_DIR": str(data_dir), "ANONYMIZED_TELEMETRY": "False", **(env or {})})
    started = time.perf_counter()
    p = subprocess.run([*RODEDRAAD, "ingest", *map(str, paths), *extra], capture_output=True, text=True,
                       env=full_env, timeout=timeout, cwd=data_dir.parent)
    return p, time.perf_counter() - started


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    from ingest.read_pdf import MAX_PAGES

    root = tmp_path_factory.mktemp("bad-files")
    good = make_good(root / "map")
    bad = make_bad(root / "map", max_pages=MAX_PAGES)
    return root, good, bad


@pytest.fixture(scope="module")
def mixed_run(folders):
    root, _good, _bad = folders
    p, seconds = run_ingest([root / "map"], root / "data", "--json")
    return p, seconds


def _by_name(summary: dict) -> dict[str, dict]:
    return {Path(f["path"]).name: f for f in summary["files"]}


def test_every_bad_file_is_named_with_a_reason_and_every_good_one_ingested(folders, mixed_run):
    _root, good, bad = folders
    p, seconds = mixed_run
    assert p.returncode == 1, p.stderr[-3000:]
    summary = json.loads(p.stdout)
    files = _by_name(summary)
    for name in good:
        assert files[name]["status"] == "added", files.get(name)
        assert files[name]["chunks"] >= 1
    for name, word in bad.items():
        assert name in files, f"{name} not reported: {sorted(files)}"
        assert files[name]["status"] == "failed", files[name]
        assert word.lower() in files[name]["reason"].lower(), files[name]
    assert summary["failed"] == len(bad) >= 12
    assert summary["added"] == len(good)
    assert "Traceback" not in p.stderr
    assert seconds < 300, f"ingest of the hostile folder took {seconds:.0f} s"


def test_good_files_keep_their_text_accents_and_no_script(folders, mixed_run):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    root, good, _bad = folders
    client = chromadb.PersistentClient(path=str(root / "data" / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    got = client.get_collection("rodedraad").get(include=["documents", "metadatas"])
    texts: dict[str, str] = {}
    ocr: dict[str, set] = {}
    for doc, meta in zip(got["documents"], got["metadatas"]):
        texts[Path(meta["source"]).name] = texts.get(Path(meta["source"]).name, "") + "\n" + doc
        ocr.setdefault(Path(meta["source"]).name, set()).add((meta["ocr"], meta["ocr_confidence"] > 80))
    assert set(texts) == set(good)
    # the scan was read by OCR, and says so; everything else came from text
    assert ocr.pop("gescand.pdf") == {(True, True)}
    assert all(v == {(False, False)} for v in ocr.values()), ocr
    assert "De signalen over de veiligheid van het kind werden niet gedeeld." in texts["gescand.pdf"]
    for name, phrase in good.items():
        assert phrase in texts[name], (name, texts[name][:300])
    cp = texts["windows-1252.txt"]
    for word in ("café-overleg", "financiële", "ruïneuze", "geëvalueerd", "Naïeve", "reëel"):
        assert word in cp, word
    assert "\ufffd" not in cp and "Ã" not in cp
    assert SCRIPT_MARKER not in texts["pagina.html"] and STYLE_MARKER not in texts["pagina.html"]


def test_rerun_is_unchanged_and_names_each_failure_on_stderr(folders, mixed_run):
    root, good, bad = folders
    p, _ = run_ingest([root / "map"], root / "data", "--quiet")
    assert p.returncode == 1
    assert f"unchanged {len(good)}," in p.stdout and f"failed {len(bad)};" in p.stdout and "0 chunks embedded" in p.stdout
    failed_lines = [line for line in p.stderr.splitlines() if line.startswith("failed: ")]
    assert len(failed_lines) == len(bad), p.stderr[-3000:]
    for name in bad:
        assert any(name in line for line in failed_lines), name
    assert "Traceback" not in p.stderr


def test_exit_code_0_when_everything_is_ingested(tmp_path):
    make_good(tmp_path / "goed")
    p, _ = run_ingest([tmp_path / "goed"], tmp_path / "data", "--json")
    assert p.returncode == 0, p.stderr[-2000:]
    assert json.loads(p.stdout)["failed"] == 0


def test_exit_code_2_on_usage_or_configuration_errors(tmp_path):
    make_good(tmp_path / "goed")
    p, _ = run_ingest([tmp_path / "goed"], tmp_path / "data", "--no-such-option")
    assert p.returncode == 2
    p, _ = run_ingest([tmp_path / "goed"], tmp_path / "data", env={"RODEDRAAD_CHUNK_TOKENS": "3"})
    assert p.returncode == 2 and "chunk_tokens" in p.stderr.lower()
    p, _ = run_ingest([tmp_path / "goed"], tmp_path / "data", env={"RODEDRAAD_CHROMA_URL": "http://"})
    assert p.returncode == 2 and "chroma" in p.stderr.lower(), p.stderr[-2000:]


def test_a_file_name_in_a_legacy_encoding_is_named_not_fatal(tmp_path):
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / os.fsdecode(b"rapport-caf\xe9.txt")).write_text(DUTCH * 2, encoding="utf-8")  # Latin-1 name
    (folder / "gewoon.txt").write_text(DUTCH * 2, encoding="utf-8")
    p, _ = run_ingest([folder], tmp_path / "data", "--json")
    assert p.returncode == 1, p.stderr[-2000:]
    files = json.loads(p.stdout)["files"]
    odd = next(f for f in files if "rapport-caf" in f["path"])
    assert odd["status"] == "failed" and "UTF-8" in odd["reason"] and "\\xe9" in odd["path"]
    assert next(f for f in files if f["path"].endswith("gewoon.txt"))["status"] == "added"
    assert "Traceback" not in p.stderr


def test_a_parse_that_hangs_is_cut_off_and_the_run_goes_on(tmp_path, monkeypatch):
    """The per-file time limit, with a reader that never finishes (in process, fake embedder)."""
    from .fakes import HashEmbedder

    from ingest import pipeline
    from retriever.index import ReportIndex

    def endless(path, **_options):
        while True:
            time.sleep(0.01)

    monkeypatch.setattr(pipeline, "READ_SECONDS", 1.0)
    monkeypatch.setattr(pipeline, "read_pdf", endless)
    folder = tmp_path / "map"
    folder.mkdir()
    (folder / "a-hangt.pdf").write_bytes(_pdf(["Een pagina"]))
    (folder / "b-goed.txt").write_text(DUTCH * 2, encoding="utf-8")
    index = ReportIndex.open(data_dir=tmp_path / "data", embedder=HashEmbedder(), create=True)
    started = time.perf_counter()
    report = pipeline.ingest([folder], index=index, normalise=lambda t: t, progress=False)
    assert time.perf_counter() - started < 30
    outcome = {Path(f.path).name: f for f in report.files}
    assert outcome["a-hangt.pdf"].status == "failed" and "longer than 1 s" in outcome["a-hangt.pdf"].reason
    assert outcome["b-goed.txt"].status == "added"


def test_hand_made_pdfs_are_valid_when_not_hostile():
    """The generators make real PDFs: only the nesting depth makes the nested one fail."""
    from pypdf import PdfReader

    assert "Diep geneste objecten" in PdfReader(io.BytesIO(_nested_pdf(depth=5))).pages[0].extract_text()
    assert "gewone tekst" in PdfReader(io.BytesIO(_broken_glyphs_pdf())).pages[0].extract_text()


def test_the_page_limit_is_checked_before_reading_pages(tmp_path):
    """The page cap fails the file by counting pages, without extracting them (bounded time)."""
    from ingest.read_pdf import MAX_PAGES, read_pdf
    from retriever.errors import UnreadableDocument

    path = tmp_path / "veel.pdf"
    path.write_bytes(_many_pages_pdf(MAX_PAGES + 1))
    started = time.perf_counter()
    with pytest.raises(UnreadableDocument, match="pages"):
        read_pdf(path)
    assert time.perf_counter() - started < 20
