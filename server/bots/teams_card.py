"""An Answer as a Microsoft Teams reply: an Adaptive Card with the answer and its linked sources.

    >>> card = teams_message(answer, "https://rodedraad.example.org")
"""
from __future__ import annotations

from retriever.types import Answer

from ..document_text import card_text, mark_quotes
from .text import MAX_SOURCES, QUOTE_CHARS, fixed_text, labels, passage_link, shorten, source_label

# Teams: a bot message may be about 28 KB; keep the card well inside it
TEAMS_ANSWER_LIMIT = 12_000
CARD_VERSION = "1.4"


def _card_text(text: str, **style) -> dict:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _md_label(text: str) -> str:
    """Text that sits inside a markdown link label: no brackets that would end it early."""
    return text.replace("[", "(").replace("]", ")")


def adaptive_card(answer: Answer, base: str, *, prompts=None) -> dict:
    """An Adaptive Card 1.4: the answer, then each source as `[n] Title (year), p. X` linking to the
    passage, with the quoted sentence beneath."""
    lab = labels(answer.language)
    text = card_text(mark_quotes(answer.text, answer.citations))  # the document's words, as words
    if len(text) > TEAMS_ANSWER_LIMIT:
        text = f"{shorten(text, TEAMS_ANSWER_LIMIT)} {lab['cut']}"
    body: list[dict] = [_card_text(text)]
    if answer.citations:
        body.append(_card_text(lab["sources"], weight="Bolder", spacing="Medium", separator=True))
        for c in list(answer.citations)[:MAX_SOURCES]:
            link = passage_link(base, c.passage.chunk_id)
            body.append(_card_text(f"[{c.n}] [{_md_label(source_label(c.passage, answer.language))}]({link})",
                                   spacing="Small"))
            if c.quote:
                body.append(_card_text(f"“{card_text(shorten(c.quote, QUOTE_CHARS))}”", isSubtle=True, size="Small",
                                       spacing="None"))
    elif answer.nearest:
        body.append(_card_text(fixed_text("nearest", answer.language, prompts), weight="Bolder", spacing="Medium",
                               separator=True))
        for p in list(answer.nearest)[:MAX_SOURCES]:
            body.append(_card_text(f"[{_md_label(source_label(p, answer.language))}]({passage_link(base, p.chunk_id)})",
                                   spacing="Small"))
    body.append(_card_text(fixed_text("about", answer.language, prompts), isSubtle=True, size="Small", spacing="Medium"))
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
        # outgoing webhooks may only use openUrl actions
        "actions": [{"type": "Action.OpenUrl", "title": lab["open"], "url": f"{base}/"}],
    }


def teams_message(answer: Answer, base: str, *, prompts=None) -> dict:
    """The reply to a Teams outgoing webhook: a message carrying the Adaptive Card."""
    return {"type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                             "content": adaptive_card(answer, base, prompts=prompts)}]}


def teams_notice(text: str) -> dict:
    """A plain text reply (help, errors, too slow)."""
    return {"type": "message", "text": text}
