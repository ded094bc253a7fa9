"""Microsoft Teams outgoing webhook: `@Rode Draad <vraag>` in a channel, answered with an Adaptive Card.

Teams signs each request with `Authorization: HMAC <base64>`: HMAC-SHA256 over the raw body, keyed
with the base64-decoded security token shown when the webhook was created. Anything else gets 401.

Teams waits 5 seconds for the reply, so Teams always gets the extractive answer (no LLM), and the
call is bounded: past `ANSWER_TIMEOUT` seconds the reply says so instead of arriving too late.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from retriever.errors import ConfigurationError

from ..config import ServerConfig
from ..metrics import InstrumentedAnswerer, channel
from .incoming import clean_teams_text
from .teams_card import teams_message, teams_notice
from .text import base_url

log = logging.getLogger("rodedraad.teams")

ANSWER_TIMEOUT = 4.0  # seconds; Teams gives up after 5, the network needs some of them
HELP = ("Stel een vraag over de calamiteitenrapporten, bijvoorbeeld: @Rode Draad wat ging er mis bij opschalen? "
        "Ik antwoord met bronnen: rapport, jaar en pagina.")
TOO_SLOW = ("Het zoeken duurde langer dan Teams wacht. Probeer het opnieuw, of stel de vraag op de webpagina: {url}")
FAILED = "Er ging iets mis bij het beantwoorden van deze vraag; probeer het later opnieuw."


def decode_secret(secret: str) -> bytes:
    """The HMAC key: the security token Teams shows, base64-decoded."""
    try:
        key = base64.b64decode(secret.strip(), validate=True)
    except (binascii.Error, ValueError) as e:
        raise ConfigurationError("RODEDRAAD_TEAMS_SECRET must be the base64 security token Teams showed when the "
                                 f"outgoing webhook was created ({e})") from e
    if not key:
        raise ConfigurationError("RODEDRAAD_TEAMS_SECRET is empty")
    return key


def sign(key: bytes, body: bytes) -> str:
    """The Authorization header value Teams sends for `body`."""
    return "HMAC " + base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")


def decode_secrets(secrets: str) -> list[bytes]:
    """One key per team: the setting may hold several tokens separated by commas."""
    keys = [decode_secret(s) for s in secrets.split(",") if s.strip()]
    if not keys:
        raise ConfigurationError("RODEDRAAD_TEAMS_SECRET is empty")
    return keys


def verify(key: bytes | list[bytes], body: bytes, authorization: str | None) -> bool:
    """True when `authorization` is `HMAC <base64 of HMAC-SHA256(key, body)>` for the key (or one of the
    keys), compared in constant time."""
    if not authorization:
        return False
    scheme, _, given = authorization.strip().partition(" ")
    if scheme.upper() != "HMAC" or not given:
        return False
    given_bytes = given.strip().encode("utf-8", "replace")
    ok = False
    for k in [key] if isinstance(key, bytes) else key:
        expected = base64.b64encode(hmac.new(k, body, hashlib.sha256).digest())
        ok |= hmac.compare_digest(expected, given_bytes)
    return ok


def install_teams(app: FastAPI, config: ServerConfig, answerer: InstrumentedAnswerer) -> None:
    """Mount `POST /teams/messages`, answered by `answerer` (extractive: Teams cannot wait for an LLM)."""
    key = decode_secrets(config.teams_secret)
    base = base_url(config.public_url)
    pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="teams")

    @app.post("/teams/messages", include_in_schema=False)
    async def teams_messages(request: Request):
        body = await request.body()
        if not verify(key, body, request.headers.get("authorization")):
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        try:
            activity = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return JSONResponse({"error": "malformed JSON body"}, status_code=400)
        text = activity.get("text") if isinstance(activity, dict) else None
        question = clean_teams_text(text if isinstance(text, str) else "")
        if not question:
            return JSONResponse(teams_notice(HELP))
        question = question[: config.limits.max_question_chars]
        loop = asyncio.get_running_loop()
        try:
            answer = await asyncio.wait_for(loop.run_in_executor(pool, partial(_answer_in_teams, answerer, question)),
                                            timeout=ANSWER_TIMEOUT)
        except TimeoutError:
            log.warning("teams: no answer within %.1f s", ANSWER_TIMEOUT)
            return JSONResponse(teams_notice(TOO_SLOW.format(url=f"{base}/")))
        except Exception:
            log.exception("teams: answering failed")
            return JSONResponse(teams_notice(FAILED))
        return JSONResponse(teams_message(answer, base, prompts=answerer.prompts))


def _answer_in_teams(answerer: InstrumentedAnswerer, question: str):
    """Answer in the executor thread, counted as a Teams question."""
    with channel("teams"):
        return answerer.answer(question)
