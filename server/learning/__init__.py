"""Learning features for inspectors and learning sessions: precedents, themes across reports, session packs.

    >>> learning = parts.learning  # built by rodedraad/assemble.py
    >>> learning.finder.find("opschalen en afschalen")
    >>> learning.browser.detail(learning.theme_or_404("opschalen-afschalen"))
    >>> render_markdown(learning.pack("opschalen-afschalen"))
"""
from __future__ import annotations

from .service import LearningService, UnknownTheme

__all__ = ["LearningService", "UnknownTheme"]
