"""Precedent search on the shipped corpus: one entry per report, period and cases quoted from the
text, reports that the documents only mention, filters; the attribution rules on small texts;
HTTP and CLI."""
from __future__ import annotations

import json
import re

import httpx
import pytest

from retriever.types import Filters, Passage

NIVEL = "nivel-eshpm-2019-sectorbreed-leren-van-calamiteiten"
TOEZINE = "toezine-2016-onderzoek-naar-calamiteiten"
LVC1 = "vermeld:leren-van-calamiteiten-2013"
LVC2 = "vermeld:leren-van-calamiteiten-2016"
GELDERLAND = "vermeld:screeningsfase-pleegzorg-gelderland-2017"


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def finder(searcher, passages, terms):
    from retriever.mentions import MentionCatalogue
    from retriever.precedents import PrecedentFinder

    return PrecedentFinder(searcher, passages, terms, MentionCatalogue.load())


def entry(entries, doc_id):
    found = [e for e in entries if e.doc_id == doc_id]
    assert found, f"{doc_id} not among {[e.doc_id for e in entries]}"
    return found[0]


def assert_quoted(passages, fact) -> None:
    """A fact's sentence stands verbatim in the passage it names, and its value in the sentence."""
    assert fact.match in fact.text
    passage = passages.passage(fact.chunk_id)
    assert flat(fact.text) in flat(passage.text)
    assert fact.page_label == passage.page_label


# -- the shipped corpus --------------------------------------------------------------------------

def test_opschalen_lists_both_documents_once_with_passages_on_it(finder):
    entries = finder.find("opschalen en afschalen")
    docs = [e.doc_id for e in entries if e.kind == "document"]
    assert sorted(docs) == sorted({NIVEL, TOEZINE}) and len(docs) == len(set(docs))
    for doc in (NIVEL, TOEZINE):
        e = entry(entries, doc)
        assert e.title and e.year and e.publisher
        assert all(c.passage.doc_id == doc for c in e.passages)
        assert any(re.search(r"(op|af)schal", c.passage.text, re.I) for c in e.passages), doc
    scores = [e.score for e in entries]
    assert scores == sorted(scores, reverse=True)


def test_mentioned_reports_found_through_the_passages_that_name_them(finder, passages):
    for query, doc_id, year, named in (
        ("Leren van calamiteiten 2013", LVC1, 2013, r"Leren van calamiteiten|STJ, 2013"),
        ("Leren van calamiteiten 2 uit 2016", LVC2, 2016, r"Leren van calamiteiten[- ]2|STJ/TSD, 2016"),
        ("screening van pleegouders in Gelderland", GELDERLAND, 2017, r"Gelderland"),
    ):
        e = entry(finder.find(query), doc_id)
        assert e.kind == "vermeld rapport" and e.year == year
        assert e.mentioned_in == NIVEL and NIVEL in e.mentioned_in_docs
        assert e.metadata_source
        assert e.passages and any(re.search(named, c.passage.text, re.I) for c in e.passages), query
        for c in e.passages:
            assert flat(c.quote) in flat(passages.passage(c.passage.chunk_id).text)


def test_period_and_cases_are_quoted_from_the_report_they_belong_to(finder, passages):
    lvc1 = entry(finder.find("Leren van calamiteiten 2013"), LVC1)
    lvc2 = entry(finder.find("Leren van calamiteiten 2 uit 2016"), LVC2)
    assert lvc1.cases and "acht" in lvc1.cases.match and "en elf" not in lvc1.cases.match
    assert lvc1.period and "2011-2012" in lvc1.period.match
    assert lvc2.cases and re.search(r"\b(11|elf)\b", lvc2.cases.match)
    assert lvc2.period and "2013-2016" in lvc2.period.match
    for fact in (lvc1.cases, lvc1.period, lvc2.cases, lvc2.period):
        assert_quoted(passages, fact)


def test_documents_state_their_own_period_or_none(finder, passages):
    entries = finder.find("hoe leren organisaties van calamiteiten")
    nivel = entry(entries, NIVEL)
    assert nivel.period is not None and "2018" in nivel.period.match and "2019" in nivel.period.match
    assert_quoted(passages, nivel.period)
    # the study's "acht en elf calamiteiten" are the cases of the two reports it studies, not its own
    assert nivel.cases is None or "acht en elf" not in nivel.cases.text
    for e in entries:
        for fact in (e.period, e.cases):
            if fact is not None:
                assert_quoted(passages, fact)


def test_filters_on_year_publisher_and_type(finder):
    later = finder.find("opschalen en afschalen", filters=Filters(year_from=2017))
    assert later and all((e.year or 0) >= 2017 for e in later)
    assert TOEZINE not in {e.doc_id for e in later}
    toezine = finder.find("opschalen en afschalen", filters=Filters(publishers=("Toezine",)))
    assert {e.doc_id for e in toezine} == {TOEZINE}
    articles = finder.find("opschalen en afschalen", filters=Filters(doc_types=("artikel",)))
    assert {e.doc_id for e in articles} == {TOEZINE}
    early = finder.find("Leren van calamiteiten 2013", filters=Filters(year_to=2014))
    assert LVC1 in {e.doc_id for e in early}
    assert all(e.kind == "vermeld rapport" and e.year and e.year <= 2014 for e in early)


