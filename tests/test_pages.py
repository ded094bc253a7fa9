"""Pages of the original reports: the file route, the highlighted page route, and what lies under the
highlight, on the shipped PDFs with real pdfium, a real index and the real app.

Pixels are checked against the same page drawn without boxes: inside the boxes the paper takes the
citation colour, outside them nothing changes. What lies under the boxes is read back from the PDF's
own text layer.
"""
from __future__ import annotations

import difflib
import io
import re
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from retriever.types import Passage
from server.pageview.locate import locate
from server.pageview.render import HIGHLIGHT_RGB, RENDERER_VERSION, WIDTHS, render_png
from server.pageview.service import place_passage
from server.pageview.words import page_words, text_keys

from .conftest import NIVEL_PDF, ROOT, TOEZINE_PDF

NIVEL = "nivel-eshpm-2019-sectorbreed-leren-van-calamiteiten"
TOEZINE = "toezine-2016-onderzoek-naar-calamiteiten"
KNOWN = "Maak voor het verspreiden van inzichten uit calamiteitenrapportages"


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def client(parts):
    from server.app import create_app
    from server.config import ServerConfig

    with TestClient(create_app(parts, ServerConfig(rate_limit_per_minute=0))) as c:
        yield c


@pytest.fixture(scope="module")
def nivel():
    pdf = pdfium.PdfDocument(NIVEL_PDF)
    yield pdf
    pdf.close()


def passage_with(passages, text: str) -> Passage:
    return next(p for p in passages.all() if text in p.text)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def text_under(pdf, page: int, boxes) -> str:
    textpage = pdf[page - 1].get_textpage()
    return " ".join(textpage.get_text_bounded(*box) for box in boxes)


def agreement(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, text_keys(a), text_keys(b), autojunk=False).ratio()


# ------------------------------------------------------------------------------------------ the highlight


