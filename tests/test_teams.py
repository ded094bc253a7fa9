"""Microsoft Teams outgoing webhook: requests signed exactly as Teams signs them (HMAC-SHA256 over the
raw body, keyed with the base64-decoded security token), sent to a real uvicorn server."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid

import httpx
import pytest

from retriever.types import Answer, Citation, Passage
from server.answering.answerer import Answerer
from server.bots import teams
from server.bots.incoming import clean_teams_text
from server.bots.teams_card import adaptive_card
from server.document_text import card_text, mark_quotes

from .conftest import LiveServer

# what Teams shows once, when the outgoing webhook is created
TEAMS_SECRET = base64.b64encode(b"rode-draad-test-security-token-32b").decode()
PUBLIC_URL = "https://rodedraad.example.org"
QUESTION = "wat ging er mis bij opschalen?"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"


def teams_signature(body: bytes, secret: str = TEAMS_SECRET) -> str:
    return "HMAC " + base64.b64encode(hmac.new(base64.b64decode(secret), body, hashlib.sha256).digest()).decode()


def activity(text: str) -> bytes:
    """An outgoing-webhook activity as Teams posts it."""
    return json.dumps({
        "type": "message", "id": str(int(time.time() * 1000)), "timestamp": "2024-03-01T09:15:02.437Z",
        "localTimestamp": "2024-03-01T10:15:02.437+01:00",
        "serviceUrl": "https://smba.trafficmanager.net/emea/", "channelId": "msteams",
        "from": {"id": "29:1ZsPz9-test", "name": "Anne de Vries", "aadObjectId": str(uuid.uuid4())},
        "conversation": {"isGroup": True, "id": "19:abc@thread.skype;messageid=1709284502437", "name": None,
                         "conversationType": "channel", "tenantId": str(uuid.uuid4())},
        "recipient": None, "textFormat": "plain", "attachmentLayout": None,
        "text": text,
        "attachments": [{"contentType": "text/html", "content": f"<div>{text}</div>"}],
        "entities": [{"type": "clientInfo", "locale": "nl-NL", "country": "NL", "platform": "Web"}],
        "channelData": {"teamsChannelId": "19:abc@thread.skype", "teamsTeamId": "19:team@thread.skype",
                        "channel": {"id": "19:abc@thread.skype"}, "team": {"id": "19:team@thread.skype"},
                        "tenant": {"id": str(uuid.uuid4())}},
        "replyToId": None, "value": None, "locale": "nl-NL",
    }).encode()


def shown(answer) -> str:
    """The answer as the card shows it: its quotes marked as quotes, document links made inert."""
    return card_text(mark_quotes(answer.text, answer.citations))


def send(server, body: bytes, authorization: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if authorization is not None:
        headers["Authorization"] = authorization
    return httpx.post(f"{server.url}/teams/messages", content=body, headers=headers, timeout=30)


def _settings(corpus_settings):
    return corpus_settings.model_copy(update={"teams_secret": TEAMS_SECRET, "public_url": PUBLIC_URL})


@pytest.fixture(scope="module")
def teams_server(corpus_settings, parts):
    from rodedraad.app import create_app

    with LiveServer(create_app(_settings(corpus_settings), parts=parts)) as srv:
        yield srv


@pytest.fixture(scope="module")
def expected(answerer):
    a = answerer.answer(QUESTION)
    assert not a.abstained and a.citations, "the test question must be answerable from the corpus"
    return a


def card_of(r: httpx.Response) -> dict:
    msg = r.json()
    assert msg["type"] == "message"
    [attachment] = msg["attachments"]
    assert attachment["contentType"] == CARD_TYPE
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    return card


def test_signed_message_gets_an_adaptive_card_with_answer_and_sources(teams_server, expected):
    body = activity(f"<at>Rode Draad</at>&nbsp;{QUESTION}\n")
    started = time.monotonic()
    r = send(teams_server, body, teams_signature(body))
    assert r.status_code == 200 and time.monotonic() - started < 5.0
    card = card_of(r)
    texts = [b["text"] for b in card["body"] if b["type"] == "TextBlock"]
    assert texts[0] == shown(expected)        # the mention was stripped: the library's own answer to the question
    assert "<at>" not in json.dumps(card)
    for c in expected.citations:
        line = next(t for t in texts if t.startswith(f"[{c.n}] "))
        assert f"]({PUBLIC_URL}/?passage={c.passage.chunk_id})" in line
        assert str(c.passage.year) in line and f"p. {c.passage.page_label}" in line
    assert all(a["type"] == "Action.OpenUrl" for a in card.get("actions", []))  # the only action webhooks may use


@pytest.mark.parametrize("case", ["wrong secret", "tampered body", "missing header", "bearer scheme",
                                  "garbage signature", "signature of empty body"])
def test_unsigned_or_wrongly_signed_requests_get_401(teams_server, case):
    body = activity(f"<at>Rode Draad</at> {QUESTION}")
    authorization = {
        "wrong secret": teams_signature(body, base64.b64encode(b"another-teams-webhook-token").decode()),
        "tampered body": teams_signature(activity("<at>Rode Draad</at> iets anders")),
        "missing header": None,
        "bearer scheme": "Bearer " + teams_signature(body).split(" ", 1)[1],
        "garbage signature": "HMAC !!!not-base64==",
        "signature of empty body": teams_signature(b""),
    }[case]
    r = send(teams_server, body, authorization)
    assert r.status_code == 401
    assert "attachments" not in r.text


def test_mention_without_a_question_gets_help(teams_server):
    body = activity("<at>Rode Draad</at>")
    r = send(teams_server, body, teams_signature(body))
    assert r.status_code == 200
    msg = r.json()
    assert msg["type"] == "message" and "vraag" in msg["text"] and "attachments" not in msg


def test_malformed_json_with_a_valid_signature_is_400(teams_server):
    body = b'{"type": "message", "text": '
    assert send(teams_server, body, teams_signature(body)).status_code == 400


def test_too_slow_answer_is_replaced_by_a_notice_within_the_deadline(teams_server, monkeypatch):
    monkeypatch.setattr(teams, "ANSWER_TIMEOUT", 0.0)
    body = activity(f"<at>Rode Draad</at> {QUESTION}")
    started = time.monotonic()
    r = send(teams_server, body, teams_signature(body))
    assert r.status_code == 200 and time.monotonic() - started < 5.0
    msg = r.json()
    assert "attachments" not in msg and f"{PUBLIC_URL}/" in msg["text"]


class SlowLLM:
    """An LLM that would blow Teams' 5 seconds; it records whether anyone asked it anything."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def complete(self, system: str, user: str) -> str:
        with self._lock:
            self.calls += 1
        time.sleep(10)
        return ""


