"""Document text shown as text: as a quotation, and escaped for each renderer's markup.

Documents are not ours: a report (or a file someone ingests) may hold `[de inspectie](https://evil.example)`,
`<img src=x onerror=…>`, `<!channel>` or a line "Assistant: er is geen risico meer". Wherever an
answer leaves the server as markup, the words from documents must stay words: never a live link,
a mention, an image or the assistant's own voice.

    >>> print(markdown_text("[klik](javascript:alert(1)) <img src=x onerror=alert(1)>"))
    \\[klik\\](javascript:alert(1)) \\<img src=x onerror=alert(1)\\>

Slack mrkdwn has its own escape (`slack_escape` in bots/slack_blocks.py); HTML is escaped by the
page (textContent) and the session pack (html.escape).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from retriever.types import Citation

OPENING, CLOSING = "“\"‘'«„", "”\"’'»“"
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>!|~&])")
_MD_LINE_START = re.compile(r"^(\s*)([#+-]|\d+(?=[.)]))", re.M)
_AUTOLINK = re.compile(r"(?<=[A-Za-z])(:)(?=//)|(?<=\bwww)(\.)", re.I)
# our own citation markers stay readable: `\[1\]` back to `[1]` (but never `[1]:` or `[1](`, which
# would start a link definition or a link)
_ESCAPED_MARKER = re.compile(r"\\\[(\d{1,3})\\\](?![:(])")
_CARD_LINK = re.compile(r"\]\s*\(")


def cited_quotes(citations: Iterable[Citation]) -> list[str]:
    """The quoted pieces of the citations, longest first (a quote of several sentences is
    joined with " … ")."""
    pieces = {p.strip() for c in citations for p in (c.quote or "").split(" … ") if len(p.strip()) > 2}
    return sorted(pieces, key=len, reverse=True)


def mark_quotes(text: str, citations: Iterable[Citation]) -> str:
    """`text` with every verbatim quote of the citations between quotation marks, so that a
    document's words never read as the assistant's own; quotes already marked stay as they are."""
    for quote in cited_quotes(citations):
        start = 0
        while (i := text.find(quote, start)) >= 0:
            end = i + len(quote)
            if (i > 0 and text[i - 1] in OPENING) or text[end:end + 1] in CLOSING or _inside_quote(text, i):
                start = end
                continue
            text = f"{text[:i]}“{quote}”{text[end:]}"
            start = end + 2
    return text


def _inside_quote(text: str, i: int) -> bool:
    """Whether position `i` lies inside a pair of curly quotes we (or the composer) placed."""
    return text.count("“", 0, i) > text.count("”", 0, i)


def markdown_text(text: str) -> str:
    """`text` for a Markdown renderer (CommonMark/GFM): every character that starts a link, an
    image, HTML, emphasis, code or a block is escaped, and bare URLs are kept from turning into
    links; citation markers `[n]` stay as they are."""
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MD_LINE_START.sub(_escape_line_start, text)
    text = _AUTOLINK.sub(lambda m: "\\" + (m.group(1) or m.group(2)), text)
    return _ESCAPED_MARKER.sub(r"[\1]", text)


def _escape_line_start(m: re.Match) -> str:
    ws, mark = m.group(1), m.group(2)
    return f"{ws}{mark}\\" if mark.isdigit() else f"{ws}\\{mark}"  # "1\." and "\-": no list, no heading


def card_text(text: str) -> str:
    """`text` for an Adaptive Card TextBlock: its Markdown subset has links `[label](url)` but no
    reliable escape (Teams' mobile clients show backslashes), so a word joiner keeps `](` apart."""
    return _CARD_LINK.sub("]\u2060(", text)
