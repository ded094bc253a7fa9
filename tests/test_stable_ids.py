"""Stable passage ids: an id hashes document and text only. Themes, catalog fields and page labels
are metadata, updated in place without embedding; a new embedding recipe re-embeds under the same
ids; ids from before this scheme still resolve. Tiny documents, real embedded Chroma."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import ingest.fingerprint as fingerprint
from ingest.pipeline import ingest
from retriever.glossary import Glossary
from retriever.index import ReportIndex
from retriever.passages import PassageLookup
from retriever.search import HybridRetriever
from retriever.themes import ThemeTagger

from .fakes import HashEmbedder

DATA = Path(__file__).parent.parent / "retriever" / "data"
GLOSSARY = Glossary.load(DATA / "glossary.toml")
NORMALISE = GLOSSARY.normaliser
PARAGRAPHS = [
    "De jeugdbeschermer besprak het gezin in het team en koos voor meer toezicht op de thuissituatie.",
    "Het notitieboek van de mentor bleef liggen, zodat niemand wist wat er eerder was afgesproken.",
    "De gemeente en de zorgaanbieder deelden hun informatie pas laat, na de melding bij Veilig Thuis.",
    "Na de calamiteit werd het plan van aanpak herzien en kreeg elke casus een vaste regisseur.",
]
CATALOG = '["notitie.md"]\ndoc_id = "notitie"\ntitle = "{title}"\npublisher = "Testbureau"\nyear = 2021\n'


def open_index(data_dir: Path, embedder) -> ReportIndex:
    return ReportIndex.open(data_dir=data_dir, embedder=embedder, create=True)


def records(index: ReportIndex) -> dict[str, dict]:
    return {cid: meta for cid, _doc, meta in index.scan()}


def write_note(folder: Path, paragraphs: list[str], title: str = "Notitie over toezicht") -> None:
    folder.mkdir(exist_ok=True)
    (folder / "notitie.md").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    (folder / "catalog.toml").write_text(CATALOG.format(title=title), encoding="utf-8")


def run(folder: Path, index: ReportIndex, themes: Path | None = None):
    tagger = ThemeTagger.load(themes or DATA / "themes.toml", NORMALISE)
    # 20 "tokens" (HashEmbedder: words + 2): every paragraph is a passage of its own.
    report = ingest([folder], index=index, normalise=NORMALISE, tag_themes=tagger, chunk_tokens=20, progress=False)
    assert not report.failed, report.failed
    return report


@pytest.fixture
def setup(tmp_path):
    folder = tmp_path / "reports"
    write_note(folder, PARAGRAPHS)
    emb = HashEmbedder()
    index = open_index(tmp_path / "data", emb)
    return folder, emb, index


def test_editing_a_theme_changes_no_id_and_embeds_nothing(tmp_path, setup):
    folder, emb, index = setup
    themes = tmp_path / "themes.toml"
    shutil.copy(DATA / "themes.toml", themes)
    run(folder, index, themes)
    before, embedded = records(index), emb.embedded
    assert len(before) == len(PARAGRAPHS) and embedded > 0
    windows_before = index.windows.count()
    # A strong phrase that only the second paragraph has: that passage gains the theme.
    text = themes.read_text(encoding="utf-8")
    themes.write_text(text.replace('strong = ["opschal", ', 'strong = ["notitieboek", "opschal", ', 1), encoding="utf-8")
    report = run(folder, open_index(tmp_path / "data", emb), themes)
    after = records(index)
    assert emb.embedded == embedded, "a theme edit must embed nothing"
    assert after.keys() == before.keys()
    assert report.count("updated") == 1 and report.chunks_added == 0 and report.chunks_reembedded == 0
    tagged = [cid for cid, m in after.items() if "opschalen-afschalen" in m["themes"].split(";")]
    assert [after[c]["position"] for c in tagged] == [1] and report.chunks_retagged == 1
    assert index.windows.count() == windows_before


def test_editing_a_catalog_title_updates_search_results_without_embedding(tmp_path, setup):
    folder, emb, index = setup
    run(folder, index)
    before, embedded = records(index), emb.embedded
    write_note(folder, PARAGRAPHS, title="Nieuwe titel van de notitie")
    report = run(folder, open_index(tmp_path / "data", emb))
    assert emb.embedded == embedded and records(index).keys() == before.keys()
    assert report.chunks_retagged == len(PARAGRAPHS)
    searcher = HybridRetriever(index, glossary=GLOSSARY, keyword_dir=tmp_path / "keyword")
    hits = searcher.search("informatie delen gemeente zorgaanbieder", k=3)
    assert hits and {h.passage.title for h in hits} == {"Nieuwe titel van de notitie"}


def test_changing_one_paragraph_changes_only_that_passage_id(tmp_path, setup):
    folder, emb, index = setup
    run(folder, index)
    before, embedded = records(index), emb.embedded
    edited = [*PARAGRAPHS]
    edited[2] = edited[2].replace("pas laat", "veel te laat")
    write_note(folder, edited)
    report = run(folder, open_index(tmp_path / "data", emb))
    after = records(index)
    gone, new = before.keys() - after.keys(), after.keys() - before.keys()
    assert len(gone) == 1 and len(new) == 1
    assert before[gone.pop()]["position"] == 2 and after[next(iter(new))]["position"] == 2
    assert report.chunks_added == 1 and report.chunks_deleted == 1
    assert 0 < emb.embedded - embedded <= 3  # one passage and its window(s)


def test_a_new_embedding_recipe_re_embeds_under_the_same_ids(tmp_path, setup, monkeypatch):
    folder, emb, index = setup
    run(folder, index)
    before, embedded, windows = records(index), emb.embedded, index.windows.count()
    monkeypatch.setattr(fingerprint, "UNITS_VERSION", "test-next")
    report = run(folder, open_index(tmp_path / "data", emb))
    assert records(index).keys() == before.keys()
    assert emb.embedded - embedded == embedded  # every passage and window again
    assert report.chunks_reembedded == len(PARAGRAPHS) and report.chunks_added == 0
    assert index.windows.count() == windows
    again = run(folder, open_index(tmp_path / "data", emb))
    assert again.count("unchanged") == 1 and emb.embedded == 2 * embedded


class FailingEmbedder(HashEmbedder):
    """Fails after `budget` texts, as a server that goes away mid-run."""

    def __init__(self, budget: int) -> None:
        super().__init__()
        self.budget = budget

    def embed_documents(self, texts):
        if self.embedded + len(texts) > self.budget:
            raise ConnectionError("embedding server went away")
        return super().embed_documents(texts)


def test_a_killed_re_embedding_is_finished_by_a_rerun(tmp_path, setup, monkeypatch):
    folder, emb, index = setup
    write_note(folder, PARAGRAPHS * 1 + [p.replace("De ", "Een ") for p in PARAGRAPHS])
    run(folder, index)
    n = len(records(index))
    monkeypatch.setattr(fingerprint, "UNITS_VERSION", "test-next")
    broken = FailingEmbedder(budget=3)
    with pytest.raises(ConnectionError):
        ingest([folder], index=open_index(tmp_path / "data", broken), normalise=NORMALISE, chunk_tokens=20,
               progress=False)
    fresh = HashEmbedder()
    report = run(folder, open_index(tmp_path / "data", fresh))
    assert report.chunks_reembedded == n and len(records(index)) == n
    assert run(folder, open_index(tmp_path / "data", fresh)).count("unchanged") == 1


def test_ids_from_before_stable_ids_still_resolve(tmp_path, setup, monkeypatch):
    folder, emb, index = setup
    import ingest.chunk as chunk

    real = chunk.chunk_id
    monkeypatch.setattr(chunk, "chunk_id", lambda doc_id, text: real(doc_id, "old scheme|" + text))
    monkeypatch.setattr(fingerprint, "PIPELINE_VERSION", "5")
    run(folder, index)
    old = {m["position"]: cid for cid, m in records(index).items()}
    monkeypatch.undo()
    run(folder, open_index(tmp_path / "data", emb))
    new = {m["position"]: cid for cid, m in records(index).items()}
    assert not set(old.values()) & set(new.values())
    lookup = PassageLookup(HybridRetriever(index, glossary=GLOSSARY, keyword_dir=tmp_path / "kw", check_seconds=0).derived)
    for pos, old_id in old.items():
        assert index.resolve(old_id) == new[pos]
        assert lookup.passage(old_id).chunk_id == new[pos]
        before, after = lookup.neighbours(old_id)
        assert len(before) + len(after) >= 1
    # A later metadata update keeps the former ids.
    write_note(folder, PARAGRAPHS, title="Andere titel")
    run(folder, open_index(tmp_path / "data", emb))
    assert lookup.passage(old[0]).title == "Andere titel"
