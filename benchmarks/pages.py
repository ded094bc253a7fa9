"""Latency of GET /api/passages/{chunk_id}/page.png, first drawn and from the disk cache, against a real
server, and the cache's size on disk for the whole shipped corpus.

    python benchmarks/pages.py                        # ingests the shipped corpus into a temp dir first
    python benchmarks/pages.py --data-dir .rodedraad  # an index that is there already (its page cache is emptied)
    python benchmarks/pages.py --passages 20 --rounds 5 --json

Starts `uvicorn --factory rodedraad.app:create_app` on a free loopback port, empties the page cache,
then for `--passages` passages of the shipped Nivel report (spread over its pages) times the first
request (drawn: pdfium text layer, match, render, highlight, PNG) and `--rounds` repeats (cached),
one request at a time at the client. Goals: first p95 <= 400 ms, cached p95 <= 20 ms. Then it asks
for every passage of the corpus at the default width and reports the cache folder's size.
`--check` exits 1 when a goal is missed.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import ROOT, Child, folder_mb, free_port, percentile, rodedraad_env  # noqa: E402

NIVEL = "nivel-eshpm-2019-sectorbreed-leren-van-calamiteiten"
GOAL_FIRST_MS, GOAL_CACHED_MS = 400.0, 20.0


def ingest(env: dict) -> None:
    print("ingesting the shipped corpus …", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-c", "from rodedraad.cli import main; main()", "ingest", "--quiet"],
                   env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def all_passages(data_dir: Path) -> list[tuple[str, str, int]]:
    """(chunk id, doc id, page) of every passage in the index, in reading order."""
    from rodedraad.assemble import open_searcher, passages_of
    from rodedraad.settings import Settings

    searcher = open_searcher(Settings(_env_file=None, data_dir=data_dir))
    return [(p.chunk_id, p.doc_id, p.page) for p in passages_of(searcher).all()]


def spread(passages: list[tuple[str, str, int]], n: int) -> list[str]:
    """n passages of the Nivel report, one per page first, then the rest in order."""
    nivel = [p for p in passages if p[1] == NIVEL]
    first_per_page = {page: cid for cid, _doc, page in reversed(nivel)}
    chosen = list(first_per_page.values())[:n]
    chosen += [cid for cid, _d, _p in nivel if cid not in chosen][: n - len(chosen)]
    return chosen


def timed_get(client: httpx.Client, url: str, kind: str = "image/png") -> float:
    t0 = time.perf_counter()
    r = client.get(url)
    ms = (time.perf_counter() - t0) * 1000
    if r.status_code != 200 or r.headers.get("content-type") != kind:
        raise RuntimeError(f"{url}: {r.status_code} {r.text[:200]}")
    return ms


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, help="an index that is there already (default: a fresh temp dir)")
    ap.add_argument("--passages", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5, help="cached requests per passage")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    args = ap.parse_args()

    tmp = None if args.data_dir else Path(tempfile.mkdtemp(prefix="rodedraad-pages-"))
    data_dir = args.data_dir or tmp
    # No rate limit: the benchmark sends a few hundred requests a minute.
    env = rodedraad_env(data_dir, PYTHONPATH=str(ROOT), RODEDRAAD_RATE_LIMIT_PER_MINUTE="0")
    try:
        if tmp:
            ingest(env)
        passages = all_passages(data_dir)
        chosen = spread(passages, args.passages)
        shutil.rmtree(data_dir / "pages", ignore_errors=True)
        port = free_port()
        with Child([sys.executable, "-m", "uvicorn", "--factory", "rodedraad.app:create_app", "--host", "127.0.0.1",
                    "--port", str(port), "--log-level", "warning"], env=env, cwd=ROOT, log=data_dir / "bench-pages.log") as srv, \
                httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            srv.wait_http(f"http://127.0.0.1:{port}/health")
            client.get("/api/documents").raise_for_status()  # the first request builds the passage table
            first = [timed_get(client, f"/api/passages/{cid}/page.png") for cid in chosen]
            cached = [timed_get(client, f"/api/passages/{cid}/page.png") for _ in range(args.rounds) for cid in chosen]
            # For comparison: the passage's JSON (GET /api/passages/{id}), through the same server and layers.
            json_ms = [timed_get(client, f"/api/passages/{cid}", kind="application/json")
                       for _ in range(args.rounds) for cid in chosen]
            t0 = time.perf_counter()
            for cid, _doc, _page in passages:
                timed_get(client, f"/api/passages/{cid}/page.png")
            whole_s = time.perf_counter() - t0
        pngs = list((data_dir / "pages").rglob("*.png"))
        result = {
            "passages_timed": len(chosen), "cached_requests": len(cached),
            "first_ms": {"p50": round(percentile(first, 50), 1), "p95": round(percentile(first, 95), 1),
                         "max": round(max(first), 1)},
            "cached_ms": {"p50": round(percentile(cached, 50), 1), "p95": round(percentile(cached, 95), 1),
                          "max": round(max(cached), 1)},
            "passage_json_ms": {"p50": round(percentile(json_ms, 50), 1), "p95": round(percentile(json_ms, 95), 1)},
            "corpus_passages": len(passages), "corpus_pages_cached": len(pngs),
            "cache_mb": round(folder_mb(data_dir / "pages"), 2),
            "mean_png_kb": round(sum(p.stat().st_size for p in pngs) / max(1, len(pngs)) / 1024, 1),
            "whole_corpus_s": round(whole_s, 1),
        }
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    met = result["first_ms"]["p95"] <= GOAL_FIRST_MS and result["cached_ms"]["p95"] <= GOAL_CACHED_MS
    if args.json:
        print(json.dumps({**result, "goals_met": met}, indent=2))
    else:
        f, c = result["first_ms"], result["cached_ms"]
        print(f"first render ({result['passages_timed']} passages): p50 {f['p50']} ms, p95 {f['p95']} ms, max {f['max']} ms "
              f"(goal p95 <= {GOAL_FIRST_MS:.0f})")
        print(f"cached ({result['cached_requests']} requests): p50 {c['p50']} ms, p95 {c['p95']} ms, max {c['max']} ms "
              f"(goal p95 <= {GOAL_CACHED_MS:.0f})")
        j = result["passage_json_ms"]
        print(f"for comparison, GET /api/passages/{{id}} (JSON): p50 {j['p50']} ms, p95 {j['p95']} ms")
        print(f"whole corpus: {result['corpus_passages']} passages, {result['corpus_pages_cached']} page images, "
              f"{result['cache_mb']} MB on disk ({result['mean_png_kb']} KB each), drawn in {result['whole_corpus_s']} s")
    return 0 if met or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
