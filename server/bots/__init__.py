"""Chat bots: Slack (`POST /slack/events`) and Microsoft Teams (`POST /teams/messages`).

Each is switched on by its secrets and checks its own signatures (no API keys on these routes).
Slack calls the same answerer as the HTTP API; Teams, which waits 5 seconds at most, the parts'
extractive answerer. Each renders the answer for its platform (slack_blocks.py, teams_card.py).
"""
from __future__ import annotations

import logging

from fastapi import FastAPI

from retriever.errors import ConfigurationError

from ..config import ServerConfig
from ..parts import Parts

log = logging.getLogger("rodedraad")


def check_bots(config: ServerConfig) -> None:
    """Refuse a half-configured Slack and a Teams secret that is not the token Teams showed."""
    slack = (config.slack_bot_token, config.slack_signing_secret)
    if any(slack) and not all(slack):
        raise ConfigurationError("Slack needs both RODEDRAAD_SLACK_BOT_TOKEN and RODEDRAAD_SLACK_SIGNING_SECRET; "
                                 "set both, or neither to switch Slack off")
    if config.teams_secret:
        from .teams import decode_secrets

        decode_secrets(config.teams_secret)


def install_bots(app: FastAPI, config: ServerConfig, parts: Parts) -> None:
    """Mount the bots whose secrets are set."""
    check_bots(config)
    if config.slack_bot_token and config.slack_signing_secret:
        from .slack import install_slack

        install_slack(app, config, parts.answerer)
        log.info("slack bot on at /slack/events")
    if config.teams_secret:
        from .teams import install_teams

        install_teams(app, config, parts.extractive_answerer)
        log.info("teams outgoing webhook on at /teams/messages")
