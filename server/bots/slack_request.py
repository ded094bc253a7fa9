"""An incoming Slack request checked before Bolt sees it: the signature first (401), then the body (400).

Bolt parses the body before it checks the signature, so an unsigned `{not json`, a form body
`payload=%7Bnot` or `X-Slack-Request-Timestamp: abc` gave a 500 with a traceback. Here nothing of
the body is read until the signature holds, and a signed body that Bolt could not parse is refused.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import parse_qs

WINDOW_S = 5 * 60  # Slack's own: a request older (or newer) than this is a replay


def signature_ok(secret: str, body: bytes, timestamp: str | None, signature: str | None,
                 now: float | None = None) -> bool:
    """True when `signature` is Slack's `v0=` HMAC-SHA256 of `v0:<timestamp>:<body>` and the
    timestamp (whole seconds) is within five minutes; compared in constant time."""
    if not timestamp or not signature or not timestamp.isascii() or not timestamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > WINDOW_S:
        return False
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    expected = "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace"))


def body_problem(body: bytes, content_type: str) -> str | None:
    """Why Bolt could not read this (signed) body, or None when it can: JSON must be an object, a
    form's `payload` (interactivity) must be a JSON object, everything must be UTF-8."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the body is not UTF-8"
    try:
        if content_type.split(";")[0].strip().lower() == "application/json":
            return None if isinstance(json.loads(text), dict) else "the JSON body is not an object"
        payload = parse_qs(text).get("payload")
        if payload is not None and not isinstance(json.loads(payload[0]), dict):
            return "the form's payload is not a JSON object"
    except (ValueError, RecursionError):
        return "malformed body"
    return None
