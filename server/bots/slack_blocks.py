"""An Answer as a Slack message in Block Kit: sections for the answer, a context line per source.

    >>> blocks = slack_message(answer, "https://rodedraad.example.org")["blocks"]
"""
from __future__ import annotations

from retriever.types import Answer

from ..document_text import mark_quotes
from .text import (CITATION_MARKER, MAX_SOURCES, QUOTE_CHARS, fixed_text, labels, passage_link, shorten,
                   source_label, split_text)

# Slack's limits (https://docs.slack.dev/reference/block-kit/blocks)
SLACK_TEXT_LIMIT = 3000        # a section's or a context element's text
SLACK_MAX_BLOCKS = 50          # blocks in one message
SLACK_CONTEXT_ELEMENTS = 10    # elements in one context block
SLACK_FALLBACK_LIMIT = 3000    # the notification text beside the blocks (Slack truncates at 40,000)


def slack_escape(text: str) -> str:
    """Slack mrkdwn needs only these three escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(url: str, label: str) -> str:
    # a label cannot hold `|` or `>`; the url is ours and holds neither
    return f"<{url}|{slack_escape(label).replace('|', '¦')}>"


def _mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


def slack_message(answer: Answer, base: str, *, question: str = "", asked_by: str = "", prompts=None) -> dict:
    """`{"text": ..., "blocks": [...]}` for chat.postMessage: the answer in sections (each under
    3000 characters), its [n] markers linked to the passages, then one context line per source with
    report, year and printed page; at most 50 blocks, cutting the answer (never the sources) to fit.

    `question` (and `asked_by`, a user id) head the message when Slack does not show the question
    itself, as with a slash command. `prompts` (a PromptLibrary) supplies the fixed texts.
    """
    lab = labels(answer.language)
    links = {c.n: passage_link(base, c.passage.chunk_id) for c in answer.citations}

    head: list[dict] = []
    if question:
        who = f"<@{asked_by}> {lab['asked']}: " if asked_by else ""
        head.append({"type": "context", "elements": [_mrkdwn(f"{who}_{slack_escape(shorten(question, 500))}_")]})

    tail: list[dict] = []
    if answer.citations:
        tail.append({"type": "divider"})
        tail.append({"type": "context", "elements": [_mrkdwn(f"*{lab['sources']}*")]})
        for c in list(answer.citations)[:MAX_SOURCES]:
            line = f"*[{c.n}]* {_slack_link(links[c.n], source_label(c.passage, answer.language))}"
            if c.quote:
                line += f" — _“{slack_escape(shorten(c.quote, QUOTE_CHARS))}”_"
            tail.append({"type": "context", "elements": [_mrkdwn(shorten(line, SLACK_TEXT_LIMIT))]})
    elif answer.nearest:
        tail.append({"type": "divider"})
        tail.append({"type": "context", "elements": [_mrkdwn(f"*{fixed_text('nearest', answer.language, prompts)}*")]})
        for p in list(answer.nearest)[:MAX_SOURCES]:
            tail.append({"type": "context", "elements": [
                _mrkdwn(_slack_link(passage_link(base, p.chunk_id), source_label(p, answer.language)))]})
    tail.append({"type": "context", "elements": [_mrkdwn(slack_escape(fixed_text("about", answer.language, prompts)))]})

    text = mark_quotes(answer.text, answer.citations)  # a document's words never read as the bot's own
    body = CITATION_MARKER.sub(lambda m: _slack_link(links[int(m.group(1))], m.group(0)) if int(m.group(1)) in links
                     else m.group(0), slack_escape(text))
    room = SLACK_MAX_BLOCKS - len(head) - len(tail)
    sections = split_text(body, SLACK_TEXT_LIMIT) or ["…"]
    cut: list[dict] = []
    if len(sections) > room:
        sections = sections[: room - 1]
        cut = [{"type": "context", "elements": [_mrkdwn(f"… {lab['cut']}")]}]
    blocks = head + [{"type": "section", "text": _mrkdwn(s)} for s in sections] + cut + tail

    return {"text": _escaped_within(text, SLACK_FALLBACK_LIMIT), "blocks": blocks}


def _escaped_within(text: str, limit: int) -> str:
    """The notification text: escaped like the blocks (a document's `<!channel>` or `<http://…|…>`
    must not notify or link), shortened so that the escaped text stays within `limit`."""
    escaped = slack_escape(shorten(text, limit))
    while len(escaped) > limit:
        limit -= len(escaped) - limit
        escaped = slack_escape(shorten(text, max(limit, 1)))
    return escaped


def slack_notice(text: str) -> dict:
    """A plain message (help, errors) as text plus one section block."""
    return {"text": _escaped_within(text, SLACK_FALLBACK_LIMIT),
            "blocks": [{"type": "section", "text": _mrkdwn(slack_escape(shorten(text, SLACK_TEXT_LIMIT)))}]}
