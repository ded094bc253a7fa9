"""The keyword index on disk follows the collection by the passages that changed, and searches
never wait for an update. Real embedded Chroma, real Tantivy, real SQLite; tiny reports."""
from __future__ import annotations

import fcntl
import json
import time
from pathlib import Path

from ingest.pipeline import ingest
from retriever.derived import PassageTable
from retriever.glossary import Glossary
from retriever.index import ReportIndex
from retriever.search import HybridRetriever
from retriever.types import Filters

from .fakes import HashEmbedder

DATA = Path(__file__).parent.parent / "retriever" / "data"
GLOSSARY = Glossary.load(DATA / "glossary.toml")
REPORTS = {
    "alfa": ["De jeugdbeschermer besprak het gezin met de wijkcoach en koos voor meer toezicht.",
             "Het notitieboek van de mentor bleef liggen, zodat niemand de afspraken kende."],
    "beta": ["De gemeente en de zorgaanbieder deelden hun informatie pas na de melding bij Veilig Thuis.",
             "Na de calamiteit kreeg elke casus een vaste regisseur en een plan van aanpak."],
    "gamma": ["De huisarts belde de kinderrechter over de pleegouders en de voogdij.",
              "De inspectie vroeg om een nieuwe risicotaxatie na het incident op school."],
}


def write(folder: Path, name: str, paragraphs: list[str]) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.txt"
    path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return path


def run(index: ReportIndex, paths: list[Path]) -> None:
    report = ingest(paths, index=index, normalise=GLOSSARY.normaliser, chunk_tokens=20, progress=False)
    assert not report.failed, report.failed


def segments(folder: Path) -> set[str]:
    return {s["segment_id"] for s in json.loads((folder / "tantivy" / "meta.json").read_text())["segments"]}


def setup_index(tmp_path: Path) -> tuple[ReportIndex, Path, HybridRetriever, Path]:
    folder = tmp_path / "reports"
    paths = [write(folder, name, text) for name, text in REPORTS.items()]
    index = ReportIndex.open(data_dir=tmp_path / "data", embedder=HashEmbedder(), create=True)
    run(index, paths)
    keyword_dir = tmp_path / "keyword"
    return index, folder, HybridRetriever(index, glossary=GLOSSARY, keyword_dir=keyword_dir, check_seconds=0), \
        keyword_dir


def test_updating_one_report_changes_only_its_postings(tmp_path):
    index, folder, searcher, keyword_dir = setup_index(tmp_path)
    before = searcher.derived.table()
    slots = before.store.published_ids()
    old_segments = segments(keyword_dir)
    assert searcher.derived.last_update.full and searcher.derived.last_update.added == 6
    others = {cid: slot for cid, slot in slots.items()
              if before.passages_at([slot])[0].doc_id != "beta"}
    assert len(others) == 4

    write(folder, "beta", ["De gemeente en de zorgaanbieder deelden hun informatie pas na de melding bij Veilig Thuis.",
                           "Daarna leerde de xylofoonleraar het team hoe het signalen moest wegen."])
    run(index, [folder / f"{name}.txt" for name in REPORTS])
    after = searcher.derived.table()

    update = searcher.derived.last_update
    assert not update.full and (update.added, update.removed) == (1, 1)  # one passage of "beta" changed
    kept = after.store.published_ids()
    assert {cid: kept[cid] for cid in others} == others  # the other reports' rows were not rewritten
    assert old_segments <= segments(keyword_dir)  # their postings stay in the segments they were in
    assert after.keyword.top([(["xylofoonleraar"], 1.0)], 10)
    assert not after.keyword.top([(["regisseur"], 1.0)], 10)
    for word in ("wijkcoach", "kinderrechter", "zorgaanbieder"):  # untouched stems: same passages, same slots
        assert set(after.keyword.top([([word], 1.0)], 10)) == set(before.keyword.top([([word], 1.0)], 10))
    hits = searcher.search("xylofoonleraar", k=3)
    assert hits and "xylofoonleraar" in hits[0].passage.text
    # the table followed the update in place; it must filter as one read from scratch
    reloaded = PassageTable.load(after.generation, searcher.derived.sync)
    assert list(after.slots) == list(reloaded.slots)
    for filters in (Filters(doc_ids=("beta",)), Filters(doc_ids=("alfa", "gamma")), Filters(year_from=1900)):
        assert (after.mask(filters)[after.slots] == reloaded.mask(filters)[reloaded.slots]).all()


def test_removing_a_report_removes_its_passages_only(tmp_path):
    index, _folder, searcher, _dir = setup_index(tmp_path)
    searcher.derived.table()
    index.remove_document("gamma")
    index.touch()
    table = searcher.derived.table()
    assert (searcher.derived.last_update.added, searcher.derived.last_update.removed) == (0, 2)
    assert table.size == 4 and not table.keyword.top([(["kinderrechter"], 1.0)], 10)
    assert {h.passage.doc_id for h in searcher.search("gezin gemeente huisarts", k=10)} <= {"alfa", "beta"}


def test_a_search_during_an_update_uses_the_last_committed_state(tmp_path):
    index, folder, searcher, keyword_dir = setup_index(tmp_path)
    committed = searcher.derived.table()
    searcher.derived.check_seconds = 0.05  # as a server: updates in the background
    run(index, [write(folder, "delta", ["De xylofoonleraar signaleerde zorgen en schakelde de wijkcoach in."])])
    # Another process on this host holds the update lock (as a second worker updating would):
    # the update waits for it, searches must not.
    with (keyword_dir / "update.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        time.sleep(0.1)
        for _ in range(5):
            started = time.perf_counter()
            hits = searcher.search("xylofoonleraar wijkcoach", k=5)
            assert time.perf_counter() - started < 2.0
            assert searcher.derived.table() is committed
            assert hits and "delta" not in {h.passage.doc_id for h in hits}
            time.sleep(0.06)
        old_keyword = committed.keyword
        fcntl.flock(lock, fcntl.LOCK_UN)
    deadline = time.monotonic() + 30
    while searcher.derived.table() is committed:
        assert time.monotonic() < deadline, "the update never landed"
        time.sleep(0.05)
    hits = searcher.search("xylofoonleraar", k=3)
    assert hits and hits[0].passage.doc_id == "delta"
    # the state a search began with is still the one it reads, after the commit
    assert not old_keyword.top([(["xylofoonleraar"], 1.0)], 10)
