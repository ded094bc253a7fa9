"""Ingestion into real embedded Chroma: page-exact chunks, idempotence, incremental updates, bad input."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.chunk import chunk_paragraphs
from ingest.clean import _join, page_paragraphs
from ingest.pipeline import ingest
from retriever.index import ReportIndex
from retriever.glossary import Glossary
from retriever.errors import EmbeddingModelMismatch
from retriever.types import DocumentInfo, Page

from .conftest import CORPUS, NIVEL_PDF, SHARED, TOEZINE_PDF
from .fakes import HashEmbedder

NORMALISE = Glossary.load(Path(__file__).parent.parent / "retriever" / "data" / "glossary.toml").normaliser


def open_index(data_dir: Path, embedder=None) -> ReportIndex:
    return ReportIndex.open(data_dir=data_dir, embedder=embedder or HashEmbedder(), create=True)


def all_records(index: ReportIndex) -> dict[str, dict]:
    return {cid: meta for cid, _doc, meta in index.scan()}


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    for f in (NIVEL_PDF, TOEZINE_PDF, CORPUS / "catalog.toml"):
        shutil.copy(f, folder / f.name)
    return folder


def test_chunks_carry_page_label_section_and_metadata(tmp_path, corpus_copy):
    index = open_index(tmp_path / "data")
    report = ingest([corpus_copy], index=index, normalise=NORMALISE, progress=False)
    assert report.count("added") == 2 and not report.failed
    records = all_records(index)
    nivel = [m for m in records.values() if m["doc_id"].startswith("nivel")]
    assert {m["title"] for m in nivel} == {"Sectorbreed leren van calamiteiten in de jeugdhulpverlening"}
    assert {m["year"] for m in nivel} == {2019}
    # every chunk on PDF page 8 carries printed label 12; labels follow the PDF page by offset
    assert {m["page_label"] for m in nivel if m["page"] == 8} == {"12"}
    assert {m["page_label"] for m in nivel if m["page"] == 9} == {"13"}
    sections = {m["section"] for m in nivel}
    assert any(s.startswith("1.3.1 ") for s in sections)
    # the footer never reaches the text, and the OCR error stays in the quotable text
    docs = {cid: d for cid, d, _ in index.scan()}
    assert not any("Nivel / ESHPM Sectorbreed" in d for d in docs.values())
    assert any("1GJ" in d for d in docs.values())
    assert all("1gj" not in m["search_text"].split() for m in records.values())
    assert any("igj" in m["search_text"].split() for m in records.values())


def test_chunks_stay_within_the_model_limit(embedder):
    from ingest.pipeline import chunk_file

    _pages, chunks = chunk_file(NIVEL_PDF, None, doc_id="nivel", target_tokens=10_000, max_tokens=embedder.max_tokens,
                                count_tokens=embedder.count_tokens, normalise=NORMALISE, tag_themes=lambda _t: ())
    lengths = [embedder.count_tokens(c.text) for c in chunks]
    assert max(lengths) <= embedder.max_tokens
    assert max(lengths) > embedder.max_tokens // 2  # the large target really packed paragraphs


def test_reingest_of_unchanged_corpus_writes_nothing(tmp_path, corpus_copy):
    emb = HashEmbedder()
    index = open_index(tmp_path / "data", emb)
    ingest([corpus_copy], index=index, normalise=NORMALISE, progress=False)
    first, embedded = all_records(index), emb.embedded
    again = ingest([corpus_copy], index=open_index(tmp_path / "data", emb), normalise=NORMALISE, progress=False)
    assert again.count("unchanged") == 2 and again.chunks_added == 0
    assert emb.embedded == embedded
    assert all_records(index).keys() == first.keys()


def test_changed_file_replaces_its_chunks_and_prune_removes_gone_files(tmp_path, corpus_copy):
    emb = HashEmbedder()
    index = open_index(tmp_path / "data", emb)
    note = corpus_copy / "notitie.txt"
    note.write_text("Eerste versie van een notitie over opschalen en afschalen van jeugdhulp.\n", encoding="utf-8")
    ingest([corpus_copy], index=index, normalise=NORMALISE, progress=False)
    before = all_records(index)
    old_note = {c for c, m in before.items() if m["doc_id"] == "notitie"}
    assert old_note
    note.write_text("Tweede versie: de handelingsplicht van professionals staat centraal.\n", encoding="utf-8")
    r = ingest([corpus_copy], index=index, normalise=NORMALISE, progress=False)
    assert r.count("updated") == 1 and r.count("unchanged") == 2
    after = all_records(index)
    new_note = {c for c, m in after.items() if m["doc_id"] == "notitie"}
    assert new_note and not (new_note & old_note)
    assert {c for c in after if c not in new_note} == {c for c in before if c not in old_note}
    (corpus_copy / TOEZINE_PDF.name).unlink()
    kept = ingest([corpus_copy], index=index, normalise=NORMALISE, progress=False)
    assert any(m["doc_id"].startswith("toezine") for m in all_records(index).values()), "no prune without --prune"
    assert kept.count("removed") == 0
    pruned = ingest([corpus_copy], index=index, normalise=NORMALISE, prune=True, progress=False)
    assert pruned.count("removed") == 1
    assert not any(m["doc_id"].startswith("toezine") for m in all_records(index).values())


def test_same_content_gets_the_same_ids_in_a_fresh_index(tmp_path, corpus_copy):
    a = open_index(tmp_path / "a")
    b = open_index(tmp_path / "b")
    ingest([corpus_copy], index=a, normalise=NORMALISE, progress=False)
    ingest([corpus_copy], index=b, normalise=NORMALISE, progress=False)
    assert sorted(all_records(a)) == sorted(all_records(b))


def test_index_refuses_another_embedding_model(tmp_path, corpus_copy):
    index = open_index(tmp_path / "data", HashEmbedder("model-a"))
    ingest([corpus_copy], index=index, normalise=NORMALISE, progress=False)
    with pytest.raises(EmbeddingModelMismatch, match="model-a"):
        open_index(tmp_path / "data", HashEmbedder("model-b"))


def test_bad_files_are_named_and_the_rest_ingested(tmp_path, corpus_copy):
    (corpus_copy / "leeg.pdf").write_bytes(b"")
    (corpus_copy / "kapot.pdf").write_bytes(NIVEL_PDF.read_bytes()[:5000])
    (corpus_copy / "oud.txt").write_bytes("Calamiteiten in de jeugdhulp: één rapport over ernstige gebeurtenissen.".encode("cp1252"))
    (corpus_copy / "tabel.xlsx").write_bytes(b"PK\x03\x04 not really")
    index = open_index(tmp_path / "data")
    report = ingest([corpus_copy], index=index, normalise=NORMALISE, progress=False)
    failed = {Path(f.path).name: f.reason for f in report.failed}
    assert set(failed) == {"leeg.pdf", "kapot.pdf", "tabel.xlsx"}
    assert "empty" in failed["leeg.pdf"] and "unsupported" in failed["tabel.xlsx"]
    docs = {m["doc_id"] for m in all_records(index).values()}
    assert {"oud", "toezine-2016-onderzoek-naar-calamiteiten"} <= docs
    texts = [d for _, d, m in index.scan() if m["doc_id"] == "oud"]
    assert "één rapport" in texts[0]  # legacy encoding detected


def test_corpus_extra_pdfs_and_laws_ingest(tmp_path):
    extra = SHARED / "corpus-extra"
    files = sorted((extra / "tk-kamervragen").glob("*.pdf"))[:2] + [
        extra / "laws-jeugd-zorg-2017" / "BWBR0033723__AMvB_besluit_verplichte_meldcode_huiselijk_geweld_en_kindermishandeling.md"]
    index = open_index(tmp_path / "data")
    report = ingest(files, index=index, normalise=NORMALISE, progress=False)
    assert not report.failed, report.failed
    assert report.count("added") == 3
    assert all(f.chunks > 0 for f in report.files)


def test_dehyphenation_and_line_joining():
    assert _join(["het is een jeugd-", "hulpverlener die"]) == "het is een jeugdhulpverlener die"
    assert _join(["aandacht voor zorg-", "en veiligheid"]) == "aandacht voor zorg- en veiligheid"
    paras = page_paragraphs("2.1 Inleiding\nDit is een lange regel die doorloopt naar de volgende regel van\n"
                            "de alinea en hier eindigt.\nNieuwe alinea begint hier.", 3, lambda _l: False)
    assert paras[0].heading == "2.1" and paras[1].text.startswith("Dit is een lange regel die doorloopt naar de volgende regel van de alinea")


def test_chunk_ids_are_stable_and_sections_tracked():
    doc = DocumentInfo(doc_id="d", title="T")
    pages = [Page(1, "7", "x")]
    paras = page_paragraphs("3.2.3 Boodschap te algemeen\nDe boodschap is te algemeen voor professionals.", 1, lambda _l: False)
    kwargs = dict(target_tokens=50, max_tokens=512, count_tokens=lambda t: len(t.split()), normalise=NORMALISE)
    a = chunk_paragraphs(doc, pages, paras, **kwargs)
    b = chunk_paragraphs(doc, pages, paras, **kwargs)
    assert [c.chunk_id for c in a] == [c.chunk_id for c in b]
    assert a[0].section == "3.2.3 Boodschap te algemeen" and a[0].page_label == "7"


def test_cli_ingest_json_summary_and_exit_codes(tmp_path, corpus_copy, monkeypatch):
    from rodedraad.cli import main

    monkeypatch.setenv("RODEDRAAD_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()
    ok = runner.invoke(main, ["ingest", str(corpus_copy / TOEZINE_PDF.name), "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["added"] == 1
    (corpus_copy / "leeg.txt").write_text("")
    bad = runner.invoke(main, ["ingest", str(corpus_copy / "leeg.txt"), "--json"])
    assert bad.exit_code == 1
    assert json.loads(bad.output)["files"][0]["reason"]
    monkeypatch.setenv("RODEDRAAD_CHUNK_TOKENS", "not-a-number")
    conf = runner.invoke(main, ["ingest", "--json"])
    assert conf.exit_code == 2


def test_a_list_item_ends_on_its_short_last_line():
    """The Toezine's list of inspectorates ends "• de Inspectie Sociale Zaken en Werkgelegenheid"
    without a full stop; the paragraph below it is the article going on, not part of the item."""
    from ingest.pipeline import read_pages

    pages, is_running, _meta = read_pages(TOEZINE_PDF)
    paras = [p.text for page in pages for p in page_paragraphs(page.text, page.number, is_running)]
    i = next(i for i, p in enumerate(paras) if "de Inspectie Sociale Zaken en Werkgelegenheid" in p)
    assert paras[i].endswith("Werkgelegenheid"), paras[i]
    assert paras[i + 1].startswith("De samenwerkende inspecties houden toezicht")
