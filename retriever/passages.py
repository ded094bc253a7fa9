"""Looking passages up: one by id, its neighbours in its report, every passage, the reports.

    >>> lookup = PassageLookup(searcher.derived)
    >>> before, after = lookup.neighbours(lookup.passage(chunk_id).chunk_id)
    >>> [d.title for d in lookup.documents()]
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from .derived import DerivedState
from .errors import PassageNotFound, shown_id
from .types import Passage, ReportRef


@dataclass(frozen=True)
class DocumentSummary(ReportRef):
    """One report in the index."""

    chunks: int
    pages: int


class PassageLookup:
    """Reads passages and reports from the searcher's derived state (always the current table;
    the passages themselves are read from the passage store, not kept in memory)."""

    def __init__(self, derived: DerivedState) -> None:
        self.derived = derived

    def __len__(self) -> int:
        return self.derived.table().size

    def all(self) -> list[Passage]:
        """Every passage in reading order (report, then position); the same list while the table stays."""
        return self.derived.table().all()

    def first(self) -> Passage | None:
        """Any one passage (None for an empty index)."""
        return self.derived.table().store.first()

    def passage(self, chunk_id: str) -> Passage:
        """The passage with this id (or former id, see ReportIndex.resolve), or PassageNotFound."""
        table = self.derived.table()
        slot = table.slots_of([chunk_id]).get(chunk_id)
        if slot is None:
            current = self.derived.index.resolve(chunk_id) if len(chunk_id) <= 64 else None
            slot = table.slots_of([current]).get(current) if current else None
        found = table.passages_at([slot])[0] if slot is not None else None
        if found is None:
            raise PassageNotFound(f"no passage with id {shown_id(chunk_id)}")
        return found

    def neighbours(self, chunk_id: str, window: int = 1) -> tuple[list[Passage], list[Passage]]:
        """The passages just before and after one, within its document."""
        p = self.passage(chunk_id)
        near = self.derived.table().store.around(p.doc_id, p.position, window)
        return [n for n in near if n.position < p.position], [n for n in near if n.position > p.position]

    def documents(self) -> list[DocumentSummary]:
        """Every report in the index, newest first (one query per table, then kept)."""
        table = self.derived.table()
        return table.kept("documents", lambda: self._documents(table))

    @staticmethod
    def _documents(table) -> list[DocumentSummary]:
        out = []
        for doc_id, chunks, pages, record in table.store.document_rows():
            text, meta = json.loads(record)
            first = Passage.from_record("", text, meta)
            out.append(DocumentSummary(doc_id=doc_id, title=first.title, publisher=first.publisher, year=first.year,
                                       doc_type=first.doc_type, url=first.url, chunks=chunks, pages=int(pages or 0)))
        return sorted(out, key=lambda d: (-(d.year or 0), d.title))
