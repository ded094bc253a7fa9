"""How an Answer looks in chat: Slack Block Kit and a Teams Adaptive Card, plus the text clean-up both bots share.

Every source names report, year and printed page, and links to the passage on our own web page
(`<public_url>/?passage=<chunk_id>`), so a reader can check the quote in one click.

    >>> blocks = slack_message(answer, "https://rodedraad.example.org")["blocks"]
    >>> card = teams_message(answer, "https://rodedraad.example.org")
"""
from __future__ import annotations

import html
import re
from urllib.parse import quote

from retriever.types import Answer, Passage

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"

# Slack's limits (https://docs.slack.dev/reference/block-kit/blocks)
SLACK_TEXT_LIMIT = 3000        # a section's or a context element's text
SLACK_MAX_BLOCKS = 50          # blocks in one message
SLACK_CONTEXT_ELEMENTS = 10    # elements in one context block
SLACK_FALLBACK_LIMIT = 3000    # the notification text beside the blocks (Slack truncates at 40,000)
MAX_SOURCES = 20               # sources shown; the rest stay one click away on the web page
QUOTE_CHARS = 240

# Teams: a bot message may be about 28 KB; keep the card well inside it
TEAMS_ANSWER_LIMIT = 12_000
CARD_VERSION = "1.4"

_LABELS = {
    "nl": {"sources": "Bronnen", "page": "p.", "no_year": "z.j.", "cut": "(ingekort; het volledige antwoord staat op de webpagina)",
           "open": "Open Rode Draad", "asked": "vroeg"},
    "en": {"sources": "Sources", "page": "p.", "no_year": "n.d.", "cut": "(shortened; the full answer is on the web page)",
           "open": "Open Rode Draad", "asked": "asked"},
}
# used when no prompt library is given; prompts/messages.toml holds the texts the answerer uses
_FIXED = {
    "about": {"nl": "Rode Draad is een onafhankelijke assistent over openbare rapporten; geen onderdeel van de inspectie.",
              "en": "Rode Draad is an independent assistant over public reports; not part of the inspectorate."},
    "nearest": {"nl": "Deze rapporten komen het dichtst in de buurt:", "en": "These reports come closest:"},
}

