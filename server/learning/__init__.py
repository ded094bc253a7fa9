"""Learning features for inspectors and learning sessions: precedents, themes across reports, session packs.

    >>> learning = LearningService.build(searcher, settings)
    >>> learning.finder.find("opschalen en afschalen")
    >>> learning.browser.detail("opschalen-afschalen")
    >>> render_markdown(learning.pack("opschalen-afschalen"))
"""
from __future__ import annotations

from .service import LearningService, UnknownTheme

__all__ = ["LearningService", "UnknownTheme"]