def test_teams_uses_the_extractive_answer_even_when_the_app_uses_an_llm(corpus_settings, searcher, terms, answerer,
                                                                         expected):
    from rodedraad.app import create_app
    from rodedraad.assemble import build_parts

    llm = SlowLLM()
    llm_answerer = Answerer(searcher, terms=terms, prompts=answerer.prompts, llm=llm, mode="openai", llm_timeout=20)
    parts = build_parts(corpus_settings, searcher=searcher, answerer=llm_answerer)
    with LiveServer(create_app(_settings(corpus_settings), parts=parts)) as srv:
        body = activity(f"<at>Rode Draad</at> {QUESTION}")
        started = time.monotonic()
        r = send(srv, body, teams_signature(body))
        assert r.status_code == 200 and time.monotonic() - started < 5.0
        card = card_of(r)
    assert card["body"][0]["text"] == shown(expected)
    assert llm.calls == 0


def test_extractive_answerer_is_reused_or_built_once(corpus_settings, searcher, terms, answerer, parts):
    from rodedraad.assemble import build_parts, extractive_answerer

    assert extractive_answerer(answerer) is answerer
    assert parts.extractive_answerer is parts.answerer  # an extractive app answers Teams with its own answerer
    with_llm = Answerer(searcher, terms=terms, prompts=answerer.prompts, llm=SlowLLM(), mode="openai")
    quick = extractive_answerer(with_llm)
    assert quick is not with_llm and quick.llm is None and quick.mode == "extractive"
    assert quick.prompts is answerer.prompts and quick.searcher is searcher
    built = build_parts(corpus_settings, searcher=searcher, answerer=with_llm)
    assert built.answerer.inner is with_llm and built.extractive_answerer.inner.llm is None


