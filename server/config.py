"""What the HTTP layer needs to know, handed in by whoever builds the app (`rodedraad.app`).

The server never reads settings itself: `rodedraad/assemble.py` makes a ServerConfig from the
Settings, and tests make one from theirs.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from retriever.errors import ConfigurationError


@dataclass(frozen=True)
class RequestLimits:
    """The one owner of the size limits on a request: body bytes, question length, result count."""

    max_body_bytes: int = 64_000
    max_question_chars: int = 2000
    max_results: int = 50


@dataclass(frozen=True)
class ServerConfig:
    """Serving options; see the matching `RODEDRAAD_*` settings in the README."""

    answer_mode: str = "extractive"
    host: str = "127.0.0.1"
    api_keys: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    public_url: str = ""
    limits: RequestLimits = RequestLimits()
    rate_limit_per_minute: int = 120
    request_threads: int = 8
    audit_log: Path | None = None
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_api_url: str = "https://slack.com/api/"
    teams_secret: str = ""


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(config: ServerConfig) -> None:
    """Refuse to serve beyond loopback without API keys, so a careless deployment is never open."""
    if not is_loopback(config.host) and not config.api_keys:
        raise ConfigurationError(
            f"binding to {config.host} exposes the API beyond this machine; set RODEDRAAD_API_KEYS "
            "(comma-separated bearer keys) or bind to 127.0.0.1")
