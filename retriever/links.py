"""Links to the outside world that come from documents and catalogs: only http(s) ever leaves.

A catalog (or an index built before this check) may hold `javascript:alert(1)`, `JaVaScRiPt:…` or
`data:text/html,…`; as the href of the page's "original publication" link that runs in our origin.

    >>> web_url(" https://www.igj.nl/x "), web_url("JavaScript:alert(1)")
    ('https://www.igj.nl/x', '')
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def web_url(url: object) -> str:
    """`url` when it is an absolute http or https URL with a host, else ''."""
    text = str(url or "").strip()
    if not text or _CONTROL.search(text):  # browsers strip tabs and newlines: "java\tscript:" is a scheme
        return ""
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    return text if parts.scheme.lower() in ("http", "https") and parts.netloc else ""