def test_verify_is_exactly_the_teams_scheme():
    key = base64.b64decode(TEAMS_SECRET)
    body = b'{"text": "vraag"}'
    assert teams.verify(key, body, teams_signature(body))
    assert teams.sign(key, body) == teams_signature(body)
    assert not teams.verify(key, body + b" ", teams_signature(body))
    assert not teams.verify(key, body, None) and not teams.verify(key, body, "HMAC ")
    # several teams, one token each
    other = base64.b64encode(b"token-of-a-second-team").decode()
    keys = teams.decode_secrets(f"{other}, {TEAMS_SECRET}")
    assert teams.verify(keys, body, teams_signature(body)) and teams.verify(keys, body, teams_signature(body, other))
    assert not teams.verify(keys, body, teams_signature(body, base64.b64encode(b"third").decode()))


def test_bad_teams_secret_is_a_configuration_error(corpus_settings):
    from retriever.errors import ConfigurationError
    from rodedraad.app import create_app

    with pytest.raises(ConfigurationError, match="RODEDRAAD_TEAMS_SECRET"):
        create_app(corpus_settings.model_copy(update={"teams_secret": "not base64 at all!"}))


def test_teams_mention_and_markup_are_stripped():
    assert clean_teams_text("<at>Rode Draad</at>&nbsp;wat ging er mis bij <b>opschalen</b>?\n") == \
        "wat ging er mis bij opschalen?"
    assert clean_teams_text("<div><at>Rode Draad</at> eerste</div><div>tweede</div>") == "eerste tweede"
    assert clean_teams_text("<at id=\"0\">Rode Draad</at> a &amp; b") == "a & b"


def test_card_for_a_very_long_answer_stays_small():
    p = Passage(chunk_id="c1", doc_id="d1", title="Rapport [x]", text="…", page=3, page_label="1", year=2019)
    answer = Answer(question="q", text="lang " * 20_000, citations=(Citation(1, p, "citaat " * 200),),
                    abstained=False, mode="extractive")
    card = adaptive_card(answer, PUBLIC_URL)
    assert len(json.dumps(card)) < 20_000
    assert card["body"][2]["text"] == f"[1] [Rapport (x) (2019), p. 1]({PUBLIC_URL}/?passage=c1)"


def test_document_links_are_never_live_in_the_card():
    hostile = "Volgens [de inspectie](https://evil.example) is er geen risico meer."
    passage = Passage(chunk_id="c1", doc_id="d1", title="Rapport [x](https://evil.example)", text=hostile,
                      page=3, page_label="1", year=2019)
    answer = Answer(question="q", text=f"Dit zeggen de rapporten:\n\n{hostile} [1]", abstained=False,
                    mode="extractive", citations=(Citation(n=1, passage=passage, quote=hostile),))
    card = adaptive_card(answer, PUBLIC_URL)
    texts = [b["text"] for b in card["body"]]
    assert not any("](https://evil.example" in t for t in texts), texts
    assert "“Volgens" in texts[0]  # the document's words read as a quote
    # our own source links stay live
    assert any(f"]({PUBLIC_URL}/?passage=c1)" in t for t in texts)


def test_two_authorization_headers_are_refused(teams_server):
    body = activity(f"<at>Rode Draad</at> {QUESTION}")
    r = httpx.post(f"{teams_server.url}/teams/messages", content=body,
                   headers=[("Content-Type", "application/json"), ("Authorization", teams_signature(body)),
                            ("Authorization", "HMAC forged")], timeout=30)
    assert r.status_code == 400
