"""Themes: the tagger against hand labels (precision and recall), its rules, ingestion wiring, and
browsing a theme across reports and years (library, HTTP and CLI).

Run as a script for the per-theme table in docs/theme-tagging.md:
    python tests/test_themes.py
"""
from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "tests" / "data" / "theme_labels.jsonl"
NIVEL = "nivel-eshpm-2019-sectorbreed-leren-van-calamiteiten"
TOEZINE = "toezine-2016-onderzoek-naar-calamiteiten"


def load_tagger():
    from retriever.glossary import Glossary
    from retriever.themes import ThemeTagger
    from rodedraad.settings import Settings

    s = Settings(_env_file=None)
    return ThemeTagger.load(s.themes_path, Glossary.load(s.glossary_path).normaliser)


def labels(sets: tuple[str, ...] = ("dev", "heldout")) -> list[dict]:
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r["set"] in sets]


def evaluate(tagger, rows: list[dict]) -> dict[str, dict[str, int]]:
    """Per theme: true positives, false positives, false negatives of the tagger against the labels."""
    out = {t.id: {"tp": 0, "fp": 0, "fn": 0} for t in tagger.themes}
    for r in rows:
        pred, gold = set(tagger(f"{r['section']}\n{r['text']}")), set(r["themes"])
        for tid, c in out.items():
            c["tp"] += tid in pred and tid in gold
            c["fp"] += tid in pred and tid not in gold
            c["fn"] += tid in gold and tid not in pred
    return out


def micro(counts: dict[str, dict[str, int]]) -> tuple[float, float]:
    tp = sum(c["tp"] for c in counts.values())
    fp = sum(c["fp"] for c in counts.values())
    fn = sum(c["fn"] for c in counts.values())
    return tp / max(1, tp + fp), tp / max(1, tp + fn)


# -- the tagger against the hand labels ---------------------------------------------------------

def test_labels_cover_enough_passages_and_only_known_themes():
    tagger = load_tagger()
    rows = labels()
    assert len(rows) >= 40
    known = {t.id for t in tagger.themes}
    assert all(set(r["themes"]) <= known for r in rows)
    assert len({r["text_sha"] for r in rows}) == len(rows), "a passage is labelled twice"


@pytest.mark.parametrize("sets, min_precision, min_recall", [
    (("dev",), 0.85, 0.85),
    (("heldout",), 0.80, 0.80),
    (("dev", "heldout"), 0.85, 0.85),
])
def test_tagging_precision_and_recall_on_hand_labels(sets, min_precision, min_recall):
    precision, recall = micro(evaluate(load_tagger(), labels(sets)))
    assert precision >= min_precision, f"micro precision {precision:.3f} on {sets}"
    assert recall >= min_recall, f"micro recall {recall:.3f} on {sets}"


def test_no_theme_is_mostly_wrong_on_the_labels():
    for tid, c in evaluate(load_tagger(), labels()).items():
        if c["tp"] + c["fp"] >= 4:
            assert c["tp"] / (c["tp"] + c["fp"]) >= 0.6, (tid, c)


# -- the tagger's rules ---------------------------------------------------------------------------

def test_opschalen_is_found_in_a_plain_sentence():
    sentence = "Er zijn extra risico’s bij het op- en afschalen van hulp in gezinnen."
    assert "opschalen-afschalen" in load_tagger()(sentence)


def test_citations_and_names_do_not_count_as_signals():
    tagger = load_tagger()
    text = ("Het eerste rapport gaat over acht onderzoeken die het Samenwerkend Toezicht Jeugd uitvoerde "
            "(STJ, 2013; STJ/TSD, 2016) en die in de samenwerkende inspecties werden besproken.")
    tags = tagger(text)
    assert "samenwerking-keten" not in tags
    uncited = text.replace("(STJ, 2013; STJ/TSD, 2016)", "STJ TSD")
    assert tagger.scores(text)["rol-inspectie"] < tagger.scores(uncited)["rol-inspectie"]


def test_headings_get_no_theme():
    assert load_tagger()("2.1.2 De literatuur\nVeiligheid en leren van fouten") == ()


def test_whole_word_phrases_do_not_match_inside_words():
    tagger = load_tagger()
    inside = tagger.scores("Het virtuele team werkt virtueel samen met een virologisch laboratorium.")
    whole = tagger.scores("Gebruik de VIR bij zorgen over jongeren en meld bij Veilig Thuis.")
    assert inside["meldcode-veilig-thuis"] == 0
    assert whole["meldcode-veilig-thuis"] >= 3


