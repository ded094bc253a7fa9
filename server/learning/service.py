"""The learning parts built once over a searcher: theme tagger, mentioned-report catalogue,
precedent finder, theme browser and session-pack builder."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from retriever.mentions import DEFAULT_PATH, MentionCatalogue
from retriever.precedents import PrecedentFinder
from retriever.search import HybridRetriever
from retriever.themes import ThemeTagger
from retriever.errors import RodeDraadError
from rodedraad.settings import Settings
from retriever.types import Filters

from .browse import ThemeBrowser
from .pack import PackBuilder, SessionPack


class UnknownTheme(RodeDraadError):
    """No theme with that id; the message lists the ids there are."""

    status_code = 404


@dataclass
class LearningService:
    """Everything the learning routes and commands need, sharing one searcher."""

    searcher: HybridRetriever
    tagger: ThemeTagger
    finder: PrecedentFinder
    browser: ThemeBrowser
    packs: PackBuilder

    @classmethod
    def build(cls, searcher: HybridRetriever, settings: Settings) -> LearningService:
        """Load the theme and mentioned-report files named by the settings."""
        tagger = ThemeTagger.load(settings.themes_path, searcher.normaliser)
        mentioned = Path(getattr(settings, "mentioned_reports_path", DEFAULT_PATH))
        finder = PrecedentFinder(searcher, MentionCatalogue.load(mentioned))
        browser = ThemeBrowser(searcher, tagger, finder)
        return cls(searcher, tagger, finder, browser, PackBuilder(browser, settings.prompts_dir))

    def theme_or_404(self, theme_id: str):
        """The theme, or UnknownTheme naming the ids there are."""
        theme = self.tagger.get(theme_id)
        if theme is None:
            known = ", ".join(t.id for t in self.tagger.themes)
            raise UnknownTheme(f"unknown theme {theme_id!r}; known themes: {known}")
        return theme

    def pack(self, theme_id: str, filters: Filters | None = None, *, base_url: str = "") -> SessionPack:
        """The session pack for a theme (UnknownTheme when there is no such theme)."""
        return self.packs.build(self.theme_or_404(theme_id), filters or Filters(), base_url=base_url)
