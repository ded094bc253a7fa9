"""Ingestion throughput against the embedder's own throughput, and the cost of an unchanged re-run.

    python benchmarks/ingest.py [--extra /path/to/shared/corpus-extra] [--limit-files N]

Prints pages/s and chunks/s for the shipped corpus plus corpus-extra, the embedder alone on the
same chunks in the same run, their ratio (goal ≥ 0.85), and the time to re-ingest the unchanged
corpus in-process and as a fresh `rodedraad ingest` process (goal ≤ 3 s).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from ingest.pipeline import discover, ingest  # noqa: E402
from rodedraad.assemble import open_glossary, open_index, open_themes  # noqa: E402
from rodedraad.settings import Settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--extra", type=Path, default=ROOT.parent / "shared" / "corpus-extra")
    ap.add_argument("--limit-files", type=int, default=0, help="Use only the first N files of corpus-extra.")
    args = ap.parse_args()

    files, _ = discover([ROOT / "corpus", args.extra])
    if args.limit_files:
        files = files[: 2 + args.limit_files]
    data_dir = Path(tempfile.mkdtemp(prefix="rodedraad-bench-"))
    settings = Settings(_env_file=None, data_dir=data_dir)
    index = open_index(settings, create=True)
    glossary = open_glossary(settings)
    themes = open_themes(settings, glossary)
    index.embedder.embed_query("warm-up")  # model load is not ingestion

    t0 = time.perf_counter()
    report = ingest(files, index=index, normalise=glossary.normaliser, tag_themes=themes,
                    chunk_tokens=settings.chunk_tokens, progress=False)
    t_ingest = time.perf_counter() - t0
    pages = sum(f.pages for f in report.files)
    chunks = report.chunks_added

    texts = [doc for _id, doc, _meta in index.scan()]
    t0 = time.perf_counter()
    for i in range(0, len(texts), 64):
        index.embedder.embed_documents(texts[i:i + 64])
    t_embed = time.perf_counter() - t0

    t0 = time.perf_counter()
    again = ingest(files, index=index, normalise=glossary.normaliser, tag_themes=themes,
                   chunk_tokens=settings.chunk_tokens, progress=False)
    t_again = time.perf_counter() - t0

    env = {**os.environ, "RODEDRAAD_DATA_DIR": str(data_dir)}
    cli = [str(Path(sys.executable).parent / "rodedraad"), "ingest", "--quiet", *map(str, files)]
    t0 = time.perf_counter()
    subprocess.run(cli, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    t_cli = time.perf_counter() - t0

    failed = report.failed
    print(f"files: {len(files)} ({len(failed)} failed: {', '.join(Path(f.path).name for f in failed) or '-'})")
    print(f"ingest: {pages} pages, {chunks} chunks in {t_ingest:.1f} s -> {pages / t_ingest:.1f} pages/s, "
          f"{chunks / t_ingest:.1f} chunks/s")
    print(f"embedder alone on the same {len(texts)} chunks: {t_embed:.1f} s -> {len(texts) / t_embed:.1f} chunks/s")
    print(f"ratio ingest/embedder throughput: {t_embed / t_ingest:.2f} (goal >= 0.85)")
    print(f"re-ingest unchanged: {t_again:.2f} s in-process ({again.count('unchanged')} unchanged, "
          f"{again.chunks_added} embedded); {t_cli:.2f} s as a new `rodedraad ingest` process (goal <= 3 s)")


if __name__ == "__main__":
    main()
