"""Slack: requests signed exactly as Slack signs them, sent to a real uvicorn server; answers posted
through slack_sdk to a stand-in of Slack's Web API (a small real HTTP server on loopback)."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from fastapi import FastAPI, Request

from retriever.types import Answer, Citation, Passage
from server.bots import slack_blocks
from server.bots.incoming import clean_slack_text
from server.bots.slack_blocks import slack_message
from server.bots.text import split_text
from server.bots.slack import SeenKeys

from .conftest import LiveServer

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
BOT_USER = "U0BOTUSER"
PUBLIC_URL = "https://rodedraad.example.org"
QUESTION = "wat ging er mis bij opschalen?"
NOT_MEMBER = "C0NOTMEMBER"


class SlackAPIStandIn:
    """Answers `POST /api/<method>` like Slack's Web API and records every call; `/hooks/...` plays
    a slash command's response_url."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self._lock = threading.Lock()
        api = FastAPI()

        @api.post("/api/{method}")
        async def method(method: str, request: Request):
            payload = self._payload(await request.body(), request.headers.get("content-type", ""))
            self._record(method, request, payload)
            if method == "auth.test":
                return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "rodedraad",
                        "team_id": "T0TEAM", "user_id": BOT_USER, "bot_id": "B0BOT", "is_enterprise_install": False}
            if method == "chat.postMessage":
                if payload.get("channel") == NOT_MEMBER:
                    return {"ok": False, "error": "not_in_channel"}
                return {"ok": True, "channel": payload.get("channel"), "ts": f"{time.time():.6f}",
                        "message": {"text": payload.get("text", "")}}
            return {"ok": True}

        @api.post("/hooks/{rest:path}")
        async def hook(rest: str, request: Request):
            payload = self._payload(await request.body(), request.headers.get("content-type", ""))
            self._record("response_url", request, payload)
            return "ok"

        self.app = api

    @staticmethod
    def _payload(raw: bytes, content_type: str) -> dict:
        if "json" in content_type:
            return json.loads(raw or b"{}")
        return dict(parse_qsl(raw.decode()))

    def _record(self, method: str, request: Request, payload: dict) -> None:
        with self._lock:
            self.calls.append({"method": method, "authorization": request.headers.get("authorization", ""),
                               "payload": payload})

    def posts(self, **match) -> list[dict]:
        """chat.postMessage payloads whose fields equal `match`."""
        with self._lock:
            return [c["payload"] for c in self.calls if c["method"] == "chat.postMessage"
                    and all(c["payload"].get(k) == v for k, v in match.items())]

    def wait_for(self, method: str = "chat.postMessage", timeout: float = 60.0, **match) -> dict:
        """The first call of `method` whose payload matches, polling until `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for c in self.calls:
                    if c["method"] == method and all(c["payload"].get(k) == v for k, v in match.items()):
                        return c
            time.sleep(0.02)
        raise AssertionError(f"no {method} call matching {match} within {timeout} s; calls: "
                             f"{[(c['method'], c['payload'].get('channel')) for c in self.calls]}")


@pytest.fixture(scope="module")
def slack_api():
    standin = SlackAPIStandIn()
    with LiveServer(standin.app) as srv:
        standin.url = srv.url
        yield standin


@pytest.fixture(scope="module")
def bot_server(corpus_settings, parts, slack_api):
    from rodedraad.app import create_app

    settings = corpus_settings.model_copy(update={
        "slack_bot_token": BOT_TOKEN, "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": f"{slack_api.url}/api/", "public_url": PUBLIC_URL})
    with LiveServer(create_app(settings, parts=parts)) as srv:
        yield srv


@pytest.fixture(scope="module")
def expected(answerer):
    """What the library answers to QUESTION; the bot must post this answer."""
    a = answerer.answer(QUESTION)
    assert not a.abstained and a.citations, "the test question must be answerable from the corpus"
    return a


# -- signing and payloads, as Slack does them --------------------------------------------------------

def signed_headers(body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None,
                   content_type: str = "application/json", **extra: str) -> dict:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)", **extra}


def event_body(event: dict, event_id: str | None = None) -> bytes:
    return json.dumps({
        "token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "team_id": "T0TEAM", "api_app_id": "A0APP", "event": event,
        "type": "event_callback", "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": "T0TEAM", "user_id": BOT_USER, "is_bot": True,
                            "is_enterprise_install": False}],
        "is_ext_shared_channel": False, "event_context": "4-eyJldCI6ImFwcF9tZW50aW9uIn0",
    }).encode()


def new_ts() -> str:
    return f"{time.time():.6f}{uuid.uuid4().int % 10}"


def mention(text: str, channel: str = "C0CHANNEL", ts: str | None = None, thread_ts: str | None = None) -> dict:
    ts = ts or new_ts()
    event = {"type": "app_mention", "user": "U0ASKER", "text": f"<@{BOT_USER}> {text}", "ts": ts,
             "channel": channel, "event_ts": ts, "client_msg_id": str(uuid.uuid4())}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def direct_message(text: str, channel: str = "D0DIRECT", **extra) -> dict:
    ts = new_ts()
    return {"type": "message", "channel_type": "im", "user": "U0ASKER", "text": text, "ts": ts, "channel": channel,
            "event_ts": ts, **extra}


def post(server, body: bytes, headers: dict) -> httpx.Response:
    return httpx.post(f"{server.url}/slack/events", content=body, headers=headers, timeout=30)


def barrier(server, api: SlackAPIStandIn) -> None:
    """A good question answered end to end: whatever the server was going to do with earlier requests,
    it has had the time to do it (a poll with a deadline, not a fixed sleep)."""
    ev = mention(QUESTION, channel="C0BARRIER")
    r = post(server, body := event_body(ev), signed_headers(body))
    assert r.status_code == 200
    api.wait_for(channel="C0BARRIER", thread_ts=ev["ts"])


def links(blocks: list[dict]) -> list[str]:
    text = json.dumps(blocks)
    return re.findall(r"\?passage=([^|\"]+)\|", text)


# -- the Events API ----------------------------------------------------------------------------------

def test_url_verification_challenge(bot_server):
    body = json.dumps({"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"}).encode()
    r = post(bot_server, body, signed_headers(body))
    assert r.status_code == 200
    assert r.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    forged = post(bot_server, body, signed_headers(body, secret="not-the-secret"))
    assert forged.status_code == 401 and "challenge" not in forged.text


def test_mention_is_acknowledged_then_answered_in_thread(bot_server, slack_api, expected):
    ev = mention(QUESTION, channel="C0MENTION")
    body = event_body(ev)
    started = time.monotonic()
    r = post(bot_server, body, signed_headers(body))
    assert r.status_code == 200 and time.monotonic() - started < 3.0

    call = slack_api.wait_for(channel="C0MENTION")
    assert call["authorization"] == f"Bearer {BOT_TOKEN}"
    msg = call["payload"]
    assert msg["thread_ts"] == ev["ts"]
    blocks = msg["blocks"]
    assert 0 < len(blocks) <= 50
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert sections and all(len(s) <= 3000 for s in sections)
    answer_text = "\n\n".join(sections)
    assert f"<@{BOT_USER}>" not in answer_text
    first_sentence = re.sub(r"\s*\[\d+\].*$", "", expected.text.split("\n")[0]).strip()  # markers become links
    assert first_sentence and first_sentence in answer_text
    # every [n] in the answer links to the passage it cites, on our web page
    for c in expected.citations:
        assert f"<{PUBLIC_URL}/?passage={c.passage.chunk_id}|[{c.n}]>" in answer_text
    # one context line per source: report, year and printed page, linking to the passage
    context = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    for c in expected.citations:
        line = next(t for t in context if t.startswith(f"*[{c.n}]*"))
        assert f"{PUBLIC_URL}/?passage={c.passage.chunk_id}|" in line
        assert str(c.passage.year) in line and f"p. {c.passage.page_label}" in line
    assert links([b for b in blocks if b["type"] == "context"]) == [c.passage.chunk_id for c in expected.citations]
    assert msg["text"]  # the notification text beside the blocks


def test_mention_inside_a_thread_answers_in_that_thread(bot_server, slack_api):
    parent = new_ts()
    ev = mention(QUESTION, channel="C0THREAD", thread_ts=parent)
    r = post(bot_server, body := event_body(ev), signed_headers(body))
    assert r.status_code == 200
    assert slack_api.wait_for(channel="C0THREAD")["payload"]["thread_ts"] == parent


def test_direct_message_is_answered_and_bot_messages_are_not(bot_server, slack_api, expected):
    ev = direct_message(QUESTION, channel="D0DIRECT")
    r = post(bot_server, body := event_body(ev), signed_headers(body))
    assert r.status_code == 200
    msg = slack_api.wait_for(channel="D0DIRECT")["payload"]
    assert msg["thread_ts"] == ev["ts"]
    assert [c.passage.chunk_id for c in expected.citations] == links(
        [b for b in msg["blocks"] if b["type"] == "context"])

    ignored = [direct_message("een bericht van een andere bot", channel="D0OTHERBOT", bot_id="B0OTHER"),
               direct_message("bewerkt", channel="D0EDITED", subtype="message_changed")]
    for ev in ignored:
        r = post(bot_server, body := event_body(ev), signed_headers(body))
        assert r.status_code == 200
    barrier(bot_server, slack_api)
    assert not slack_api.posts(channel="D0OTHERBOT") and not slack_api.posts(channel="D0EDITED")


def test_forged_tampered_and_replayed_requests_are_refused(bot_server, slack_api):
    # forged: signed with another secret
    body = event_body(mention(QUESTION, channel="C0FORGED"))
    r = post(bot_server, body, signed_headers(body, secret="a-guessed-secret"))
    assert r.status_code == 401 and r.json() == {"error": "invalid request"}

    # tampered: a correctly signed body, altered on the way
    signed = event_body(mention(QUESTION, channel="C0SIGNED"))
    tampered = signed.replace(b"C0SIGNED", b"C0TAMPER")
    r = post(bot_server, tampered, signed_headers(signed))
    assert r.status_code == 401

    # replayed: a genuine signature from ten minutes ago (outside Slack's 5-minute window)
    body = event_body(mention(QUESTION, channel="C0REPLAY"))
    r = post(bot_server, body, signed_headers(body, timestamp=int(time.time()) - 600))
    assert r.status_code == 401

    # unsigned
    body = event_body(mention(QUESTION, channel="C0UNSIGNED"))
    r = post(bot_server, body, {"Content-Type": "application/json"})
    assert r.status_code == 401

    barrier(bot_server, slack_api)
    for channel in ("C0FORGED", "C0SIGNED", "C0TAMPER", "C0REPLAY", "C0UNSIGNED"):
        assert not slack_api.posts(channel=channel), channel


def test_retried_event_is_answered_exactly_once(bot_server, slack_api):
    ev = mention(QUESTION, channel="C0RETRY")
    event_id = "Ev0RETRY" + uuid.uuid4().hex[:8].upper()
    body = event_body(ev, event_id=event_id)
    assert post(bot_server, body, signed_headers(body)).status_code == 200
    # Slack re-signs each delivery and says which retry it is
    for n, reason in ((1, "http_timeout"), (2, "http_timeout")):
        r = post(bot_server, body, signed_headers(body, **{"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": reason}))
        assert r.status_code == 200
        assert r.headers.get("x-slack-no-retry") == "1"
    slack_api.wait_for(channel="C0RETRY", thread_ts=ev["ts"])
    barrier(bot_server, slack_api)
    assert len(slack_api.posts(channel="C0RETRY")) == 1


def test_retry_of_an_event_never_received_is_answered(bot_server, slack_api):
    """The first delivery was lost (e.g. during a restart): the retry is the only copy."""
    ev = mention(QUESTION, channel="C0LOSTFIRST")
    body = event_body(ev)
    r = post(bot_server, body, signed_headers(body, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}))
    assert r.status_code == 200
    slack_api.wait_for(channel="C0LOSTFIRST", thread_ts=ev["ts"])
    barrier(bot_server, slack_api)
    assert len(slack_api.posts(channel="C0LOSTFIRST")) == 1


# -- the slash command -------------------------------------------------------------------------------

def command_body(text: str, channel: str, slack_api) -> bytes:
    return urlencode({
        "token": "gIkuvaNzQIHg97ATvDxqgjtO", "team_id": "T0TEAM", "team_domain": "kwaliteitsnetwerk",
        "channel_id": channel, "channel_name": "leren-van-calamiteiten", "user_id": "U0ASKER", "user_name": "anne",
        "command": "/rodedraad", "text": text, "api_app_id": "A0APP", "is_enterprise_install": "false",
        "response_url": f"{slack_api.url}/hooks/commands/T0TEAM/{uuid.uuid4().hex[:10]}/secret",
        "trigger_id": f"{int(time.time())}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}",
    }).encode()


def test_slash_command_acks_at_once_then_posts_the_answer(bot_server, slack_api, expected):
    body = command_body(QUESTION, "C0COMMAND", slack_api)
    started = time.monotonic()
    r = post(bot_server, body, signed_headers(body, content_type="application/x-www-form-urlencoded"))
    elapsed = time.monotonic() - started
    assert r.status_code == 200 and elapsed < 3.0
    ack = r.json()
    assert ack["response_type"] == "ephemeral" and QUESTION in ack["text"]

    call = slack_api.wait_for(channel="C0COMMAND")
    assert call["authorization"] == f"Bearer {BOT_TOKEN}"
    blocks = call["payload"]["blocks"]
    assert len(blocks) <= 50
    assert QUESTION in blocks[0]["elements"][0]["text"] and "<@U0ASKER>" in blocks[0]["elements"][0]["text"]
    assert links([b for b in blocks if b["type"] == "context"]) == [c.passage.chunk_id for c in expected.citations]


def test_slash_command_outside_the_bots_channels_answers_via_response_url(bot_server, slack_api, expected):
    body = command_body(QUESTION, NOT_MEMBER, slack_api)
    r = post(bot_server, body, signed_headers(body, content_type="application/x-www-form-urlencoded"))
    assert r.status_code == 200
    hook = slack_api.wait_for("response_url", response_type="in_channel")
    assert links([b for b in hook["payload"]["blocks"] if b["type"] == "context"]) == \
        [c.passage.chunk_id for c in expected.citations]


def test_empty_slash_command_gets_help_and_no_post(bot_server, slack_api):
    body = command_body("   ", "C0EMPTYCMD", slack_api)
    r = post(bot_server, body, signed_headers(body, content_type="application/x-www-form-urlencoded"))
    assert r.status_code == 200 and "/rodedraad" in r.text  # plain text: Slack shows it only to the asker
    barrier(bot_server, slack_api)
    assert not slack_api.posts(channel="C0EMPTYCMD")


def test_forged_slash_command_is_refused(bot_server, slack_api):
    body = command_body(QUESTION, "C0FORGEDCMD", slack_api)
    r = post(bot_server, body, signed_headers(body, secret="wrong", content_type="application/x-www-form-urlencoded"))
    assert r.status_code == 401
    barrier(bot_server, slack_api)
    assert not slack_api.posts(channel="C0FORGEDCMD")


# -- rendering and helpers ---------------------------------------------------------------------------

def _passage(i: int) -> Passage:
    return Passage(chunk_id=f"chunk{i:03d}", doc_id=f"doc{i}", title=f"Rapport <{i}> & co " + "lang " * 60,
                   text="…", page=i + 2, page_label=str(i), year=2015 + i % 8)


def test_blocks_stay_within_slack_limits_for_a_very_long_answer():
    citations = tuple(Citation(n=i, passage=_passage(i), quote=("Een heel lang citaat. " * 80).strip())
                      for i in range(1, 31))
    sentences = [f"Zin {j} met details & <tekens> over opschalen en regie [{j % 30 + 1}]." for j in range(3000)]
    text = "Dit zeggen de rapporten:\n\n" + " ".join(sentences) + "\n\n" + "x" * 9000
    answer = Answer(question="q", text=text, citations=citations, abstained=False, mode="extractive")
    msg = slack_message(answer, PUBLIC_URL, question="q " * 2000, asked_by="U1")

    blocks = msg["blocks"]
    assert len(blocks) <= slack_blocks.SLACK_MAX_BLOCKS
    assert len(msg["text"]) <= slack_blocks.SLACK_FALLBACK_LIMIT
    for b in blocks:
        if b["type"] == "section":
            t = b["text"]["text"]
            assert 0 < len(t) <= 3000
            assert t.count("<") == t.count(">"), "a link was cut in half"
        if b["type"] == "context":
            assert 1 <= len(b["elements"]) <= 10
            assert all(0 < len(e["text"]) <= 3000 for e in b["elements"])
    flat = json.dumps(blocks)
    assert "ingekort" in flat                       # the answer was cut, and says so
    assert "Rapport <1>" not in flat and "&lt;1&gt; &amp; co" in flat  # titles are escaped
    assert links([b for b in blocks if b["type"] == "context"]) == [f"chunk{i:03d}" for i in range(1, 21)]


def test_short_answer_keeps_everything():
    citations = (Citation(n=1, passage=_passage(1), quote="Het opschalen verliep traag."),)
    answer = Answer(question="q", text="Dit zeggen de rapporten: het opschalen verliep traag [1].",
                    citations=citations, abstained=False, mode="extractive")
    blocks = slack_message(answer, PUBLIC_URL + "/")["blocks"]
    assert blocks[0]["text"]["text"] == \
        f"Dit zeggen de rapporten: het opschalen verliep traag <{PUBLIC_URL}/?passage=chunk001|[1]>."
    assert "ingekort" not in json.dumps(blocks)


def test_abstention_lists_the_nearest_reports():
    answer = Answer(question="q", text="Dat staat niet in de rapporten die ik ken.", citations=(), abstained=True,
                    mode="extractive", nearest=(_passage(3), _passage(4)))
    blocks = slack_message(answer, PUBLIC_URL)["blocks"]
    assert links(blocks) == ["chunk003", "chunk004"]


def test_split_text_respects_the_limit():
    pieces = split_text("kort\n\n" + "woord " * 2000 + "\n\n" + "z" * 7001, 3000)
    assert all(0 < len(p) <= 3000 for p in pieces)
    assert "".join(pieces).replace(" ", "").replace("\n", "") == \
        ("kort" + "woord" * 2000 + "z" * 7001)


def test_bot_mention_is_stripped():
    assert clean_slack_text(f"<@{BOT_USER}> wat ging er mis bij &lt;opschalen&gt; &amp; regie?") == \
        "wat ging er mis bij <opschalen> & regie?"
    assert clean_slack_text("<@U0BOT|rodedraad>   zie <https://x.nl/a|dit rapport>") == "zie dit rapport"


def test_seen_keys_expire_and_stay_bounded():
    now = [0.0]
    seen = SeenKeys(ttl=10, max_items=3, clock=lambda: now[0])
    assert seen.add("a") and not seen.add("a")
    now[0] = 11
    assert seen.add("a")  # expired, so new again
    for k in "bcde":
        seen.add(k)
    assert len(seen) == 3 and "a" not in seen and "e" in seen


# -- hardening (issue #13) ---------------------------------------------------------------------------

@pytest.mark.parametrize("body, headers", [
    (b"{not json", {"Content-Type": "application/json"}),
    (b"payload=%7Bnot", {"Content-Type": "application/x-www-form-urlencoded"}),
    (b"{}", {"Content-Type": "application/json", "X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"}),
], ids=["unsigned bad json", "unsigned bad form payload", "timestamp abc"])
def test_unsigned_garbage_is_401_before_anything_is_parsed(bot_server, body, headers, caplog):
    r = post(bot_server, body, headers)
    assert r.status_code == 401 and r.json() == {"error": "invalid request"}
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("body, content_type", [
    (b"{not json", "application/json"),
    (b"[1, 2]", "application/json"),
    (b"payload=%7Bnot", "application/x-www-form-urlencoded"),
    (b"\xff\xfe", "application/json"),
], ids=["bad json", "json not an object", "bad form payload", "not utf-8"])
def test_signed_garbage_is_400(bot_server, body, content_type):
    r = post(bot_server, body, signed_headers(body, content_type=content_type))
    assert r.status_code == 400 and r.json()["error"]


def test_notification_text_is_escaped_like_the_blocks():
    hostile = "Zie <!channel> <!here> <http://evil.example|de officiele site van de IGJ> <@U0BOSS> & meer"
    answer = Answer(question="q", text=f"Dit zeggen de rapporten:\n\n{hostile} [1]", abstained=False,
                    mode="extractive", citations=(Citation(n=1, passage=_passage(1), quote=hostile),))
    msg = slack_message(answer, PUBLIC_URL)
    for text in [msg["text"]] + [b["text"]["text"] for b in msg["blocks"] if b["type"] == "section"]:
        for live in ("<!channel>", "<!here>", "<http://evil.example", "<@U0BOSS>"):
            assert live not in text, (live, text)
        assert "&lt;!channel&gt;" in text and "&amp; meer" in text
        assert "“Zie" in text  # the document's words read as a quote


def test_a_long_signed_mention_is_shortened_and_answered_quickly(bot_server, slack_api):
    ev = mention("opschalen regie " * 1900, channel="C0LONGMENTION")  # about 30,000 characters
    body = event_body(ev)
    started = time.monotonic()
    assert post(bot_server, body, signed_headers(body)).status_code == 200
    slack_api.wait_for(channel="C0LONGMENTION", timeout=60)
    elapsed = time.monotonic() - started
    print(f"30,000-character mention answered in {elapsed * 1000:.0f} ms")
    assert elapsed <= 3.0  # generous (the goal is 1 s): the box is shared with other jobs