def test_retriever_precedents_still_works_on_its_own(finder):
    ps = finder.precedents("opschalen en afschalen", reports=5, per_report=2)
    assert {p.doc.doc_id for p in ps} == {NIVEL, TOEZINE}
    assert all(len(p.hits) <= 2 for p in ps)


# -- attribution rules on small texts -------------------------------------------------------------

def _passages(*texts: str, section: str = "1 Inleiding") -> list[Passage]:
    return [Passage(chunk_id=f"c{i}", doc_id="d", title="T", text=t, page=i + 1, page_label=str(i + 1),
                    section=section, position=i, year=2019) for i, t in enumerate(texts)]


def test_cites_count_only_inside_brackets_and_refer_back_carries_over():
    from retriever.mentions import MentionCatalogue

    idx = MentionCatalogue.load().index(_passages(
        "Zie de Meerjarenvisie (Meerjarenvisie 2016-2019, STJ/TSD, 2016). Dat is beleid.",
        "Het tweede rapport (STJ/TSD, 2016) gaat over 11 calamiteiten. Dit rapport noemt drie rode draden. "
        "Nu iets anders. Elf gezinnen deden mee.",
    ))
    about = {p.chunk_id: [p.text[s.start:s.end] for s in sents]
             for p, sents in idx.passages_about("leren-van-calamiteiten-2016")}
    assert "c0" not in about
    assert about["c1"] == ["Het tweede rapport (STJ/TSD, 2016) gaat over 11 calamiteiten.",
                           "Dit rapport noemt drie rode draden."]


def test_a_heading_naming_a_report_carries_into_the_next_passage_but_not_a_new_section():
    from retriever.mentions import MentionCatalogue

    ps = _passages("Inleiding van het hoofdstuk.\n\nTweede integrale rapport: Leren van calamiteiten-2 (2016)",
                   "Het tweede rapport gaat over 11 calamiteitenonderzoeken die in 2013-2016 zijn uitgevoerd.")
    ps.append(Passage(chunk_id="c9", doc_id="d", title="T", text="Het rapport gaat over iets anders.", page=3,
                      page_label="3", section="2 Methode", position=9))
    idx = MentionCatalogue.load().index(ps)
    assert [p.chunk_id for p, _ in idx.passages_about("leren-van-calamiteiten-2016")] == ["c0", "c1"]


def test_quoted_titles_are_detected_with_year_and_author_from_the_citation():
    from retriever.mentions import MentionCatalogue

    idx = MentionCatalogue.load().index(_passages(
        "Dit volgt het invloedrijke rapport ‘Veilig Opgroeien in Lutjebroek’ (Jansen et al., 2011)."))
    found = [r for r in idx.reports.values() if r.title == "Veilig Opgroeien in Lutjebroek"]
    assert found and found[0].year == 2011 and found[0].publisher == "Jansen et al."
    assert "c0" in found[0].source


# -- HTTP and CLI ---------------------------------------------------------------------------------

def test_api_precedents_shape(live_server, passages):
    r = httpx.get(f"{live_server.url}/api/precedents", params={"q": "opschalen en afschalen"}, timeout=120)
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == "opschalen en afschalen"
    docs = [p["doc_id"] for p in body["precedents"] if p["kind"] == "document"]
    assert sorted(docs) == sorted({NIVEL, TOEZINE})
    for p in body["precedents"]:
        assert {"doc_id", "title", "publisher", "year", "doc_type", "url", "score", "period", "cases",
                "passages", "kind", "mentioned_in"} <= set(p)
        for fact in (p["period"], p["cases"]):
            assert fact is None or {"text", "chunk_id", "page_label"} <= set(fact)
        for c in p["passages"]:
            assert {"chunk_id", "page", "page_label", "section", "text"} <= set(c)
            assert passages.passage(c["chunk_id"]).text == c["text"]


def test_api_precedents_filters_and_bad_input(live_server):
    r = httpx.get(f"{live_server.url}/api/precedents",
                  params={"q": "opschalen en afschalen", "doc_type": "artikel", "k": 3}, timeout=120)
    assert r.status_code == 200 and {p["doc_id"] for p in r.json()["precedents"]} == {TOEZINE}
    assert httpx.get(f"{live_server.url}/api/precedents", timeout=30).status_code == 422
    too_early = httpx.get(f"{live_server.url}/api/precedents", params={"q": "x", "year_from": 1200}, timeout=30)
    assert too_early.status_code == 422


def test_cli_precedents(corpus_settings):
    from click.testing import CliRunner

    from rodedraad.cli import main

    env = {"RODEDRAAD_DATA_DIR": str(corpus_settings.data_dir)}
    out = CliRunner().invoke(main, ["precedents", "screening van pleegouders in Gelderland", "--json"], env=env)
    assert out.exit_code == 0, out.output
    entries = json.loads(out.output)["precedents"]
    assert GELDERLAND in [e["doc_id"] for e in entries]
    text = CliRunner().invoke(main, ["precedents", "opschalen en afschalen", "--year-from", "2017"], env=env)
    assert text.exit_code == 0 and "Sectorbreed" in text.output and "Toezine" not in text.output
    bad = CliRunner().invoke(main, ["precedents", "x", "--year-from", "2019", "--year-to", "2016"], env=env)
    assert bad.exit_code == 2
