"""PDF pages, printed page labels and running-line removal on the real shipped PDFs."""
from __future__ import annotations

import pytest
from reportlab.pdfgen import canvas

from ingest.clean import page_paragraphs
from ingest.read_pdf import read_pdf
from ingest.running_lines import labels_from_printed
from retriever.errors import UnreadableDocument

from .conftest import NIVEL_PDF, TOEZINE_PDF

FOOTER = "Nivel / ESHPM Sectorbreed leren van calamiteiten in de jeugdhulpverlening"


@pytest.fixture(scope="module")
def nivel():
    return read_pdf(NIVEL_PDF)


def test_pdf_page_8_carries_printed_page_12(nivel):
    pages, _ = nivel
    page8 = pages[7]
    assert page8.number == 8
    assert f"{FOOTER} 12" in page8.text  # the footer really is on this page
    assert page8.label == "12"


def test_page_without_footer_gets_label_by_offset(nivel):
    pages, _ = nivel
    page9 = pages[8]
    assert FOOTER not in page9.text
    assert page9.label == "13"
    # pages before the first footer are counted back from it
    assert pages[0].label == "5"


def test_later_footer_resets_the_offset(nivel):
    pages, _ = nivel
    # the original skips a page number: PDF page 11 prints 16, PDF page 28 prints 34
    assert pages[10].label == "16"
    assert pages[11].label == "17"
    assert pages[27].label == "34"


def test_running_footer_is_removed_from_paragraphs(nivel):
    pages, running = nivel
    for number in (8, 11, 28, 32):
        paras = page_paragraphs(pages[number - 1].text, number, running.is_running)
        assert paras, number
        assert not any(FOOTER in p.text for p in paras), number


def test_single_page_article_has_label_1():
    pages, _ = read_pdf(TOEZINE_PDF)
    assert [p.label for p in pages] == ["1"]
    assert "Onderzoek naar calamiteiten" in pages[0].text


def test_pdf_page_labels_take_precedence(tmp_path):
    path = tmp_path / "labelled.pdf"
    c = canvas.Canvas(str(path))
    for i in range(5):
        c.drawString(72, 720, f"Dit is de tekst van pagina nummer {i} met genoeg woorden voor een tekstlaag.")
        c.showPage()
    c.addPageLabel(0, style="ROMAN_LOWER")
    c.addPageLabel(2, style="ARABIC", start=1)
    c.save()
    pages, _ = read_pdf(path)
    assert [p.label for p in pages] == ["i", "ii", "1", "2", "3"]
    assert [p.number for p in pages] == [1, 2, 3, 4, 5]


def test_printed_numbers_that_run_backwards_are_ignored():
    # a "3" in a table on page 5 must not restart the numbering
    assert labels_from_printed((None, 10, None, None, 3, None)) == ["9", "10", "11", "12", "13", "14"]


@pytest.mark.parametrize("make, reason", [
    (lambda p: p.write_bytes(b""), "PDF"),
    (lambda p: p.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\n"), "corrupt"),
    (lambda p: p.write_bytes(b"<html><body>geen pdf</body></html>"), "corrupt"),
])
def test_unreadable_pdfs_raise_with_a_reason(tmp_path, make, reason):
    path = tmp_path / "bad.pdf"
    make(path)
    with pytest.raises(UnreadableDocument) as e:
        read_pdf(path)
    assert str(path) in str(e.value)


def test_encrypted_pdf_is_refused_with_a_clear_reason(tmp_path):
    path = tmp_path / "secret.pdf"
    c = canvas.Canvas(str(path), encrypt="geheim")
    c.drawString(72, 720, "Vertrouwelijk rapport over een calamiteit in de jeugdhulp.")
    c.save()
    with pytest.raises(UnreadableDocument, match="encrypted"):
        read_pdf(path)


def test_pdf_without_text_layer_needs_ocr(tmp_path):
    path = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(path))
    c.rect(100, 100, 300, 300, fill=1)
    c.showPage()
    c.save()
    with pytest.raises(UnreadableDocument, match="OCR"):
        read_pdf(path)
