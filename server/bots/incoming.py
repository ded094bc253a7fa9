"""The question in an incoming chat message: mentions, links and markup taken out."""
from __future__ import annotations

import html
import re

_SLACK_USER = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_SLACK_CHANNEL = re.compile(r"<#[A-Z0-9]+(?:\|([^>]*))?>")
_SLACK_SPECIAL = re.compile(r"<!(?:subteam\^[A-Z0-9]+|here|channel|everyone)(?:\|([^>]*))?>")
_TEAMS_AT = re.compile(r"<at\b[^>]*>.*?</at>", re.I | re.S)
_BREAK = re.compile(r"<(?:br|/?(?:div|p|li|tr|h\d))\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


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
