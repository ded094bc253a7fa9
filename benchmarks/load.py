"""Load test: concurrent clients asking the dev questions on POST /api/chat of a real server.

    python benchmarks/load.py                           # 50 clients for 60 s, embedded Chroma
    python benchmarks/load.py --chroma server           # the same against a `chroma run` it starts
    python benchmarks/load.py --clients 20 --seconds 20 --workers 2

Starts `rodedraad serve` (extractive answers, rate limit off) on a free loopback port over the shipped
corpus (ingested into --data-dir on first use; later runs reuse it), runs closed-loop clients (each
sends its next question when the last answer arrives, after --think seconds), and prints errors
(goal 0) and latency percentiles (goal p99 < 1 s). Every server it started is stopped at the end.

--questions dev: the 20 dev questions, asked again and again (as many users ask the same suggested
questions): after the first round their vectors come from the server's query cache.
--questions new: every request a question never asked before (built from phrases of the reports),
so the embedding model runs for each one: the worst case.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _servers import BIN, ROOT, Child, chroma_server, free_port, ingest, percentile, rodedraad_env, rss_mb, tree_rss_mb  # noqa: E402

DEV_SET = ROOT.parent / "shared" / "eval" / "dev.jsonl"
FALLBACK_QUESTIONS = ["wat ging er mis bij opschalen?", "wat is een calamiteit?",
                      "hoe leren jeugdhulpinstellingen van calamiteiten?", "welke rol heeft de inspectie?"]


def questions() -> list[str]:
    if DEV_SET.exists():
        return [json.loads(line)["question"] for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    return FALLBACK_QUESTIONS


_TEMPLATES = ["wat zeggen de rapporten over {}?", "wat ging er mis bij {}?", "what do the reports say about {}?",
              "hoe zit het met {}?", "welke lessen over {}?", "is er eerder iets gezegd over {}?"]


def new_questions(count: int, seed: int = 1) -> list[str]:
    """`count` different questions about phrases of the shipped reports (no two alike)."""
    from pypdf import PdfReader

    words: list[str] = []
    for pdf in sorted((ROOT / "corpus").glob("*.pdf")):
        for page in PdfReader(pdf).pages:
            words += [w for w in (page.extract_text() or "").split() if w.isalpha() and len(w) > 2]
    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < count and words:
        start = rng.randrange(max(1, len(words) - 4))
        phrase = " ".join(words[start:start + rng.randint(2, 4)]).lower()
        out.add(rng.choice(_TEMPLATES).format(phrase))
    return sorted(out, key=lambda _: rng.random())


async def client(n: int, url: str, qs: list[str], deadline: float, think: float, out: dict,
                 fresh: list[str] | None = None) -> None:
    rng = random.Random(n)
    if think:  # users do not all press enter at the same moment: spread the first questions
        await asyncio.sleep(rng.uniform(0, 2 * think))
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(60.0)) as http:
        while time.monotonic() < deadline:
            q = fresh.pop() if fresh else rng.choice(qs)
            started = time.perf_counter()
            try:
                r = await http.post("/api/chat", json={"question": q})
                seconds = time.perf_counter() - started
                if r.status_code == 200:
                    out["latencies"].append(seconds)
                    out["abstained"] += bool(r.json().get("abstained"))
                else:
                    out["errors"].append(f"HTTP {r.status_code}: {r.text[:120]}")
            except httpx.HTTPError as e:
                out["errors"].append(f"{type(e).__name__}: {e}")
            if think:
                await asyncio.sleep(rng.uniform(0.5, 1.5) * think)


async def run_load(url: str, clients: int, seconds: float, think: float, kind: str = "dev") -> dict:
    qs = questions()
    # enough never-asked questions for 200 answers/s; the warm-up below uses dev questions only
    fresh = new_questions(int(seconds * 200) + 100) if kind == "new" else None
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:  # warm up every worker a little
        for q in qs[:8]:
            await http.post("/api/chat", json={"question": q})
    out = {"latencies": [], "errors": [], "abstained": 0}
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(*(client(i, url, qs, deadline, think, out, fresh) for i in range(clients)))
    out["wall"] = time.monotonic() - started
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--think", type=float, default=0.0, help="mean pause between a client's questions (s)")
    ap.add_argument("--workers", type=int, help="uvicorn worker processes (default: 1 embedded, 2 server)")
    ap.add_argument("--chroma", choices=["embedded", "server"], default="embedded")
    ap.add_argument("--questions", choices=["dev", "new"], default="dev",
                    help="dev: the dev questions, repeated; new: a never-asked question every request")
    ap.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "rodedraad-bench",
                    help="where the benchmark's index lives (reused between runs)")
    ap.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    args = ap.parse_args()
    args.workers = args.workers or (2 if args.chroma == "server" else 1)
    if args.chroma == "embedded" and args.workers > 1:
        print("note: several workers open one embedded Chroma folder here; in production use a Chroma "
              "server with more than one worker (--chroma server)", file=sys.stderr)

    base = args.data_dir / args.chroma
    base.mkdir(parents=True, exist_ok=True)
    children: list[Child] = []
    try:
        chroma_url = ""
        if args.chroma == "server":
            chroma, chroma_url = chroma_server(base / "chroma-server", base / "chroma.log")
            children.append(chroma)
        env = rodedraad_env(base / "data", chroma_url, RODEDRAAD_RATE_LIMIT_PER_MINUTE="0",
                            RODEDRAAD_ANSWER_MODE="extractive")
        print(f"index: corpus/ in {base} ({args.chroma} Chroma)", flush=True)
        ingest([ROOT / "corpus"], env)
        port = free_port()
        server = Child([str(BIN / "rodedraad"), "serve", "--port", str(port), "--workers", str(args.workers)],
                       env=env, log=base / "serve.log", cwd=ROOT)
        children.append(server)
        url = f"http://127.0.0.1:{port}"
        server.wait_http(f"{url}/health")
        time.sleep(2)  # let every worker finish its start-up
        print(f"server: {url}, {args.workers} worker(s); {args.clients} clients for {args.seconds:.0f} s, "
              f"think {args.think} s, {args.questions} questions", flush=True)
        res = asyncio.run(run_load(url, args.clients, args.seconds, args.think, args.questions))
        lat = res["latencies"]
        figures = {
            "chroma": args.chroma, "workers": args.workers, "clients": args.clients, "seconds": round(res["wall"], 1),
            "think": args.think, "questions": args.questions, "requests": len(lat) + len(res["errors"]), "errors": len(res["errors"]),
            "throughput_rps": round(len(lat) / res["wall"], 1),
            "p50_ms": round(percentile(lat, 50) * 1000), "p95_ms": round(percentile(lat, 95) * 1000),
            "p99_ms": round(percentile(lat, 99) * 1000), "max_ms": round(max(lat, default=float("nan")) * 1000),
            "abstained_share": round(res["abstained"] / max(1, len(lat)), 2),
            "server_rss_mb": round(tree_rss_mb(server.pid)),
            "chroma_rss_mb": round(rss_mb(children[0].pid)) if args.chroma == "server" else None,
        }
        print(f"requests {figures['requests']}  errors {figures['errors']}  throughput {figures['throughput_rps']}/s")
        print(f"latency p50 {figures['p50_ms']} ms  p95 {figures['p95_ms']} ms  p99 {figures['p99_ms']} ms  "
              f"max {figures['max_ms']} ms   (goal: 0 errors, p99 < 1000 ms)")
        print(f"memory: server {figures['server_rss_mb']} MB (all workers)"
              + (f", chroma {figures['chroma_rss_mb']} MB" if figures["chroma_rss_mb"] else ""))
        for e in sorted(set(res["errors"]))[:5]:
            print(f"  error: {e}")
        if args.json:
            print(json.dumps(figures))
        return 0 if not res["errors"] else 1
    finally:
        for child in reversed(children):
            child.stop()


if __name__ == "__main__":
    sys.exit(main())
