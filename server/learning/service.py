"""The learning parts over one searcher: theme tagger, precedent finder, theme browser and
session-pack builder, put together by `rodedraad/assemble.py`."""
from __future__ import annotations

from dataclasses import dataclass

from retriever.errors import RodeDraadError, shown_id
from retriever.precedents import PrecedentFinder
from retriever.themes import Theme, ThemeTagger
from retriever.types import Filters

from .browse import ThemeBrowser
from .pack import PackBuilder, SessionPack


class UnknownTheme(RodeDraadError):
    """No theme with that id; the message lists the ids there are."""

    status_code = 404


@dataclass
class LearningService:
    """Everything the learning routes and commands need.

        >>> learning = LearningService(tagger, finder, ThemeBrowser(lookup, tagger, finder), PackBuilder(...))
        >>> learning.browser.detail(learning.theme_or_404("opschalen-afschalen"))
    """

    tagger: ThemeTagger
    finder: PrecedentFinder
    browser: ThemeBrowser
    packs: PackBuilder

    def theme_or_404(self, theme_id: str) -> Theme:
        """The theme, or UnknownTheme naming the ids there are."""
        theme = self.tagger.get(theme_id)
        if theme is None:
            known = ", ".join(t.id for t in self.tagger.themes)
            raise UnknownTheme(f"unknown theme {shown_id(theme_id)}; known themes: {known}")
        return theme

    def pack(self, theme_id: str, filters: Filters | None = None, *, base_url: str = "") -> SessionPack:
        """The session pack for a theme (UnknownTheme when there is no such theme)."""
        return self.packs.build(self.theme_or_404(theme_id), filters or Filters(), base_url=base_url)
