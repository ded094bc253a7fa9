"""Texts built to be slow (issue #13, item 1), against the real uvicorn server: each is answered or
refused quickly, and a normal question stays quick while four of them run at once.

The issue's goal is 1 s on an idle box; the test box is shared with other jobs, so the bounds here
are generous (BOUND_S) and the measured figures are printed (`pytest -s`)."""
from __future__ import annotations

import statistics
import threading
import time

import httpx
import pytest

from server.answering.bounds import HISTORY_TURNS, TURN_CHARS, analysis_text, bounded_history
from server.answering.answerer import Turn

BOUND_S = 2.5  # generous: the goal is 1 s, the shared 2-core test box runs other jobs beside us

HOSTILE = {
    "long history": ("/api/chat", {"question": "en toen?",
                                   "history": [{"role": "user", "content": "opschalen regie wachtlijst " * 740}]}),
    "combining accents": ("/api/chat", {"question": "e" + "\u0301" * 1999}),
    "emoji search": ("/api/search", {"query": "😀" * 2000}),
    "mixed emoji search": ("/api/search", {"query": "".join(chr(0x1F600 + i % 80) for i in range(2000))}),
    "many long turns": ("/api/chat", {"question": "en daarna?", "history": [
        {"role": "user" if i % 2 == 0 else "assistant", "content": "opschalen regie " * 1249} for i in range(3)]}),
}


def _timed_post(url: str, body: dict) -> tuple[int, float]:
    started = time.perf_counter()
    r = httpx.post(url, json=body, timeout=60)
    return r.status_code, time.perf_counter() - started


@pytest.mark.parametrize("name", list(HOSTILE))
def test_each_hostile_input_is_answered_quickly(live_server, name):
    path, body = HOSTILE[name]
    _timed_post(f"{live_server.url}{path}", body)  # a first call may load the model's engine
    status, seconds = _timed_post(f"{live_server.url}{path}", body)
    print(f"{name}: {status} in {seconds * 1000:.0f} ms")
    assert status in (200, 400, 413, 422) and seconds <= BOUND_S, (status, seconds)


def test_normal_questions_stay_quick_while_four_hostile_ones_run(live_server):
    stop = threading.Event()
    hostile = [HOSTILE["long history"], HOSTILE["combining accents"], HOSTILE["emoji search"],
               HOSTILE["mixed emoji search"]]

    def attack(path: str, body: dict) -> None:
        while not stop.is_set():
            _timed_post(f"{live_server.url}{path}", body)

    threads = [threading.Thread(target=attack, args=h, daemon=True) for h in hostile]
    for t in threads:
        t.start()
    try:
        # a new question each time, so that the model embeds every one (no query cache)
        times = [_timed_post(f"{live_server.url}/api/chat", {"question": f"wat ging er mis bij opschalen, vraag {i}?"})
                 for i in range(12)]
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert all(status == 200 for status, _ in times)
    seconds = sorted(s for _, s in times)
    p95 = seconds[min(len(seconds) - 1, round(0.95 * (len(seconds) - 1)))]
    print(f"normal question under attack: p50 {statistics.median(seconds) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
    assert p95 <= BOUND_S


def test_analysis_text_bounds_what_analysis_reads():
    assert analysis_text("e" + "\u0301" * 1999) == "e\u0301\u0301"
    assert analysis_text("\ud83d opschalen") == "\ufffd opschalen"
    assert analysis_text("😀" * 2000) == "😀😀😀"
    assert len(analysis_text("woord " * 1000, 100)) <= 100
    history = [Turn("user", "x " * 10_000)] * 40
    kept = bounded_history(history)
    assert len(kept) == HISTORY_TURNS and all(len(t.content) <= TURN_CHARS for t in kept)
    assert all(isinstance(t, Turn) for t in kept)
