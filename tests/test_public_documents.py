"""Other Dutch public-sector documents, read the way their readers read them: the numbered
questions and answers of a parliamentary question (real pypdf on a real PDF of
../shared/corpus-extra), a law's articles and definitions (its real Markdown), and the answers
over both (real model, real embedded Chroma)."""
from __future__ import annotations

from pathlib import Path

import pytest

from ingest.clean import page_paragraphs
from ingest.pipeline import read_pages
from ingest.read_text import read_text

from .conftest import SHARED, ingested_settings

EXTRA = SHARED / "corpus-extra"
# Kamervragen about youth-care providers' finances, answered by the state secretary (3 pages)
KAMERVRAAG = EXTRA / "tk-kamervragen" / "1b922783-f576-4df5-a031-ad0063d2afd4.pdf"
JEUGDWET = EXTRA / "laws-jeugd-zorg-2017" / "BWBR0034925__wet_jeugdwet.md"
# A Woo release: one e-mail, OCR'd, with redaction codes
WOO_MAIL = EXTRA / "vws-woo-documenten" / "jp4_VWS-WOO-185916-input_voor_jeugd_escalatieladder.pdf"


# A work instruction whose header reads "Pagina 2 van 9 Werkinstructie Weerbulletin Versie 5.2, 10 januari 2022"
KNMI = EXTRA / "pbl-publicaties" / "docs" / "KNMI_werkinstructies_selectie" / "Werkinstructie Weerbulletin Versie 5.2, 10 januari 2022.pdf"


def paragraphs(path: Path) -> list[str]:
    pages, is_running, _meta = read_pages(path)
    return [p.text for page in pages for p in page_paragraphs(page.text, page.number, is_running)]


def test_a_parliamentary_answer_keeps_its_numbered_heading():
    paras = paragraphs(KAMERVRAAG)
    # "Antwoord 2" repeats with other numbers on every page: a sequence of headings, not a footer
    assert "Antwoord 2" in paras and "Vraag 3" in paras
    after = paras[paras.index("Antwoord 2") + 1]
    assert after.startswith("Er kunnen verschillende oorzaken zijn"), after
    # the page footer, which also carries a number, is still dropped
    assert not any(p.startswith("Tweede Kamer, vergaderjaar 2023–2024, Aanhangsel") for p in paras)


def test_a_page_number_is_read_from_pagina_n_van_m_not_from_the_year_beside_it():
    pages, _is_running, _meta = read_pages(KNMI)
    assert [p.label for p in pages] == [str(i) for i in range(1, len(pages) + 1)]
    pages, _is_running, _meta = read_pages(EXTRA / "vws-woo-documenten" / "bes4_VWS-WOO-171436-Oplegnota_2020-09-29_13_49_19.docx.pdf")
    assert [p.label for p in pages] == ["1", "2"]  # "Pagina 1 van 2", not the document number above it


def test_mail_header_fields_are_lines_of_their_own():
    paras = paragraphs(WOO_MAIL)
    assert "Subject: input voor jeugd escalatieladder" in paras
    assert "input jeugd escalatieladder.docx" in paras  # the attachment's name, not the message's first words
    assert not any("Received:" in p and "Bijgevoegd" in p for p in paras)


def test_the_question_put_is_marked_as_asked_and_its_answer_is_not():
    from retriever.units import split_units

    units = split_units("\n\n".join(paragraphs(KAMERVRAAG)))
    texts = [u.display for u in units]
    start, end = texts.index("Vraag 2"), texts.index("Antwoord 2")
    assert end > start + 1 and all(u.asked for u in units[start + 1:end])
    assert "Zo ja, graag een gedetailleerde toelichting." in texts[start + 1:end]  # a request, not an answer
    assert not units[end + 1].asked and units[end + 1].display.startswith("Er kunnen verschillende oorzaken")


def test_markdown_reads_as_its_text():
    text = "\n".join(p.text for p in read_text(JEUGDWET))
    assert "*calamiteit:*" not in text and "###" not in text
    assert "– calamiteit: niet-beoogde of onverwachte gebeurtenis" in text
    assert "\nArtikel 4.1.8\n" in text  # a heading on a line of its own, not run into the article


@pytest.fixture(scope="module")
def public_answerer(tmp_path_factory, embedder):
    """An index of the parliamentary question and the law's first chapter (its definitions and
    duties: the whole law takes minutes to embed), and the answerer over it."""
    from rodedraad.assemble import build_parts, open_index, open_searcher

    folder = tmp_path_factory.mktemp("public-docs")
    law = JEUGDWET.read_text(encoding="utf-8")
    (folder / "jeugdwet.md").write_text(law[: law.index("### Artikel  2.1 ")], encoding="utf-8")
    (folder / KAMERVRAAG.name).write_bytes(KAMERVRAAG.read_bytes())
    settings = ingested_settings(tmp_path_factory.mktemp("public-index"), [folder], embedder)
    searcher = open_searcher(settings, index=open_index(settings, embedder=embedder))
    return build_parts(settings, searcher=searcher).answerer.inner


def test_a_question_is_answered_from_the_answer_not_by_the_question(public_answerer):
    a = public_answerer.answer("wat zijn de oorzaken van de financiële problemen bij jeugdzorgaanbieders?")
    assert not a.abstained
    assert "Er kunnen verschillende oorzaken zijn" in a.citations[0].quote
    # the Kamer's own questions ("Kunt u uitleggen …?") answer nothing
    assert not any(c.quote.rstrip("”’\"') ").endswith("?") for c in a.citations), [c.quote for c in a.citations]


def test_the_kamers_question_in_the_users_words_is_answered_by_its_answer(public_answerer):
    paras = paragraphs(KAMERVRAAG)
    answer = " ".join(paras[paras.index("Antwoord 3") + 1:paras.index("Vraag 4")])
    a = public_answerer.answer("wat doet de overheid om faillissement van jeugdzorgaanbieders te voorkomen?")
    assert not a.abstained
    assert a.citations[0].quote.split(" … ")[0] in answer, a.text


def test_tackling_waiting_times_is_not_a_question_for_a_duration(public_answerer):
    a = public_answerer.answer("hoe pakt de staatssecretaris de wachttijden in de jeugdzorg aan?")
    assert not a.abstained, a.text
    assert any("Aanpak Wachttijden" in c.passage.text for c in a.citations)


def test_a_law_definition_leads_what_is_question(public_answerer):
    a = public_answerer.answer("wat is een calamiteit volgens de jeugdwet?")
    assert not a.abstained
    assert "niet-beoogde of onverwachte gebeurtenis" in a.citations[0].quote, a.text
