"""Looking passages up: one by id, its neighbours in its report, every passage, the reports.

    >>> lookup = PassageLookup(searcher.derived)
    >>> before, after = lookup.neighbours(lookup.passage(chunk_id).chunk_id)
    >>> [d.title for d in lookup.documents()]
"""
from __future__ import annotations

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
    """Reads passages and reports from the searcher's derived table (always the current one)."""

    def __init__(self, derived: DerivedState) -> None:
        self.derived = derived

    def __len__(self) -> int:
        return len(self.derived.table().passages)

    def all(self) -> list[Passage]:
        """Every passage in reading order (report, then position)."""
        return self.derived.table().passages

    def _position(self, table, chunk_id: str) -> int:
        """Where the passage is in the table; an id from before stable ids (see
        ReportIndex.resolve) finds the passage with the same text. PassageNotFound otherwise."""
        pos = table.positions.get(chunk_id)
        if pos is None:
            current = self.derived.index.resolve(chunk_id) if len(chunk_id) <= 64 else None
            pos = table.positions.get(current) if current else None
        if pos is None:
            raise PassageNotFound(f"no passage with id {shown_id(chunk_id)}")
        return pos

    def passage(self, chunk_id: str) -> Passage:
        """The passage with this id (or former id), or PassageNotFound."""
        table = self.derived.table()
        return table.passages[self._position(table, chunk_id)]

    def neighbours(self, chunk_id: str, window: int = 1) -> tuple[list[Passage], list[Passage]]:
        """The passages just before and after one, within its document."""
        table = self.derived.table()
        pos = self._position(table, chunk_id)
        doc = table.passages[pos].doc_id
        before = [table.passages[i] for i in range(max(0, pos - window), pos) if table.passages[i].doc_id == doc]
        after = [table.passages[i] for i in range(pos + 1, min(len(table.passages), pos + 1 + window))
                 if table.passages[i].doc_id == doc]
        return before, after

    def documents(self) -> list[DocumentSummary]:
        """Every report in the index, newest first."""
        acc: dict[str, list[Passage]] = {}
        for p in self.derived.table().passages:
            acc.setdefault(p.doc_id, []).append(p)
        out = [DocumentSummary(doc_id=d, title=ps[0].title, publisher=ps[0].publisher, year=ps[0].year,
                               doc_type=ps[0].doc_type, url=ps[0].url, chunks=len(ps),
                               pages=max(p.page for p in ps)) for d, ps in acc.items()]
        return sorted(out, key=lambda d: (-(d.year or 0), d.title))
