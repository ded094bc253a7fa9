"""Ingestion throughput against the embedder's own throughput, OCR throughput, and the cost of an
unchanged re-run.

    python benchmarks/ingest.py [--extra /path/to/shared/corpus-extra] [--limit-files N] [--scan-pages N]
        [--embedding-url http://gpu-box:8080 --embedding-model intfloat/multilingual-e5-small]

Prints pages/s and chunks/s for the shipped corpus plus corpus-extra (plus a made-up scan: N pages
of the shipped Nivel report rendered to a 300 dpi image-only PDF, so OCR is measured even when no
page of corpus-extra needs it), pages/s for text pages and OCR'd pages separately, the share of
time spent in OCR, every failed file with its reason, the embedder alone on the same chunks in
the same run (on the passages, and separately on the window vectors written beside them), their
ratio (goal ≥ 0.85), and the time to re-ingest the unchanged corpus in-process
and as a fresh `rodedraad ingest` process (goal ≤ 3 s).

Text pages/s is text pages over the ingest time outside OCR (parsing, chunking, embedding and
writing of every page); OCR pages/s is OCR'd pages over the time in OCR (rendering and Tesseract).

With --embedding-url the run embeds through that OpenAI-compatible server (retriever.remote_embedder),
and the same files are then ingested once more with the bundled model into a fresh index, so
the two throughputs are printed side by side (--no-bundled leaves that second ingest out).
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
from retriever.units import windows as unit_windows  # noqa: E402
from rodedraad.assemble import open_glossary, open_index, open_themes  # noqa: E402
from rodedraad.settings import Settings  # noqa: E402


def make_scan(path: Path, pages: int) -> Path:
    """An image-only PDF of the first `pages` text pages of the Nivel report, at 300 dpi."""
    import pypdfium2 as pdfium
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    path.parent.mkdir(parents=True, exist_ok=True)
    doc = pdfium.PdfDocument(ROOT / "corpus" / "nivel-eshpm-2019-sectorbreed-leren-van-calamiteiten.pdf")
    c = canvas.Canvas(str(path))
    for i in range(4, 4 + pages):
        img = doc[i % len(doc)].render(scale=300 / 72, grayscale=True).to_pil()
        size = (img.width * 72 / 300, img.height * 72 / 300)
        c.setPageSize(size)
        c.drawImage(ImageReader(img), 0, 0, *size)
        c.showPage()
    c.save()
    return path


def interleaved(files: list[Path]) -> list[Path]:
    """The files with their folders taken in turn: the first of each folder, then the second, …"""
    folders: dict[Path, list[Path]] = {}
    for f in files:
        folders.setdefault(f.parent, []).append(f)
    columns = list(folders.values())
    return [col[i] for i in range(max(map(len, columns), default=0)) for col in columns if i < len(col)]


def file_progress(total: int, started: float):
    """A callback for ingest(on_file=...) that prints one line per finished file, so that a run
    stopped half-way still says how far it got and at what speed."""
    state = {"n": 0, "pages": 0, "ocr_pages": 0, "ocr_seconds": 0.0}

    def show(outcome) -> None:
        state["n"] += 1
        state["pages"] += outcome.pages
        state["ocr_pages"] += outcome.ocr_pages
        state["ocr_seconds"] += outcome.ocr_seconds
        elapsed = time.perf_counter() - started
        extra = f" ({outcome.reason})" if outcome.reason else ""
        ocr = f", {outcome.ocr_pages} OCR'd in {outcome.ocr_seconds:.0f} s" if outcome.ocr_pages else ""
        print(f"[{state['n']}/{total} {elapsed:6.0f} s] {outcome.status}: {Path(outcome.path).name}: "
              f"{outcome.pages} pages, {outcome.chunks} chunks{ocr}{extra} | so far {state['pages']} pages, "
              f"{state['ocr_pages']} OCR'd, {state['ocr_seconds']:.0f} s in OCR", flush=True)

    return show


def print_ingest_figures(report, t_ingest: float) -> None:
    """Failures, notes, total pages/s and chunks/s, and text and OCR'd pages separately."""
    pages = sum(f.pages for f in report.files)
    chunks = report.chunks_added
    ocr_pages = sum(f.ocr_pages for f in report.files)
    t_ocr = sum(f.ocr_seconds for f in report.files)
    print(f"failed: {len(report.failed)} of {len(report.files)} files", flush=True)
    for f in report.failed:
        print(f"  failed: {Path(f.path).name}: {f.reason}")
    for f in report.files:
        if f.status != "failed" and f.reason:
            print(f"  note: {Path(f.path).name}: {f.reason}")
    print(f"ingest: {pages} pages, {chunks} chunks in {t_ingest:.1f} s (total) -> {pages / t_ingest:.1f} pages/s, "
          f"{chunks / t_ingest:.1f} chunks/s")
    text_pages, t_text = pages - ocr_pages, t_ingest - t_ocr
    print(f"text pages: {text_pages} in {t_text:.1f} s -> {text_pages / max(t_text, 1e-9):.1f} pages/s")
    print(f"OCR'd pages: {ocr_pages} in {t_ocr:.1f} s -> "
          + (f"{ocr_pages / t_ocr:.2f} pages/s ({t_ocr / ocr_pages:.1f} s/page)" if ocr_pages else "-")
          + f"; share of ingest time in OCR: {t_ocr / t_ingest:.0%}", flush=True)


