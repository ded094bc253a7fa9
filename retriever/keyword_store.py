"""The keyword index on disk: a Tantivy index of each passage's Dutch stems, keyed by its slot
(the passage store's row number, never reused).

Writes add and delete single passages and commit; Tantivy keeps them in segments and merges
them in the background, so one changed report never rewrites the whole index. A search holds a
`KeywordIndex` made from one committed state and keeps it until it asks for a new one.

    >>> store = KeywordStore(folder / "tantivy")
    >>> store.apply(removed=[12], added=[(40, ["meldcod", "veilig", "thuis"])])
    >>> store.snapshot().top([(["meldcode"], 1.0)], 10)
"""
from __future__ import annotations

import shutil
import threading
from collections.abc import Iterable
from pathlib import Path

import tantivy

from .keyword import EMPTY_STEM, SLOT_FIELD, STEMS_FIELD, KeywordIndex
from .steps import StepClock

_WRITER_HEAP = 64_000_000  # bytes of buffered postings before Tantivy writes a segment
_ADD_BATCH = 50_000  # passages per commit while filling a new index (bounds the writer's memory)


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    # the stems are analysed already (KeywordIndex.analyse): split on spaces, nothing more
    builder.add_text_field(STEMS_FIELD, stored=False, tokenizer_name="whitespace", index_option="freq")
    builder.add_unsigned_field(SLOT_FIELD, stored=False, indexed=True, fast=True)
    return builder.build()


class KeywordStore:
    """A Tantivy index of passage stems by slot, written by one thread at a time."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.schema = _schema()
        try:
            self._index = tantivy.Index(self.schema, path=str(self.folder), reuse=True)
        except (OSError, ValueError):  # another schema or a damaged folder: it is derived, so start again
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True)
            self._index = tantivy.Index(self.schema, path=str(self.folder), reuse=True)
        self._index.config_reader(reload_policy="Manual")  # a search sees a new commit when it asks for it
        self._write = threading.Lock()

    def apply(self, *, removed: Iterable[int] = (), added: Iterable[tuple[int, list[str]]] = (),
              clock: StepClock | None = None) -> None:
        """Delete the passages at `removed`, add `added` (slot, stems), and commit. Until the commit
        returns, snapshots show the state before; a failure commits nothing of the batch."""
        clock = clock or StepClock()
        with self._write:
            with clock("tantivy writer"):
                writer = self._index.writer(_WRITER_HEAP, 1)
            try:
                gone = [int(slot) for slot in removed]
                for i in range(0, len(gone), _ADD_BATCH):
                    # by query: delete_documents_by_term does not match u64 terms in tantivy-py 0.27
                    writer.delete_documents_by_query(
                        tantivy.Query.term_set_query(self.schema, SLOT_FIELD, gone[i:i + _ADD_BATCH]))
                pending = 0
                for slot, stems in added:
                    doc = tantivy.Document()
                    doc.add_unsigned(SLOT_FIELD, int(slot))
                    doc.add_text(STEMS_FIELD, " ".join(stems) or EMPTY_STEM)
                    writer.add_document(doc)
                    pending += 1
                    if pending >= _ADD_BATCH:
                        writer.commit()
                        pending = 0
                with clock("tantivy commit"):
                    writer.commit()
                with clock("tantivy wait_merging_threads"):
                    writer.wait_merging_threads()
            except BaseException:
                writer.rollback()
                raise
        with clock("tantivy reload"):
            self._index.reload()

    def reload(self) -> None:
        """See what another process committed to the same folder."""
        self._index.reload()

    def snapshot(self, *, stems_of=None, total_length: int = 0, vocabulary: frozenset[str] | None = None,
                 clock: StepClock | None = None) -> KeywordIndex:
        """The last committed state, for searching; `stems_of` (slots → stems) and the total
        length of all passages let it score its best hits exactly (see KeywordIndex.top).
        `vocabulary`: the indexed stems as the caller knows them (the last snapshot's and what
        was added since), so an update does not read every term of the index again."""
        clock = clock or StepClock()
        with clock("tantivy searcher"):
            searcher = self._index.searcher()
        if vocabulary is None:
            with clock("vocabulary of all terms"):
                vocabulary = frozenset(t for t, _n in searcher.terms_with_prefix(STEMS_FIELD, "")) - {EMPTY_STEM}
        size = searcher.num_docs
        return KeywordIndex(searcher, self.schema, vocabulary, stems_of=stems_of,
                            average_length=total_length / size if size else 1.0)

    def clear(self) -> None:
        """Delete every passage (a new collection, or another analysis)."""
        with self._write:
            writer = self._index.writer(_WRITER_HEAP, 1)
            writer.delete_all_documents()
            writer.commit()
            writer.wait_merging_threads()
        self._index.reload()
