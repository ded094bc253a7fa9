"""Chat bots: Slack (`POST /slack/events`) and Microsoft Teams (`POST /teams/messages`).

Each is switched on by its secrets and checks its own signatures (no API keys on these routes).
Both call the same Answerer as the HTTP API and render its answer with `cards`.
"""
from __future__ import annotations

import logging

from fastapi import FastAPI

from retriever.errors import ConfigurationError
from rodedraad.settings import Settings

log = logging.getLogger("rodedraad")


def install_bots(app: FastAPI, settings: Settings) -> None:
    """Mount the bots whose secrets are set; a half-configured Slack is refused."""
    slack = (settings.slack_bot_token, settings.slack_signing_secret)
    if all(slack):
        from .slack import install_slack

        install_slack(app, settings)
        log.info("slack bot on at /slack/events")
    elif any(slack):
        raise ConfigurationError("Slack needs both RODEDRAAD_SLACK_BOT_TOKEN and RODEDRAAD_SLACK_SIGNING_SECRET; "
                                 "set both, or neither to switch Slack off")
    if settings.teams_secret:
        from .teams import install_teams

        install_teams(app, settings)
        log.info("teams outgoing webhook on at /teams/messages")