def test_highlight_boxes_of_a_known_passage_lie_over_its_words(client, passages, nivel):
    passage = passage_with(passages, KNOWN)
    place = place_passage(nivel, passage)
    assert place.pages == (passage.page,)
    # The PDF's own text under the boxes is the passage.
    assert agreement(text_under(nivel, passage.page, place.boxes[passage.page]), passage.text) > 0.95

    r = client.get(f"/api/passages/{passage.chunk_id}/page.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    drawn = render_png(nivel[passage.page - 1], width=800, boxes=place.boxes[passage.page])
    plain = render_png(nivel[passage.page - 1], width=800, boxes=[])
    assert r.content == drawn.png  # the route serves exactly this drawing
    marked, blank = pixels(drawn.png), pixels(plain.png)
    assert marked.shape == blank.shape == (drawn.height, 800, 3)

    inside = np.zeros(marked.shape[:2], bool)
    for left, top, right, bottom in drawn.boxes:
        inside[top:bottom, left:right] = True
    paper = (blank > 235).all(axis=2)
    ink = (blank < 120).all(axis=2)
    cite = (np.abs(marked - np.array(HIGHLIGHT_RGB)) <= 14).all(axis=2)
    assert (paper & inside).sum() > 5000
    assert cite[paper & inside].mean() > 0.97          # the paper under the boxes takes the colour
    assert ink[inside].sum() > 2000                   # and the boxes hold printed words
    assert (marked[ink & inside] < 120).all(axis=1).mean() > 0.95  # which stay dark (a marker, not paint)
    assert cite[~inside].sum() == 0                   # nothing is marked outside the boxes
    assert np.abs(marked[~inside] - blank[~inside]).max() <= 8  # the rest is as drawn (64-colour PNG)
    # The band the page scrolls to holds every box.
    top, bottom = (float(x) for x in r.headers["x-highlight"].split(","))
    assert top <= min(b[1] for b in drawn.boxes) / drawn.height + 0.01
    assert bottom >= max(b[3] for b in drawn.boxes) / drawn.height - 0.01
    assert r.headers["x-passage-pages"] == str(passage.page)


def test_highlight_colour_is_the_colour_the_page_marks_citations_with():
    css = (ROOT / "server" / "static" / "style.css").read_text(encoding="utf-8")
    value = re.search(r"--cite-mark:\s*#([0-9a-fA-F]{6})", css).group(1)
    assert tuple(int(value[i:i + 2], 16) for i in (0, 2, 4)) == HIGHLIGHT_RGB
    assert ".passage-text mark { background: var(--cite-mark)" in css


def test_locate_tolerates_words_that_differ_and_refuses_a_stray_phrase():
    body = "de inspectie onderzoekt elke calamiteit en deelt de lessen met de hele sector in het land"
    page = text_keys(f"Rapport 2019 pagina 4 {body} Voetnoot over iets anders")
    quote = text_keys(body.replace("onderzoekt", "onderzoekl").replace("lessen", "1essen"))
    span = locate(page, quote)
    assert (span.start, span.end, span.first, span.rest) == (4, 4 + len(quote), 0, len(quote))
    assert locate(page, text_keys("de hele wereld van morgen en gisteren zonder meer")) is None


def test_every_shipped_passage_is_found_on_its_page(passages):
    missed = []
    docs = {NIVEL: pdfium.PdfDocument(NIVEL_PDF), TOEZINE: pdfium.PdfDocument(TOEZINE_PDF)}
    for p in passages.all():
        words = page_words(docs[p.doc_id][p.page - 1].get_textpage())
        keys = text_keys(p.text)
        span = locate([w.key for w in words], keys)
        if span is None or span.coverage(len(keys)) < 0.9:
            missed.append(p.chunk_id)
    assert len(passages.all()) > 150 and not missed


def test_a_passage_crossing_a_page_break_highlights_on_both_pages(passages, nivel):
    # Chunks stop at page ends (ingest/chunk.py), so the passage here is the text of the last passage
    # of page 8, whose sentence runs on, and the first of page 9: as one passage crossing the break.
    on_8 = [p for p in passages.all() if p.doc_id == NIVEL and p.page == 8]
    on_9 = [p for p in passages.all() if p.doc_id == NIVEL and p.page == 9]
    tail, head = on_8[-1], on_9[0]
    assert not tail.text.rstrip().endswith(".") and head.text[:1].islower()  # one sentence over the break
    crossing = replace(tail, chunk_id="crossing", text=f"{tail.text} {head.text}")
    place = place_passage(nivel, crossing)
    assert place.pages == (8, 9)
    assert agreement(text_under(nivel, 8, place.boxes[8]), tail.text) > 0.9
    assert agreement(text_under(nivel, 9, place.boxes[9]), head.text) > 0.9
    # On the next page the highlight starts at the top, where the sentence goes on.
    drawn = render_png(nivel[8], width=800, boxes=place.boxes[9])
    assert drawn.highlight is not None and drawn.highlight[0] < 0.2


def test_a_passage_on_one_page_is_not_shown_on_the_next(client, passages):
    passage = passage_with(passages, KNOWN)
    r = client.get(f"/api/passages/{passage.chunk_id}/page.png", params={"page": passage.page + 1})
    assert r.status_code == 404 and f"lies on PDF page {passage.page}" in r.json()["error"]


def test_a_passage_with_ocr_errors_is_found_on_its_page(client, passages, nivel):
    passage = passage_with(passages, "1GJ beschikbaar")
    place = place_passage(nivel, passage)
    under = text_under(nivel, passage.page, place.boxes[passage.page])
    assert "1GJ" in under and agreement(under, passage.text) > 0.95
    # Text whose OCR spellings differ from the text layer ("IGJ" for the page's "1GJ", "l" for "i", a
    # misread word) lands on the same words.
    respelled = replace(passage, text=passage.text.replace("1GJ", "IGJ").replace("calamiteiten", "calamitelten")
                        .replace("beschikbaar", "bescbikbaar"))
    assert place_passage(nivel, respelled).boxes == place.boxes
    assert client.get(f"/api/passages/{passage.chunk_id}/page.png").headers["x-highlight"] != "none"


def test_second_request_comes_from_the_disk_cache(client, parts, passages):
    passage = passage_with(passages, "1GJ beschikbaar")
    first = client.get(f"/api/passages/{passage.chunk_id}/page.png", params={"width": 480})
    again = client.get(f"/api/passages/{passage.chunk_id}/page.png", params={"width": 480})
    assert first.status_code == again.status_code == 200 and first.content == again.content
    cached = list((parts.pages.cache.root / RENDERER_VERSION).rglob(f"{passage.chunk_id}-*-p{passage.page}-w480.png"))
    assert len(cached) == 1 and cached[0].read_bytes() == first.content
    assert Image.open(io.BytesIO(first.content)).width == 480


def test_width_is_one_of_the_fixed_sizes(client, passages):
    passage = passage_with(passages, KNOWN)
    r = client.get(f"/api/passages/{passage.chunk_id}/page.png", params={"width": 333})
    assert r.status_code == 422 and all(str(w) in r.text for w in WIDTHS)


# ------------------------------------------------------------------------------------------ the file


def test_the_original_pdf_is_served_as_ingested(client):
    r = client.get(f"/api/documents/{NIVEL}/file")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content == NIVEL_PDF.read_bytes()
    assert r.headers["content-disposition"].startswith("inline")


@pytest.mark.parametrize("doc_id", [
    "../corpus/catalog.toml", "..%2F..%2Fetc%2Fpasswd", "%2e%2e%2fREADME.md", "..", f"{NIVEL}%2F..%2F{TOEZINE}",
    f"{NIVEL}.pdf", f"{NIVEL}-pdf", f"{NIVEL}-txt", NIVEL.upper(), f"{NIVEL} ", f"{TOEZINE}-2", "corpus",
])
def test_traversal_and_lookalike_document_ids_are_404(client, doc_id):
    r = client.get(f"/api/documents/{doc_id}/file")
    assert r.status_code == 404 and "pdf" not in r.headers["content-type"]


@pytest.mark.parametrize("make_id", [
    lambda c: "../" + c, lambda c: c + "0", lambda c: c.upper(), lambda c: c[:-1], lambda c: f"{c}%2F..%2F{c}",
])
def test_lookalike_chunk_ids_are_404(client, passages, make_id):
    chunk_id = passage_with(passages, KNOWN).chunk_id
    r = client.get(f"/api/passages/{make_id(chunk_id)}/page.png")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")


# ------------------------------------------------------------------------------------------ a corpus of our own


@pytest.fixture(scope="module")
def own(tmp_path_factory, embedder):
    """A copy of the Toezine PDF and a Markdown note, ingested into an index of their own."""
    from ingest.pipeline import ingest
    from rodedraad.assemble import build_parts, open_glossary, open_index, open_searcher
    from rodedraad.settings import Settings
    from server.app import create_app
    from server.config import ServerConfig

    folder = tmp_path_factory.mktemp("own-corpus")
    pdf = folder / "toezine-kopie.pdf"
    shutil.copyfile(TOEZINE_PDF, pdf)
    (folder / "notitie.md").write_text("# Notitie\n\nDe inspectie onderzoekt elke calamiteit in de jeugdzorg "
                                       "zorgvuldig en deelt de lessen met de sector.\n", encoding="utf-8")
    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("own-index"), rate_limit_per_minute=0)

    def run_ingest():
        index = open_index(settings, embedder=embedder, create=True)
        return ingest([folder], index=index, normalise=open_glossary(settings).normaliser, progress=False)

    assert not run_ingest().failed
    searcher = open_searcher(settings, index=open_index(settings, embedder=embedder))
    searcher.warm_up()
    parts = build_parts(settings, searcher=searcher)
    with TestClient(create_app(parts, ServerConfig(rate_limit_per_minute=0))) as c:
        yield {"client": c, "pdf": pdf, "folder": folder, "parts": parts, "settings": settings, "ingest": run_ingest}


