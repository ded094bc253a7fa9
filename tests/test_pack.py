"""Session packs: Markdown and HTML over HTTP with working citations, quotes verbatim from their
passages, questions marked as suggestions; escaping; the cue-word sorting; the CLI."""
from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from retriever.types import Filters, Passage

NIVEL = "nivel-eshpm-2019-sectorbreed-leren-van-calamiteiten"
TOEZINE = "toezine-2016-onderzoek-naar-calamiteiten"


def flat(text: str) -> str:
    return " ".join(text.split())


class Links(HTMLParser):
    """Every tag name and every href/src/style attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.sources: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name == "href":
                self.hrefs.append(value or "")
            if name in ("src", "srcset", "action"):
                self.sources.append(value or "")


def passage_ids(links: list[str]) -> list[str]:
    out = []
    for link in links:
        query = parse_qs(urlparse(link).query)
        if "passage" in query:
            out.append(query["passage"][0])
    return out


@pytest.fixture(scope="module")
def packs(live_server):
    url = f"{live_server.url}/api/pack"
    md = httpx.get(url, params={"theme": "opschalen-afschalen", "format": "md"}, timeout=120)
    html = httpx.get(url, params={"theme": "opschalen-afschalen", "format": "html"}, timeout=120)
    return md, html


def test_pack_renders_markdown_and_html(packs):
    md, html = packs
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    for text in (md.text, html.text):
        assert "Opschalen en afschalen" in text
        assert "Suggestie voor bespreking" in text
        assert "niet de inspectie" in text


def test_every_citation_resolves_and_names_title_year_and_page(packs, live_server):
    md, html = packs
    md_links = re.findall(r"\]\(([^)\s]+)\)", md.text)
    parser = Links()
    parser.feed(html.text)
    for links, text in ((md_links, md.text), (parser.hrefs, html.text)):
        ids = passage_ids(links)
        assert ids, "no citations"
        assert all(urlparse(link).path in ("", "/") for link in links if "passage=" in link)
        docs = set()
        for cid in set(ids):
            r = httpx.get(f"{live_server.url}/api/passages/{cid}", timeout=30)
            assert r.status_code == 200, cid
            p = r.json()["passage"]
            docs.add(p["doc_id"])
            label = re.escape(f"({p['year']}), p. {p['page_label']}")
            assert re.search(re.escape(p["title"].replace("&", "&amp;")) + r"\s*" + label, text) or \
                re.search(re.escape(p["title"]) + r"\s*" + label, text), (cid, p["title"])
        assert {NIVEL, TOEZINE} <= docs


def test_quotes_in_the_pack_stand_verbatim_in_their_passages(live_server, learning, passages):
    pack = learning.pack("opschalen-afschalen")
    quotes = pack.quotes + pack.went_well + pack.went_wrong
    assert quotes
    for q in quotes:
        assert flat(q.text) in flat(passages.passage(q.source.passage.chunk_id).text)
        assert "opschalen-afschalen" in q.source.passage.themes
    numbers = {s.n for s in pack.sources}
    assert numbers == set(range(1, len(pack.sources) + 1))
    for question in pack.questions:
        if question.quote is not None:
            assert f"[{question.quote.source.n}]" in question.text


def test_html_pack_is_self_contained(packs):
    _md, html = packs
    parser = Links()
    parser.feed(html.text)
    assert "script" not in parser.tags and "link" not in parser.tags and "img" not in parser.tags
    assert not parser.sources
    assert "@import" not in html.text and "url(" not in html.text
    assert html.headers.get("content-security-policy", "").startswith("default-src 'none'")


def test_pack_filters_and_unknown_theme(live_server):
    url = f"{live_server.url}/api/pack"
    later = httpx.get(url, params={"theme": "opschalen-afschalen", "format": "md", "year_from": 2017}, timeout=120)
    assert later.status_code == 200 and "jaren 2017" in later.text and "Toezine" not in later.text
    missing = httpx.get(url, params={"theme": "bestaat-niet"}, timeout=30)
    assert missing.status_code == 404 and "bestaat-niet" in missing.json()["error"]
    assert httpx.get(url, params={"theme": "opschalen-afschalen", "format": "pdf"}, timeout=30).status_code == 422


def test_well_and_wrong_sections_follow_the_cue_words(learning, corpus_settings):
    from server.learning.pack import CUES_FILE, CueClassifier, read_sections

    classify = CueClassifier(read_sections(corpus_settings.prompts_dir / CUES_FILE))
    pack = learning.pack("goede-voorbeelden")
    assert pack.went_well and pack.went_wrong
    assert all(classify(q.text) == "goed" for q in pack.went_well)
    assert all(classify(q.text) == "mis" for q in pack.went_wrong)


@pytest.mark.parametrize("sentence, tone", [
    ("Deze aanpak werkt goed en is een mooi voorbeeld voor anderen.", "goed"),
    ("Het werkt niet goed in de praktijk.", "mis"),
    ("Er ontbreekt een gedeelde visie op wat goede hulp en goede zorg is.", "mis"),
    ("Misschien komt de rapportage volgende week uit.", ""),
])
def test_cue_classifier(corpus_settings, sentence, tone):
    from server.learning.pack import CUES_FILE, CueClassifier, read_sections

    assert CueClassifier(read_sections(corpus_settings.prompts_dir / CUES_FILE))(sentence) == tone


def test_all_text_is_escaped_in_html_and_markdown():
    from retriever.themes import Theme
    from server.learning.pack import Question, Quote, SessionPack, Source
    from server.learning.render import render_html, render_markdown

    evil = '<script>alert("x")</script> & [link](javascript:alert(1))'
    theme = Theme(id="t", title=evil, description=evil, examples=(evil,), strong=(), weak=())
    passage = Passage(chunk_id="abc<>\"", doc_id="d", title=evil, text=evil, page=1, page_label="1<b>", year=2016)
    source = Source(1, passage)
    quote = Quote(evil, source, "mis")
    pack = SessionPack(theme, Filters(), dt.date(2020, 1, 1), "", sources=[source], quotes=[quote],
                       went_wrong=[quote], questions=[Question(f"Vraag over {evil} [1]", quote)])
    html = render_html(pack)
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html
    assert 'href="/?passage=abc%3C%3E%22"' in html
    md = render_markdown(pack)
    assert "<script" not in md
    assert not re.search(r"(?<!\\)\[link(?<!\\)\]\(", md), "an unescaped link survived"
    assert "](/?passage=abc%3C%3E%22)" in md


def test_cli_pack_writes_html_with_links(corpus_settings, tmp_path):
    from click.testing import CliRunner

    from rodedraad.cli import main

    env = {"RODEDRAAD_DATA_DIR": str(corpus_settings.data_dir)}
    out = tmp_path / "pack.html"
    r = CliRunner().invoke(main, ["pack", "--theme", "opschalen-afschalen", "--format", "html", "-o", str(out),
                                  "--base-url", "https://rodedraad.example"], env=env)
    assert r.exit_code == 0, r.output
    parser = Links()
    parser.feed(out.read_text(encoding="utf-8"))
    links = [h for h in parser.hrefs if "passage=" in h]
    assert links and all(h.startswith("https://rodedraad.example/?passage=") for h in links)
    md = CliRunner().invoke(main, ["pack", "--theme", "opschalen-afschalen"], env=env)
    assert md.exit_code == 0 and md.output.startswith("# Leersessie: Opschalen en afschalen")
    bad = CliRunner().invoke(main, ["pack", "--theme", "bestaat-niet"], env=env)
    assert bad.exit_code == 1 and "unknown theme" in bad.output
