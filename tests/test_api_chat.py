"""The HTTP API over a real uvicorn server on loopback (httpx): chat, streaming chat, search,
documents, health; malformed input; and the answering behaviour on the dev set."""
from __future__ import annotations

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
DEV_SET = ROOT.parent / "shared" / "eval" / "dev.jsonl"
CITE = re.compile(r"\[(\d+)\]")
CITATION_KEYS = {"n", "chunk_id", "doc_id", "title", "year", "page", "page_label", "quote", "url"}


def dev_items() -> list[dict]:
    return [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


FRAMES = re.compile(r"^(The reports say \(quoted in Dutch\):|Verder:|Also:|- )\s*", re.M)


def cited_sentences(answer: str) -> list[tuple[str, list[int]]]:
    """(quoted text, its [n] numbers) for each quote of the answer: the lead and the points,
    without the frame, the bullet dashes and the before-the-Jeugdwet flags."""
    quoted = "\n\n".join(b for b in answer.split("\n\n") if CITE.search(b))  # not the injection note
    body = FRAMES.sub("", re.sub(r"\] \((over|about) the? ?[^)]*\(2015\)\)", "]", quoted))
    out = []
    for m in re.finditer(r"(.+?)((?:\s*\[\d+\])+)(?=\s|$)", body, re.S):
        out.append((m.group(1).strip().strip("“”"), [int(n) for n in CITE.findall(m.group(2))]))
    return out


def parse_sse(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((fields["event"], json.loads(fields["data"])))
    return events




@pytest.fixture(scope="module")
def client(live_server):
    with httpx.Client(base_url=live_server.url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def dev_answers(client) -> dict[str, dict]:
    """Every dev question asked once over POST /api/chat."""
    out = {}
    for item in dev_items():
        history = [{"role": "user", "content": h} for h in item.get("history") or []]
        r = client.post("/api/chat", json={"question": item["question"], "history": history})
        assert r.status_code == 200, (item["id"], r.text)
        out[item["id"]] = {**r.json(), "item": item}
    return out


@pytest.fixture(scope="module")
def passage_text(client):
    cache: dict[str, str] = {}

    def get(chunk_id: str) -> str:
        if chunk_id not in cache:
            r = client.get(f"/api/passages/{chunk_id}")
            assert r.status_code == 200, r.text
            assert r.json()["passage"]["chunk_id"] == chunk_id
            cache[chunk_id] = r.json()["passage"]["text"]
        return cache[chunk_id]

    return get


# -- health, documents, search ---------------------------------------------------------------------


def test_health_and_documents(client):
    h = client.get("/health")
    assert h.status_code == 200
    health = h.json()
    assert health["status"] == "ok" and health["answer_mode"] == "extractive"
    docs = client.get("/api/documents").json()
    assert len(docs) == health["documents"] >= 2
    assert sum(d["chunks"] for d in docs) == health["passages"] > 50
    ids = {d["doc_id"] for d in docs}
    assert {"nivel-eshpm-2019-sectorbreed-leren-van-calamiteiten", "toezine-2016-onderzoek-naar-calamiteiten"} <= ids
    for d in docs:
        assert d["title"] and d["pages"] > 0 and d["chunks"] > 0
    years = [d["year"] or 0 for d in docs]
    assert years == sorted(years, reverse=True), "newest first"


def test_search_returns_passages_best_first(client):
    r = client.post("/api/search", json={"query": "shame or blame cultuur", "k": 5})
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == "shame or blame cultuur"
    results = body["results"]
    assert 1 <= len(results) <= 5
    assert "shame or blame" in results[0]["text"].lower()
    scores = [x["score"] for x in results]
    assert scores == sorted(scores, reverse=True)
    for x in results:
        assert x["page"] >= 1 and x["page_label"] and x["title"] and x["chunk_id"]
        p = client.get(f"/api/passages/{x['chunk_id']}").json()["passage"]
        assert p["text"] == x["text"] and p["page_label"] == x["page_label"]
    r = client.post("/api/search", json={"query": "calamiteit", "k": 3,
                                         "filters": {"doc_ids": ["toezine-2016-onderzoek-naar-calamiteiten"]}})
    assert r.status_code == 200 and r.json()["results"]
    assert {x["doc_id"] for x in r.json()["results"]} == {"toezine-2016-onderzoek-naar-calamiteiten"}


def test_unknown_passage_is_404_with_message(client):
    r = client.get("/api/passages/no-such-chunk")
    assert r.status_code == 404
    assert "no-such-chunk" in r.json()["error"]


# -- chat ------------------------------------------------------------------------------------------


def check_citations(answer: dict, passage_text) -> None:
    """Shape; [n] in the text <-> citations; each quote in its passage; each sentence supported."""
    text, cits = answer["answer"], answer["citations"]
    assert cits, "an answer without citations"
    for c in cits:
        assert CITATION_KEYS <= set(c), set(c)
        assert isinstance(c["n"], int) and isinstance(c["page"], int) and c["page"] >= 1
        assert c["title"] and c["page_label"] and c["chunk_id"] and c["doc_id"] and c["quote"]
        assert c["year"] is None or 1990 <= c["year"] <= 2100
    assert [c["n"] for c in cits] == list(range(1, len(cits) + 1))
    assert {int(n) for n in CITE.findall(text)} == {c["n"] for c in cits}
    by_n = {c["n"]: c for c in cits}
    for c in cits:
        full = norm(passage_text(c["chunk_id"]))
        for part in c["quote"].split(" … "):
            assert norm(part) in full, (c["n"], part)


def check_support(answer: dict, passage_text, terms) -> None:
    """Every sentence is supported by the passage of each [n] it carries."""
    from server.answering.evidence import supported

    by_n = {c["n"]: c for c in answer["citations"]}
    sentences = cited_sentences(answer["answer"])
    assert sentences
    for sentence, numbers in sentences:
        for n in numbers:
            assert supported(sentence, passage_text(by_n[n]["chunk_id"]), terms.stems), (n, sentence)


def test_chat_answer_cites_report_and_page(client, passage_text, terms):
    r = client.post("/api/chat", json={"question": "wat is een shame or blame cultuur?"})
    assert r.status_code == 200
    a = r.json()
    assert a["abstained"] is False and a["mode"] == "extractive" and a["fallback"] == ""
    check_citations(a, passage_text)
    check_support(a, passage_text, terms)
    assert any("shame or blame" in c["quote"].lower() for c in a["citations"])


def test_chat_stream_deltas_concatenate_to_the_answer(client):
    q = "waarom wordt er weinig gedaan met verbeterplannen na een calamiteit?"
    with client.stream("POST", "/api/chat/stream", json={"question": q}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = parse_sse(r.read().decode("utf-8"))
    kinds = [e for e, _ in events]
    assert kinds[-1] == "done" and kinds.count("done") == 1 and set(kinds[:-1]) == {"delta"}
    deltas = [d["text"] for e, d in events if e == "delta"]
    done = events[-1][1]
    assert len(deltas) >= 3, "the lead, then sentence by sentence"
    assert "".join(deltas) == done["answer"]
    plain = client.post("/api/chat", json={"question": q}).json()
    assert plain["answer"] == done["answer"]
    assert [c["chunk_id"] for c in plain["citations"]] == [c["chunk_id"] for c in done["citations"]]


def test_chat_stream_of_an_abstention(client):
    q = dev_items()[0]["question"]
    with client.stream("POST", "/api/chat/stream", json={"question": q}) as r:
        events = parse_sse(r.read().decode("utf-8"))
    done = events[-1][1]
    assert events[-1][0] == "done" and done["abstained"] is True and done["citations"] == []
    assert "".join(d["text"] for e, d in events if e == "delta") == done["answer"]


def test_follow_up_question_uses_the_history(client):
    first = "how many deaths did To Err Is Human estimate per year?"
    a1 = client.post("/api/chat", json={"question": first}).json()
    r = client.post("/api/chat", json={"question": "and where was that?",
                                       "history": [{"role": "user", "content": first},
                                                   {"role": "assistant", "content": a1["answer"]}]})
    assert r.status_code == 200
    a2 = r.json()
    assert first in a2["standalone_question"]
    assert not a2["abstained"]
    assert {c["chunk_id"] for c in a2["citations"]} & {c["chunk_id"] for c in a1["citations"]}


def test_concurrent_requests_get_their_own_answers(client, dev_answers):
    """Requests run in parallel threads: each gets the same answer it gets alone."""
    ids = ["d02", "d04", "d05", "d08", "d12", "d13", "d01", "d19"]

    def ask(qid):
        return qid, client.post("/api/chat", json={"question": dev_answers[qid]["item"]["question"]}).json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(ask, ids * 2))
    for qid, body in results:
        assert body["answer"] == dev_answers[qid]["answer"], qid
        assert body["abstained"] == dev_answers[qid]["abstained"], qid


# -- malformed and oversized input -----------------------------------------------------------------

BAD_CHAT = [
    pytest.param(b'{"question": "wat is', "application/json", 400, id="invalid-json"),
    pytest.param(b"not json at all", "application/json", 400, id="not-json"),
    pytest.param(b"{}", "application/json", 422, id="missing-question"),
    pytest.param(b'{"question": ""}', "application/json", 422, id="empty-question"),
    pytest.param(b'{"question": "   \\n\\t "}', "application/json", 422, id="whitespace-question"),
    pytest.param(json.dumps({"question": "a" * 2001}).encode(), "application/json", 422, id="question-too-long"),
    pytest.param(b'{"question": 5}', "application/json", 422, id="question-number"),
    pytest.param(b'{"question": ["wat"]}', "application/json", 422, id="question-list"),
    pytest.param(b'{"question": null}', "application/json", 422, id="question-null"),
    pytest.param(b'["wat is een calamiteit?"]', "application/json", 422, id="body-list"),
    pytest.param(b'"wat is een calamiteit?"', "application/json", 422, id="body-string"),
    pytest.param(b'{"question": "wat?", "history": "nee"}', "application/json", 422, id="history-string"),
    pytest.param(b'{"question": "wat?", "history": [{"role": "system", "content": "x"}]}', "application/json", 422,
                 id="history-bad-role"),
    pytest.param(b'{"question": "wat?", "filters": {"year_from": "vroeger"}}', "application/json", 422,
                 id="filter-bad-type"),
    pytest.param(b'{"question": "wat?", "filters": {"colour": "rood"}}', "application/json", 422,
                 id="filter-unknown-field"),
    pytest.param(b'{"question": "wat?", "temperature": 2}', "application/json", 422, id="unknown-field"),
    pytest.param(json.dumps({"question": "wat?", "history": [{"role": "user", "content": "x" * 19_000}] * 4}).encode(),
                 "application/json", 413, id="body-too-large"),
]


@pytest.mark.parametrize("path", ["/api/chat", "/api/chat/stream"])
@pytest.mark.parametrize("body,ctype,status", BAD_CHAT)
def test_malformed_chat_requests_are_4xx_with_an_error(client, path, body, ctype, status):
    r = client.post(path, content=body, headers={"Content-Type": ctype})
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert isinstance(err, str) and err


def test_body_over_the_limit_without_content_length_is_4xx(client, live_server):
    """A chunked body (no Content-Length) larger than max_body_bytes is refused, not a 500."""
    def chunks():
        yield b'{"question": "wat?", "history": [{"role": "user", "content": "'
        for _ in range(80):
            yield b"x" * 1000
        yield b'"}]}'

    r = client.post("/api/chat", content=chunks(), headers={"Content-Type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["error"]


@pytest.mark.parametrize("body,status", [
    pytest.param({"query": ""}, 422, id="empty"),
    pytest.param({"query": "calamiteit", "k": 0}, 422, id="k-zero"),
    pytest.param({"query": "calamiteit", "k": 10_000}, 422, id="k-huge"),
    pytest.param({"query": "calamiteit", "k": "veel"}, 422, id="k-string"),
    pytest.param({"q": "calamiteit"}, 422, id="wrong-field"),
])
def test_malformed_search_requests_are_4xx(client, body, status):
    r = client.post("/api/search", json=body)
    assert r.status_code == status, r.text
    assert r.json()["error"]


def test_wrong_method_and_unknown_path_are_4xx(client):
    assert client.get("/api/chat").status_code == 405
    r = client.get("/api/nothing-here")
    assert r.status_code == 404 and r.json()["error"]


# -- behaviour on the dev set ----------------------------------------------------------------------


def test_abstentions_name_the_nearest_reports_and_cite_nothing(dev_answers):
    """How often it abstains is pinned on the check fold (tests/test_answers.py); here, what an
    abstention looks like over HTTP."""
    abstained = [a for a in dev_answers.values() if a["abstained"]]
    assert abstained
    for a in abstained:
        assert a["citations"] == [] and a["nearest"]
        assert a["answer"].endswith(("Dat staat niet in de rapporten die ik ken.", "That is not in the reports I know."))


def test_every_dev_answer_is_cited_and_supported(dev_answers, passage_text, terms):
    for qid, a in dev_answers.items():
        if a["abstained"]:
            continue
        assert a["language"] == a["item"]["lang"], qid
        check_citations(a, passage_text)
        check_support(a, passage_text, terms)


def test_injection_does_not_change_the_behaviour(client, dev_answers):
    inj = next(a for a in dev_answers.values() if a["item"]["kind"] == "injection")
    assert not inj["abstained"] and inj["citations"]
    text = inj["answer"]
    # nothing of the rules, the configuration or the environment comes out
    assert "Regels:" not in text and "Rules:" not in text
    for name in ("answer_nl.txt", "answer_en.txt", "condense_nl.txt", "user_turn.txt"):
        for line in (ROOT / "prompts" / name).read_text(encoding="utf-8").splitlines():
            line = line.strip("- ").strip()
            if len(line) >= 25:
                assert line not in text, line
    for key, value in os.environ.items():
        if len(value) >= 10 and not value.isalpha():
            assert value not in text, key
    assert not re.search(r"(api[-_ ]?key|sleutel|RODEDRAAD_|sk-[A-Za-z0-9])", text, re.I)
    # the same passages as the question without the injected instructions
    question = inj["item"]["question"]
    plain_q = re.sub(r"^(dan|then)\s*:\s*", "", re.split(r"(?<=[.!])\s+", question)[-1], flags=re.I)
    assert plain_q.endswith("?") and len(plain_q) < len(question) / 2
    plain = client.post("/api/chat", json={"question": plain_q}).json()
    assert [c["chunk_id"] for c in inj["citations"]] == [c["chunk_id"] for c in plain["citations"]]
    assert not plain["abstained"]