def own_chunk(own, doc_id: str) -> str:
    return next(p.chunk_id for p in own["parts"].passages.all() if p.doc_id == doc_id)


def test_a_changed_file_is_refused_not_served(own):
    c, pdf = own["client"], own["pdf"]
    original = pdf.read_bytes()
    chunk = own_chunk(own, "toezine-kopie")
    assert c.get("/api/documents/toezine-kopie/file").content == original
    assert c.get(f"/api/passages/{chunk}/page.png").status_code == 200  # now in the cache
    try:
        pdf.write_bytes(original.replace(b"Toezine", b"Tooxine", 1))
        for url in ("/api/documents/toezine-kopie/file", f"/api/passages/{chunk}/page.png"):
            r = c.get(url)
            assert r.status_code == 409 and "has changed since it was ingested" in r.json()["error"], url
        pdf.unlink()
        pdf.symlink_to(TOEZINE_PDF)  # the same bytes, but another file in its place
        assert c.get("/api/documents/toezine-kopie/file").status_code == 410
        pdf.unlink()
        r = c.get("/api/documents/toezine-kopie/file")
        assert r.status_code == 410 and "no longer at" in r.json()["error"]
        assert c.get(f"/api/passages/{chunk}/page.png").status_code == 410
    finally:
        if pdf.is_symlink():
            pdf.unlink()
        pdf.write_bytes(original)
    assert c.get("/api/documents/toezine-kopie/file").content == original
    assert c.get(f"/api/passages/{chunk}/page.png").status_code == 200


def test_a_document_without_pages_answers_404_with_a_message(own):
    c = own["client"]
    r = c.get(f"/api/passages/{own_chunk(own, 'notitie')}/page.png")
    assert r.status_code == 404 and "without pages" in r.json()["error"]
    f = c.get("/api/documents/notitie/file")
    assert f.status_code == 200 and f.headers["content-type"].startswith("text/markdown")
    assert "sandbox" in f.headers["content-security-policy"]  # an ingested HTML file cannot script this origin


def test_records_made_before_hashes_ask_for_a_reingest_which_fills_them_in(own):
    c = own["client"]
    db = sqlite3.connect(own["settings"].data_dir / "records.sqlite3")
    db.execute("UPDATE files SET sha256 = ''")
    db.commit()
    r = c.get("/api/documents/toezine-kopie/file")
    assert r.status_code == 409 and "rodedraad ingest" in r.json()["error"]
    report = own["ingest"]()
    assert {f.status for f in report.files} == {"unchanged"}  # hashed, not parsed again
    assert c.get("/api/documents/toezine-kopie/file").status_code == 200
    assert all(row[0] for row in db.execute("SELECT sha256 FROM files"))
    db.close()
