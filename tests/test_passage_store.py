"""The passage store keeps the count and total length of the published passages as they change,
so an update never counts every row (a real SQLite file)."""
from __future__ import annotations

from retriever.passage_store import PassageStore


def _records(ids):
    return [(cid, f"tekst {cid}", {"doc_id": "d", "position": i}) for i, cid in enumerate(ids)]


def test_published_count_and_length_follow_publish_delete_and_clear(tmp_path):
    store = PassageStore(tmp_path / "passages.sqlite3")
    slots = store.insert(_records(["a", "b", "c"]), [["x", "y"], ["x"], []])
    assert (store.published_count(), store.total_length()) == (0, 0)  # written, not yet published
    store.publish(slots, [], {})
    assert (store.published_count(), store.total_length()) == (3, 2 + 1 + 1)  # an empty passage counts 1
    new = store.insert(_records(["d"]), [["x", "y", "z"]])
    store.publish(new, [slots[0]], {})
    assert (store.published_count(), store.total_length()) == (3, 1 + 1 + 3)
    assert store.slots(["a", "b", "d", "nieuw"]) == {"b": slots[1], "d": new[0]}
    store.clear()
    assert (store.published_count(), store.total_length()) == (0, 0)


def test_unpublished_leftovers_are_found_and_dropped_without_moving_the_counts(tmp_path):
    store = PassageStore(tmp_path / "passages.sqlite3")
    store.publish(store.insert(_records(["a"]), [["x"]]), [], {})
    left = store.insert(_records(["b", "c"]), [["x"], ["y"]])  # an update that stopped before publish
    assert store.unpublished() == left
    store.drop(left)
    assert store.unpublished() == []
    assert (store.published_count(), store.total_length()) == (1, 1)
