"""Slack: mentions, direct messages and `/rodedraad`, answered in the thread with cited sources.

Slack posts events to `POST /slack/events`. Bolt checks the signature (signing secret, 5-minute
window; 401 otherwise), answers `url_verification`, and acknowledges at once; the answer is written
afterwards in Bolt's worker threads and posted with `chat.postMessage` into the thread.

Slack retries an event it believes failed (no 200 within 3 seconds). Every event id (and slash
command trigger id) is remembered for an hour in a bounded set, so each question is answered once.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from slack_bolt import App, BoltResponse
# the conversions of Bolt's FastAPI adapter (slack_bolt.adapter.fastapi is its Starlette handler)
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from starlette.concurrency import run_in_threadpool

from ..config import ServerConfig
from ..metrics import InstrumentedAnswerer, channel
from .incoming import clean_slack_text
from .slack_request import body_problem, signature_ok
from .slack_blocks import slack_escape, slack_message, slack_notice
from .text import base_url, shorten

log = logging.getLogger("rodedraad.slack")

COMMAND = "/rodedraad"
HELP = ("Stel een vraag over de calamiteitenrapporten, bijvoorbeeld `/rodedraad wat ging er mis bij opschalen?`, "
        "of noem mij in een kanaal. Ik antwoord met bronnen: rapport, jaar en pagina.")
SEARCHING = "Even zoeken in de rapporten: _{question}_"
FAILED = "Er ging iets mis bij het beantwoorden van deze vraag; probeer het later opnieuw."


class SeenKeys:
    """A bounded set whose members expire: remembers event ids for `ttl` seconds, at most `max_items`."""

    def __init__(self, ttl: float = 3600.0, max_items: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_items = max_items
        self.clock = clock
        self._items: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def _expire(self, now: float) -> None:
        while self._items:
            key, added = next(iter(self._items.items()))
            if now - added < self.ttl and len(self._items) <= self.max_items:
                break
            self._items.popitem(last=False)

    def add(self, key: str) -> bool:
        """Remember `key`; True when it was new, False when it was seen within the last `ttl` seconds."""
        with self._lock:
            now = self.clock()
            self._expire(now)
            if key in self._items:
                return False
            self._items[key] = now
            self._expire(now)
            return True

    def __contains__(self, key: str) -> bool:
        with self._lock:
            self._expire(self.clock())
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


def _api_url(url: str) -> str:
    """slack_sdk joins method names onto the base URL, which therefore needs its trailing slash."""
    return url if url.endswith("/") else url + "/"


def build_bolt(fastapi_app: FastAPI, config: ServerConfig, answerer: InstrumentedAnswerer) -> App:
    """The Bolt app with its listeners, answering with `answerer`."""
    client = WebClient(token=config.slack_bot_token, base_url=_api_url(config.slack_api_url))
    bolt = App(client=client, signing_secret=config.slack_signing_secret, token_verification_enabled=False,
               process_before_response=False, logger=logging.getLogger("rodedraad.slack.bolt"), name="rodedraad")
    seen = SeenKeys()
    base = base_url(config.public_url)
    fastapi_app.state.slack_seen = seen

    def render(text: str, **extra) -> dict:
        try:
            with channel("slack"):
                answer = answerer.answer(text)
        except Exception:  # the user gets a message, the log gets the details
            log.exception("slack: answering failed")
            return slack_notice(FAILED)
        return slack_message(answer, base, prompts=answerer.prompts, **extra)

    @bolt.middleware
    def answer_once(body: dict, req, next):
        """Acknowledge a repeated delivery (a Slack retry) without answering again."""
        key = ""
        if body.get("type") == "event_callback" and body.get("event_id"):
            key = f"event:{body['event_id']}"
        elif body.get("command") and body.get("trigger_id"):
            key = f"command:{body['trigger_id']}"
        if key and not seen.add(key):
            retry = (req.headers.get("x-slack-retry-num") or [""])[0]
            log.info("slack: ignoring repeated delivery %s (retry %s)", key, retry or "-")
            return BoltResponse(status=200, body="", headers={"x-slack-no-retry": "1"})
        return next()

    most = config.limits.max_question_chars  # a mention may be 40,000 characters: bounded like Teams

    def answer_in_thread(event: dict, client: WebClient) -> None:
        question = clean_slack_text(event.get("text", ""))[:most]
        channel, ts = event.get("channel"), event.get("ts")
        if not channel or not ts:
            return
        # one message can arrive as two events (a mention in a DM); answer it once
        if not seen.add(f"message:{channel}:{ts}"):
            return
        message = render(question) if question else slack_notice(HELP)
        client.chat_postMessage(channel=channel, thread_ts=event.get("thread_ts") or ts,
                                unfurl_links=False, unfurl_media=False, **message)

    @bolt.event("app_mention")
    def on_mention(event: dict, client: WebClient) -> None:
        answer_in_thread(event, client)

    @bolt.event("message")
    def on_message(event: dict, client: WebClient) -> None:
        # direct messages only; edits, joins and other bots' messages are not questions
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        answer_in_thread(event, client)

    @bolt.command(COMMAND)
    def on_command(ack, command: dict, client: WebClient, respond) -> None:
        question = clean_slack_text(command.get("text", ""))[:most]
        if not question:
            ack(text=HELP)
            return
        shown = slack_escape(shorten(question, 500)).replace("_", " ")
        ack(response_type="ephemeral", text=SEARCHING.format(question=shown))
        # after ack() nothing may escape: Bolt would turn a listener error into an error response
        try:
            message = render(question, question=question, asked_by=command.get("user_id", ""))
            try:
                client.chat_postMessage(channel=command["channel_id"], unfurl_links=False, unfurl_media=False,
                                        **message)
            except SlackApiError as e:
                # not a member of this channel (or a DM between others): answer through the response_url
                log.info("slack: chat.postMessage failed (%s); answering through response_url",
                         e.response.get("error") if e.response is not None else e)
                respond(response_type="in_channel", replace_original=False, **message)
        except Exception:
            log.exception("slack: could not deliver the answer to %s", COMMAND)

    return bolt


def install_slack(app: FastAPI, config: ServerConfig, answerer: InstrumentedAnswerer) -> None:
    """Mount `POST /slack/events`."""
    bolt = build_bolt(app, config, answerer)
    app.state.slack_bolt = bolt

    @app.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request):
        body = await request.body()
        if not signature_ok(config.slack_signing_secret, body, request.headers.get("x-slack-request-timestamp"),
                            request.headers.get("x-slack-signature")):
            return JSONResponse({"error": "invalid request"}, status_code=401)
        problem = body_problem(body, request.headers.get("content-type", ""))
        if problem:
            return JSONResponse({"error": problem}, status_code=400)
        # As the adapter's SlackRequestHandler.handle, but Bolt's dispatch blocks (the first auth.test, waiting
        # up to 3 s for ack()), so it runs in a worker thread instead of on the event loop
        response = await run_in_threadpool(bolt.dispatch, to_bolt_request(request, body))
        return to_starlette_response(response)