_CITE = re.compile(r"\[(\d{1,3})\]")
_SLACK_USER = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_SLACK_CHANNEL = re.compile(r"<#[A-Z0-9]+(?:\|([^>]*))?>")
_SLACK_SPECIAL = re.compile(r"<!(?:subteam\^[A-Z0-9]+|here|channel|everyone)(?:\|([^>]*))?>")
_TEAMS_AT = re.compile(r"<at\b[^>]*>.*?</at>", re.I | re.S)
_BREAK = re.compile(r"<(?:br|/?(?:div|p|li|tr|h\d))\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def labels(language: str) -> dict[str, str]:
    return _LABELS.get(language, _LABELS["nl"])


def fixed_text(key: str, language: str, prompts=None) -> str:
    """A fixed text (`about`, `nearest`) from the prompt library, or the built-in one."""
    if prompts is not None:
        try:
            return prompts.message(key, language)
        except Exception:  # a missing text must not stop an answer from being shown
            pass
    return _FIXED[key].get(language, _FIXED[key]["nl"])


# -- shared formatting -----------------------------------------------------------------------------

def base_url(public_url: str) -> str:
    """Where the web page lives, without a trailing slash."""
    return (public_url or DEFAULT_PUBLIC_URL).rstrip("/")


def passage_link(base: str, chunk_id: str) -> str:
    """The passage on our web page."""
    return f"{base.rstrip('/')}/?passage={quote(chunk_id, safe='')}"


def source_label(p: Passage, language: str = "nl") -> str:
    """`Title (2019), p. 12` — report, year and printed page."""
    lab = labels(language)
    page = p.page_label or str(p.page or "?")
    return f"{shorten(p.title or p.doc_id, 200)} ({p.year or lab['no_year']}), {lab['page']} {shorten(page, 20)}"


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary, with an ellipsis when cut."""
    text = _SPACE.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 1)]
    if " " in cut[limit // 2:]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip() + "…"


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, split at paragraphs, then lines, then spaces; a word
    longer than `limit` is cut. Whitespace inside a piece is kept as it was."""
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces: list[str] = []

    def add(part: str) -> None:
        if part.strip():
            pieces.append(part.strip())

    def fill(parts: list[str], sep: str, finer) -> None:
        buf = ""
        for part in parts:
            candidate = f"{buf}{sep}{part}" if buf else part
            if len(candidate) <= limit:
                buf = candidate
                continue
            add(buf)
            buf = ""
            if len(part) <= limit:
                buf = part
            else:
                finer(part)
        add(buf)

    def by_words(par: str) -> None:
        def hard(word: str) -> None:
            for i in range(0, len(word), limit):
                add(word[i:i + limit])
        fill(par.split(" "), " ", hard)

    def by_lines(par: str) -> None:
        fill(par.split("\n"), "\n", by_words)

    fill(re.split(r"\n\s*\n", text.strip()), "\n\n", by_lines)
    return pieces


# -- incoming text ---------------------------------------------------------------------------------

def clean_slack_text(text: str) -> str:
    """The question in a Slack message: bot mention `<@U…>` removed, links and channels as plain text,
    Slack's `&amp; &lt; &gt;` escapes undone."""
    text = _SLACK_USER.sub(" ", text or "")
    text = _SLACK_LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _SLACK_CHANNEL.sub(lambda m: f"#{m.group(1)}" if m.group(1) else "", text)
    text = _SLACK_SPECIAL.sub(lambda m: m.group(1) or "", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return _SPACE.sub(" ", text).strip()


def clean_teams_text(text: str) -> str:
    """The question in a Teams message: `<at>Bot</at>` removed, other markup and entities undone."""
    text = _TEAMS_AT.sub(" ", text or "")
    text = _TAG.sub("", _BREAK.sub(" ", text))
    text = html.unescape(text).replace("\xa0", " ")
    return _SPACE.sub(" ", text).strip()


# -- Slack -----------------------------------------------------------------------------------------

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

    body = _CITE.sub(lambda m: _slack_link(links[int(m.group(1))], m.group(0)) if int(m.group(1)) in links
                     else m.group(0), slack_escape(answer.text))
    room = SLACK_MAX_BLOCKS - len(head) - len(tail)
    sections = split_text(body, SLACK_TEXT_LIMIT) or ["…"]
    cut: list[dict] = []
    if len(sections) > room:
        sections = sections[: room - 1]
        cut = [{"type": "context", "elements": [_mrkdwn(f"… {lab['cut']}")]}]
    blocks = head + [{"type": "section", "text": _mrkdwn(s)} for s in sections] + cut + tail

    fallback = shorten(answer.text, SLACK_FALLBACK_LIMIT)
    return {"text": fallback, "blocks": blocks}


def slack_notice(text: str) -> dict:
    """A plain message (help, errors) as text plus one section block."""
    return {"text": text, "blocks": [{"type": "section", "text": _mrkdwn(slack_escape(shorten(text, SLACK_TEXT_LIMIT)))}]}


# -- Teams -----------------------------------------------------------------------------------------

def _card_text(text: str, **style) -> dict:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _md_label(text: str) -> str:
    """Text that sits inside a markdown link label: no brackets that would end it early."""
    return text.replace("[", "(").replace("]", ")")


def adaptive_card(answer: Answer, base: str, *, prompts=None) -> dict:
    """An Adaptive Card 1.4: the answer, then each source as `[n] Title (year), p. X` linking to the
    passage, with the quoted sentence beneath."""
    lab = labels(answer.language)
    text = answer.text
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
                body.append(_card_text(f"“{shorten(c.quote, QUOTE_CHARS)}”", isSubtle=True, size="Small",
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
