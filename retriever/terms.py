"""Term statistics for the answer layer: the stems the keyword index sees, and how rare a
question's words are in the reports.

    >>> terms = TermStatistics(searcher.derived, searcher.glossary)
    >>> own, extra, unknown = terms.term_weights("hoeveel calamiteiten?")
"""
from __future__ import annotations

from functools import lru_cache

from .derived import DerivedState
from .glossary import Glossary
from .keyword import KeywordIndex


class TermStatistics:
    """Stems and IDF weights over the searcher's current keyword index."""

    def __init__(self, derived: DerivedState, glossary: Glossary, *, cache_size: int = 20_000) -> None:
        self.derived = derived
        self.glossary = glossary
        self.normaliser = glossary.normaliser
        # The answer layer stems the same passages' sentences for question after question.
        self._stems = lru_cache(maxsize=cache_size)(self._stems_uncached)

    def stems(self, text: str) -> tuple[str, ...]:
        """Folded, stopword-free Dutch stems of a text (as the keyword index sees it)."""
        return self._stems(text)

    def _stems_uncached(self, text: str) -> tuple[str, ...]:
        return tuple(KeywordIndex.analyse(self.normaliser.tokens(text)))

    def term_weights(self, query: str) -> tuple[dict[str, float], dict[str, float], set[str]]:
        """IDF of the question's own stems, of its glossary expansion's stems, and the stems the
        reports never use (not even with a typo's difference), which get the highest IDF."""
        table = self.derived.table()
        own = table.keyword.idf(self.normaliser.tokens(query))
        unknown = {s for s, w in own.items() if w == 0.0 and not table.keyword.known(s)}
        for s in unknown:
            # a compound of known words is half unknown
            own[s] = table.keyword.max_idf * (0.5 if table.keyword.compound_part(s) else 1.0)
        exp = self.glossary.expand(query)
        extra = table.keyword.idf(" ".join(exp.terms).split()) if exp.terms else {}
        return own, {k: v for k, v in extra.items() if k not in own}, unknown
