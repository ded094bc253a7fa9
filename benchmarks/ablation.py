"""Retrieval ablation on the dev set's folds, with the plain-fusion baseline in the same run.

    python benchmarks/ablation.py [--data-dir DIR] [--cv 5]

Ingests the shipped corpus into DIR (default: a temporary folder) with the product's pipeline,
then scores on `tune` and `check`:
- the product (`SearchWeights()` and the shipped glossary);
- each component taken out: window vectors, keyword search, the glossary;
- the plain baseline of ../shared/eval/README.md: BM25 (Snowball Dutch) + e5 over 1000-character
  chunks, reciprocal-rank fusion with k=60, no glossary, no windows;
- the weights chosen by k-fold cross-validation over `tune` (each fold's choice is made on the
  other folds), so the shipped weights can be checked against what the tune fold alone supports.
Follow-ups are condensed as the chat condenses them. Prints markdown tables.
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from ingest.pipeline import ingest, read_pages  # noqa: E402
from retriever.evaluate import evaluate, load_items, select_fold  # noqa: E402
from retriever.fuse import reciprocal_rank_fusion  # noqa: E402
from retriever.glossary import Glossary  # noqa: E402
import bm25s  # noqa: E402

from retriever.keyword import KeywordIndex  # noqa: E402
from retriever.question import QuestionAnalyser  # noqa: E402
from retriever.search import HybridRetriever, SearchWeights  # noqa: E402
from rodedraad.assemble import open_answerer, open_glossary, open_index, open_searcher, open_themes, terms_of  # noqa: E402
from rodedraad.settings import Settings  # noqa: E402

FIGURES = ("r@5", "r@10", "r@4000c", "rr")


def row(name: str, folds: dict[str, dict]) -> str:
    cells = []
    for fold in ("tune", "check"):
        agg = folds[fold]
        cells += [f"{agg['all'][k]:.3f}" for k in FIGURES] + [f"{agg.get('lang=en', {}).get('r@5', 0):.3f}"]
    return f"| {name} | " + " | ".join(cells) + " |"


def header() -> str:
    cols = [f"{f} {k}" for f in ("tune", "check") for k in (*FIGURES, "en r@5")]
    return "| variant | " + " | ".join(cols).replace(" rr", " MRR") + " |\n|---" + "|---" * len(cols) + "|"


def score(items: list[dict], retrieve, condense) -> dict[str, dict]:
    return {fold: evaluate(select_fold(items, fold), retrieve, condense=condense)[0] for fold in ("tune", "check")}


class PlainFusion:
    """The baseline: 1000-character chunks of each page, BM25 + e5, RRF k=60, no glossary."""

    def __init__(self, corpus: Path, embedder, normaliser) -> None:
        self.texts: list[str] = []
        for path in sorted(corpus.glob("*.pdf")):
            pages, _running, _meta = read_pages(path)
            for page in pages:
                text = " ".join(page.text.split())
                self.texts += [text[i:i + 1000] for i in range(0, len(text), 1000) if text[i:i + 1000].strip()]
        self.embedder = embedder
        self.normaliser = normaliser
        self.vectors = np.asarray(embedder.embed_documents(self.texts), dtype=np.float32)
        self.keyword = bm25s.BM25(k1=1.2, b=0.75)  # plain in-memory BM25 over the same stems
        self.keyword.index([KeywordIndex.analyse(normaliser.tokens(t)) or ["∅"] for t in self.texts],
                           show_progress=False)

    def search(self, question: str, k: int) -> list[str]:
        q = np.asarray(self.embedder.embed_query(question), dtype=np.float32)
        dense = self.vectors @ q
        stems = [s for s in KeywordIndex.analyse(self.normaliser.tokens(question)) if s in self.keyword.vocab_dict]
        words = self.keyword.get_scores(stems) if stems else np.zeros(len(self.texts))  # bm25s fails on none
        rankings = {"dense": list(np.argsort(-dense)[:100]),
                    "keyword": [i for i in np.argsort(-words)[:100] if words[i] > 0]}
        fused = reciprocal_rank_fusion(rankings, {"dense": 1.0, "keyword": 1.0}, 60.0)
        return [self.texts[i] for i in sorted(fused, key=fused.get, reverse=True)[:k]]


def cross_validate(items: list[dict], searcher: HybridRetriever, condense, grid: list[SearchWeights],
                   folds: int, seed: int = 7) -> tuple[list[SearchWeights], float]:
    """k-fold over `tune`: per fold, the grid point with the best mean of r@5 and MRR on the other
    folds; returns the choices and the mean held-out r@5."""
    tune = [i for i in select_fold(items, "tune") if i.get("quotes")]
    random.Random(seed).shuffle(tune)
    parts = [tune[i::folds] for i in range(folds)]
    per_point: list[list[dict]] = []
    for weights in grid:
        searcher.weights = weights
        per_point.append([evaluate(p, lambda q, k: [h.passage.text for h in searcher.search(q, k=k)],
                                   condense=condense)[1] for p in parts])
    chosen, held_out = [], []
    for f in range(folds):
        def train_score(rows_per_part):
            rows = [r for i, rs in enumerate(rows_per_part) if i != f for r in rs]
            return np.mean([r["r@5"] for r in rows]) + np.mean([r["rr"] for r in rows])
        best = max(range(len(grid)), key=lambda g: train_score(per_point[g]))
        chosen.append(grid[best])
        held_out += [r["r@5"] for r in per_point[best][f]]
    return chosen, float(np.mean(held_out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, help="index folder (default: a temporary one, ingested anew)")
    ap.add_argument("--cv", type=int, default=5, help="folds for cross-validation over tune (0: skip)")
    args = ap.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="rodedraad-ablation-"))
    settings = Settings(_env_file=None, data_dir=data_dir)
    started = time.perf_counter()
    index = open_index(settings, create=True)
    glossary = open_glossary(settings)
    ingest([ROOT / "corpus"], index=index, normalise=glossary.normaliser, tag_themes=open_themes(settings, glossary),
           chunk_tokens=settings.chunk_tokens, progress=False)
    searcher = open_searcher(settings, index=open_index(settings, embedder=index.embedder))
    answerer = open_answerer(settings, searcher, terms_of(searcher))
    condense = answerer.condense_history
    items = load_items(SHARED / "eval" / "dev.jsonl")
    print(f"index ready in {time.perf_counter() - started:.0f} s ({data_dir})", file=sys.stderr)

    def product(q: str, k: int) -> list[str]:
        return [h.passage.text for h in searcher.search(q, k=k)]

    shipped = SearchWeights()
    variants = [
        ("Rode Draad (shipped weights)", shipped, glossary),
        ("− window vectors (passage vector only)", dataclasses.replace(shipped, passage=1.0, window=0.0), glossary),
        ("− passage vector (windows only)", dataclasses.replace(shipped, passage=0.0, window=1.0), glossary),
        ("− keyword search (dense only)", dataclasses.replace(shipped, keyword=0.0), glossary),
        ("− shared concept weight (each variant weighs in full)", dataclasses.replace(shipped, expansion_share=0.0),
         glossary),
        ("− glossary", shipped, Glossary([], {}, {})),
    ]
    print(header())
    for name, weights, gloss in variants:
        searcher.weights, searcher.glossary = weights, gloss
        searcher.questions = QuestionAnalyser(gloss, searcher.derived)  # questions are analysed with it
        searcher.clear_query_cache()
        print(row(name, score(items, product, condense)), flush=True)
    searcher.weights, searcher.glossary = shipped, glossary
    searcher.questions = QuestionAnalyser(glossary, searcher.derived)
    searcher.clear_query_cache()
    plain = PlainFusion(ROOT / "corpus", index.embedder, Glossary([], {}, {}).normaliser)
    print(row("plain BM25 + e5, RRF k=60, 1000-character chunks, no glossary", score(items, plain.search, condense)))
    if args.cv:
        grid = [dataclasses.replace(shipped, passage=1 - w, window=w, keyword=kw)
                for w, kw in itertools.product((0.3, 0.5, 0.7), (0.15, 0.2, 0.3, 0.4))]
        chosen, held_out = cross_validate(items, searcher, condense, grid, args.cv)
        picks = ", ".join(f"window {c.window:.1f} / keyword {c.keyword:.2f}" for c in chosen)
        print(f"\n{args.cv}-fold cross-validation over tune: held-out r@5 {held_out:.3f}; choices per fold: {picks}")
        searcher.weights = shipped
    print(f"\ntotal {time.perf_counter() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