def print_embedder_alone(index, t_ingest: float) -> None:
    """The embedder alone on the chunks just written (passages, then their windows), and its ratio to ingest."""
    texts = [doc for _id, doc, _meta in index.scan()]
    t0 = time.perf_counter()
    for i in range(0, len(texts), 64):
        index.embedder.embed_documents(texts[i:i + 64])
    t_passages = time.perf_counter() - t0
    # the window vectors ingestion writes beside each passage (two consecutive sentences each)
    window_texts = [w for t in texts for w in unit_windows(t)]
    t0 = time.perf_counter()
    for i in range(0, len(window_texts), 64):
        index.embedder.embed_documents(window_texts[i:i + 64])
    t_windows = time.perf_counter() - t0
    print(f"embedder alone on the same {len(texts)} chunks: {t_passages:.1f} s -> {len(texts) / t_passages:.1f} chunks/s;"
          f" on their {len(window_texts)} windows: {t_windows:.1f} s (what window vectors add: "
          f"{t_windows / max(t_passages, 1e-9):.0%} of the passages' embedding time)")
    print(f"ratio ingest/embedder throughput (passages and windows): {(t_passages + t_windows) / t_ingest:.2f} "
          "(goal >= 0.85)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--extra", type=Path, default=ROOT.parent / "shared" / "corpus-extra")
    ap.add_argument("--limit-files", type=int, default=0, help="Use only the first N files of corpus-extra.")
    ap.add_argument("--per-folder", type=int, default=0,
                    help="Use only the first N files of each folder of corpus-extra (a bounded run over every kind).")
    ap.add_argument("--interleave", action="store_true",
                    help="Take the folders' files in turn (one of each folder, then the next), the made-up scan "
                         "first, so that a run stopped early has covered every kind of file.")
    ap.add_argument("--scan-pages", type=int, default=4,
                    help="Also ingest an image-only PDF of this many pages of the Nivel report (0: none).")
    ap.add_argument("--ocr", choices=["auto", "off"], default="auto")
    ap.add_argument("--embedding-url", default="", help="Embed through this OpenAI-compatible /v1/embeddings server.")
    ap.add_argument("--embedding-model", default="intfloat/multilingual-e5-small",
                    help="Model name the server serves (with --embedding-url).")
    ap.add_argument("--embedding-api-key", default="")
    ap.add_argument("--embedding-batch-size", type=int, default=32)
    ap.add_argument("--no-bundled", action="store_true",
                    help="With --embedding-url: do not also time the bundled model on the same files.")
    ap.add_argument("--no-embedder-alone", action="store_true",
                    help="Do not embed the chunks again on their own (halves a long run; no ingest/embedder ratio).")
    args = ap.parse_args()
    server = {"embedding_url": args.embedding_url, "embedding_server_model": args.embedding_model,
              "embedding_api_key": args.embedding_api_key,
              "embedding_batch_size": args.embedding_batch_size} if args.embedding_url else {}

    files, _ = discover([ROOT / "corpus", args.extra])
    if args.limit_files:
        files = files[: 2 + args.limit_files]
    if args.per_folder:
        extra, taken = args.extra.resolve(), {}
        kept = []
        for f in files:
            folder = f.relative_to(extra).parts[0] if f.is_relative_to(extra) else "corpus"
            taken[folder] = taken.get(folder, 0) + 1
            if folder == "corpus" or taken[folder] <= args.per_folder:
                kept.append(f)
        files = kept
    if args.interleave:
        files = interleaved(files)
    data_dir = Path(tempfile.mkdtemp(prefix="rodedraad-bench-"))
    if args.scan_pages:
        scan = make_scan(data_dir / "scans" / "nivel-gescand.pdf", args.scan_pages)
        files = [scan, *files] if args.interleave else [*files, scan]
    settings = Settings(_env_file=None, data_dir=data_dir, **server)
    index = open_index(settings, create=True)
    glossary = open_glossary(settings)
    themes = open_themes(settings, glossary)
    index.embedder.embed_query("warm-up")  # model load is not ingestion

    print(f"embedder: {index.embedder.name}" + (f" at {args.embedding_url}" if server else ""), flush=True)
    print(f"files: {len(files)}: {' '.join(sorted({Path(f).parent.name for f in files}))}", flush=True)
    t0 = time.perf_counter()
    progress = file_progress(len(files), t0)
    report = ingest(files, index=index, normalise=glossary.normaliser, tag_themes=themes,
                    chunk_tokens=settings.chunk_tokens, progress=False, ocr=args.ocr,
                    ocr_boxes_dir=data_dir / "ocr", on_file=progress)
    t_ingest = time.perf_counter() - t0
    print_ingest_figures(report, t_ingest)
    if args.no_embedder_alone:
        print("embedder alone: not run (--no-embedder-alone)", flush=True)
    else:
        print_embedder_alone(index, t_ingest)

    t0 = time.perf_counter()
    again = ingest(files, index=index, normalise=glossary.normaliser, tag_themes=themes,
                   chunk_tokens=settings.chunk_tokens, progress=False, ocr=args.ocr,
                   ocr_boxes_dir=data_dir / "ocr")
    t_again = time.perf_counter() - t0

    # this checkout's code, also when the venv's `rodedraad` was installed from another one
    env = {**os.environ, "RODEDRAAD_DATA_DIR": str(data_dir),
           **{f"RODEDRAAD_{k.upper()}": str(v) for k, v in server.items()},
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    cli = [str(Path(sys.executable).parent / "rodedraad"), "ingest", "--quiet", *map(str, files)]
    t0 = time.perf_counter()
    subprocess.run(cli, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    t_cli = time.perf_counter() - t0

    bundled = None
    if server and not args.no_bundled:  # the same files with the bundled model, in a fresh index
        b_settings = Settings(_env_file=None, data_dir=data_dir / "bundled")
        b_index = open_index(b_settings, create=True)
        b_index.embedder.embed_query("warm-up")
        t0 = time.perf_counter()
        b_report = ingest(files, index=b_index, normalise=glossary.normaliser, tag_themes=themes,
                          chunk_tokens=settings.chunk_tokens, progress=False, ocr=args.ocr)
        bundled = (b_report.chunks_added, time.perf_counter() - t0)
        same = sorted(c for c, _d, _m in b_index.scan()) == sorted(c for c, _d, _m in index.scan())
        bundled += (same,)

    print(f"re-ingest unchanged: {t_again:.2f} s in-process ({again.count('unchanged')} unchanged, "
          f"{again.chunks_added} embedded); {t_cli:.2f} s as a new `rodedraad ingest` process (goal <= 3 s)",
          flush=True)
    if bundled:
        b_chunks, b_seconds, same = bundled
        print(f"server vs bundled model on the same files: {report.chunks_added / t_ingest:.1f} vs {b_chunks / b_seconds:.1f} "
              f"chunks/s ({t_ingest:.1f} s vs {b_seconds:.1f} s, x{b_seconds / t_ingest:.2f}); "
              f"same passage ids: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