def test_broken_theme_file_is_a_configuration_error(tmp_path):
    from retriever.normalise import Normaliser
    from retriever.themes import ThemeTagger
    from retriever.errors import ConfigurationError

    bad = tmp_path / "themes.toml"
    bad.write_text("[[theme]]\ntitle = 'no id'\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="themes.toml"):
        ThemeTagger.load(bad, Normaliser())


# -- the ingested corpus --------------------------------------------------------------------------

def test_ingestion_stored_the_tags_of_the_current_tagger(passages):
    tagger = load_tagger()
    stored = passages.all()
    assert stored
    mismatched = [p.chunk_id for p in stored if set(p.themes) != set(tagger(f"{p.section}\n{p.text}"))]
    assert not mismatched


def test_opschalen_theme_shows_passages_from_both_documents(learning):
    from server.learning.models import ThemeDetailOut

    found = learning.browser.detail(learning.theme_or_404("opschalen-afschalen"))
    detail = ThemeDetailOut.from_detail(found).model_dump()
    docs = {p["doc_id"] for p in detail["passages"]}
    assert {NIVEL, TOEZINE} <= docs
    for p in detail["passages"]:
        assert "opschalen-afschalen" in p["themes"]
        assert p["quote"] and " ".join(p["quote"].split()) in " ".join(p["text"].split())
    assert {d["doc_id"]: d["count"] for d in detail["by_document"]} == \
        {d: sum(1 for p in detail["passages"] if p["doc_id"] == d) for d in docs}
    assert sum(y["count"] for y in detail["by_year"]) == detail["count"] == len(detail["passages"])
    # the 2019 study's passage on this theme reports on "Leren van calamiteiten 2" (2016)
    assert any(r["id"] == "leren-van-calamiteiten-2016" for r in detail["by_mentioned_report"])


# -- HTTP -----------------------------------------------------------------------------------------

def test_api_themes_lists_every_theme_with_counts(live_server):
    tagger = load_tagger()
    r = httpx.get(f"{live_server.url}/api/themes", timeout=60)
    assert r.status_code == 200
    body = r.json()
    assert [t["id"] for t in body] == [t.id for t in tagger.themes]
    for t in body:
        assert t["title"] and t["description"] and t["examples"]
        assert t["count"] == sum(d["count"] for d in t["documents"])
    assert next(t for t in body if t["id"] == "opschalen-afschalen")["count"] >= 2


def test_api_theme_detail_and_year_filter(live_server):
    url = f"{live_server.url}/api/themes/opschalen-afschalen"
    everything = httpx.get(url, timeout=60).json()
    assert {NIVEL, TOEZINE} <= {p["doc_id"] for p in everything["passages"]}
    only_2016 = httpx.get(url, params={"year_from": 2016, "year_to": 2016}, timeout=60).json()
    for p in only_2016["passages"]:
        assert p["year"] == 2016 or any(a["year"] == 2016 for a in p["about"])
    assert TOEZINE in {p["doc_id"] for p in only_2016["passages"]}
    later = httpx.get(url, params={"year_from": 2017}, timeout=60).json()
    assert TOEZINE not in {p["doc_id"] for p in later["passages"]}
    assert later["count"] < everything["count"]


def test_api_unknown_theme_is_404_with_the_known_ids(live_server):
    r = httpx.get(f"{live_server.url}/api/themes/bestaat-niet", timeout=30)
    assert r.status_code == 404
    assert "bestaat-niet" in r.json()["error"] and "opschalen-afschalen" in r.json()["error"]


# -- CLI ------------------------------------------------------------------------------------------

def test_cli_themes_list_and_detail(corpus_settings):
    from click.testing import CliRunner

    from rodedraad.cli import main

    env = {"RODEDRAAD_DATA_DIR": str(corpus_settings.data_dir)}
    listing = CliRunner().invoke(main, ["themes"], env=env)
    assert listing.exit_code == 0, listing.output
    assert "opschalen-afschalen" in listing.output
    detail = CliRunner().invoke(main, ["themes", "opschalen-afschalen", "--json"], env=env)
    assert detail.exit_code == 0, detail.output
    assert {NIVEL, TOEZINE} <= {p["doc_id"] for p in json.loads(detail.output)["passages"]}
    unknown = CliRunner().invoke(main, ["themes", "bestaat-niet"], env=env)
    assert unknown.exit_code == 1 and "unknown theme" in unknown.output


if __name__ == "__main__":
    tagger = load_tagger()
    for sets in (("dev",), ("heldout",), ("dev", "heldout")):
        counts = evaluate(tagger, labels(sets))
        p, r = micro(counts)
        print(f"\n{'+'.join(sets)}: {len(labels(sets))} passages, micro precision {p:.3f}, recall {r:.3f}")
        for tid, c in counts.items():
            prec = f"{c['tp'] / (c['tp'] + c['fp']):.2f}" if c["tp"] + c["fp"] else "  - "
            rec = f"{c['tp'] / (c['tp'] + c['fn']):.2f}" if c["tp"] + c["fn"] else "  - "
            print(f"  {tid:26} tp={c['tp']:3d} fp={c['fp']:3d} fn={c['fn']:3d}  P={prec}  R={rec}")
