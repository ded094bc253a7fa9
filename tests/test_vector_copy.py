"""Search reads its candidates' vectors from the keyword folder's copy, which follows the
collection: real embedded Chroma, real SQLite; tiny reports, a hashing embedder (plumbing only)."""
from __future__ import annotations

import numpy as np

from retriever.index import window_ids
from retriever.search import HybridRetriever
from retriever.units import windows as unit_windows

from .test_keyword_sync import GLOSSARY, REPORTS, run, setup_index, write


def chroma_vectors(index, passage) -> tuple[np.ndarray, np.ndarray]:
    own = index.vectors([passage.chunk_id])[passage.chunk_id]
    ids = window_ids(passage.chunk_id, len(unit_windows(passage.text)))
    got = index.window_vectors(ids)
    return own, np.stack([got[i] for i in ids])


def test_the_copy_holds_what_the_collection_holds(tmp_path):
    index, _folder, searcher, _dir = setup_index(tmp_path)
    table = searcher.derived.table()
    passages = table.passages_at(table.slots)
    copy = searcher.derived.sync.vectors
    own, windows = copy.passage_vectors(p.chunk_id for p in passages), copy.window_matrices(p.chunk_id for p in passages)
    assert set(own) == set(windows) == {p.chunk_id for p in passages}
    for p in passages:
        want_own, want_windows = chroma_vectors(index, p)
        assert np.allclose(own[p.chunk_id], want_own, atol=1e-3)  # float16, as the search keeps them
        assert windows[p.chunk_id].shape == want_windows.shape
        assert np.allclose(windows[p.chunk_id], want_windows, atol=1e-3)


def test_a_search_asks_chroma_for_no_vector(tmp_path, monkeypatch):
    index, _folder, searcher, _dir = setup_index(tmp_path)
    searcher.derived.table()  # the folder is in step: every vector is copied
    expected = [(h.passage.chunk_id, round(h.score, 4)) for h in searcher.search("gezin toezicht wijkcoach", k=6)]

    fresh = HybridRetriever(index, glossary=GLOSSARY, keyword_dir=_dir, check_seconds=0)  # nothing kept in memory
    asked = []
    monkeypatch.setattr(index, "vectors", lambda ids: asked.append(ids) or {})
    monkeypatch.setattr(index, "window_vectors", lambda ids: asked.append(ids) or {})
    got = [(h.passage.chunk_id, round(h.score, 4)) for h in fresh.search("gezin toezicht wijkcoach", k=6)]
    assert not asked
    assert got == expected  # the same scores as from the collection's vectors


def test_a_changed_report_replaces_its_vectors_and_a_removed_one_drops_them(tmp_path):
    index, folder, searcher, _dir = setup_index(tmp_path)
    table = searcher.derived.table()
    before = {p.doc_id: p.chunk_id for p in table.passages_at(table.slots)}
    write(folder, "beta", ["De gemeente en de zorgaanbieder deelden hun informatie pas na de melding bij Veilig Thuis.",
                           "Daarna leerde de xylofoonleraar het team hoe het signalen moest wegen. Het team oefende."])
    run(index, [folder / f"{name}.txt" for name in REPORTS])
    index.remove_document("gamma")
    index.touch()
    table = searcher.derived.table()
    copy = searcher.derived.sync.vectors
    passages = table.passages_at(table.slots)
    assert {p.doc_id for p in passages} == {"alfa", "beta"}
    for p in passages:  # the new passage of "beta" is copied, with its two windows
        want_own, want_windows = chroma_vectors(index, p)
        assert np.allclose(copy.passage_vectors([p.chunk_id])[p.chunk_id], want_own, atol=1e-3)
        assert np.allclose(copy.window_matrices([p.chunk_id])[p.chunk_id], want_windows, atol=1e-3)
    gone = set(before.values()) - {p.chunk_id for p in passages}
    assert gone and not copy.passage_vectors(gone) and not copy.window_matrices(gone)
