"""Bounds on every text that reaches analysis and search, whichever channel it came in by.

Analysis costs grow with the text: a 20,000-character earlier turn, borrowed by a short follow-up,
took 13.5 s, and a question of 2000 combining accents 4.2 s. So only the last few turns are read,
each cut short, a run of combining marks is cut to a few, lone surrogates (which no encoder
accepts) become U+FFFD, and the question that is searched for has a length limit of its own.

    >>> len(analysis_text("e" + "\\u0301" * 1999))
    3
"""
from __future__ import annotations

import re
from collections.abc import Sequence

HISTORY_TURNS = 6        # earlier messages read (the LLM condense prompt reads as many)
TURN_CHARS = 500         # of each earlier message
QUESTION_CHARS = 2000    # the question itself (the API's own limit)
STANDALONE_CHARS = 2500  # the question as searched for: a borrowed turn plus the question

_COMBINING_RUN = re.compile(r"([\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f])"
                            r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]{2,}")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_REPEAT = re.compile(r"(\S)\1{31,}")  # one character 32 times or more in a row says nothing more


def analysis_text(text: str, limit: int = QUESTION_CHARS) -> str:
    """`text` as analysis may read it: no lone surrogates, at most two combining marks in a row,
    no long runs of one character, at most `limit` characters (cut at a space when there is one)."""
    text = _SURROGATE.sub("\ufffd", text or "")
    text = _COMBINING_RUN.sub(lambda m: m.group(0)[:2], text)
    text = _REPEAT.sub(lambda m: m.group(1) * 3, text)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ", limit // 2)
    return cut[:space] if space > 0 else cut


def bounded_history(history: Sequence, turns: int = HISTORY_TURNS, chars: int = TURN_CHARS) -> list:
    """The last `turns` earlier messages, each cut to `chars` characters (same type as given)."""
    kept = list(history)[-turns:] if turns > 0 else []
    return [type(t)(t.role, analysis_text(t.content, chars)) for t in kept]
