"""Term statistics for the answer layer: the stems the keyword index sees, and how rare a
question's words are in the reports.

    >>> terms = TermStatistics(searcher.questions)
    >>> own, extra, unknown = terms.term_weights("hoeveel calamiteiten?")
"""
from __future__ import annotations

from functools import lru_cache

from .keyword import KeywordIndex
from .question import QuestionAnalyser


class TermStatistics:
    """Stems and IDF weights over the searcher's current keyword index."""

    def __init__(self, questions: QuestionAnalyser, *, cache_size: int = 20_000) -> None:
        self.questions = questions
        self.normaliser = questions.normaliser
        # The answer layer stems the same passages' sentences for question after question.
        self._stems = lru_cache(maxsize=cache_size)(self._stems_uncached)

    def stems(self, text: str) -> tuple[str, ...]:
        """Folded, stopword-free Dutch stems of a text (as the keyword index sees it)."""
        return self._stems(text)

    def _stems_uncached(self, text: str) -> tuple[str, ...]:
        return tuple(KeywordIndex.analyse(self.normaliser.tokens(text)))

    def term_weights(self, text: str) -> tuple[dict[str, float], dict[str, float], set[str]]:
        """IDF of a text's own stems, of its glossary expansion's stems, and the stems the
        reports never use (see `Question`)."""
        q = self.questions.analyse(text)
        return dict(q.own), dict(q.extra), set(q.unknown)
