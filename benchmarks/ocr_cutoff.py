"""Measure the OCR confidence cut-off: how often a word Tesseract reads is right, per confidence band.

    python benchmarks/ocr_cutoff.py [--every 4] [--woo-pages 8] [--extra ../shared/corpus-extra]

Three sets of pages:
- clean: pages of the shipped reports rendered at 300 dpi (a good scan);
- scan-like: the same pages at 150 dpi with skew, blur, noise and JPEG, as office scanners and fax
  copies give. A word is right when it lines up with the page's text layer (difflib over
  normalised words);
- woo: real scans from corpus-extra/vws-woo-documenten (stamps, logos, redaction bars, signatures).
  They have no trustworthy text layer, so a word counts as right when it is a known word: in the
  vocabulary of every text layer of the shipped corpus and corpus-extra, or a number or code.
The cut-off is the confidence under which dropping words removes more wrong words than right ones
(argmax over cut-offs of wrong-below minus right-below, all sets together); ingest.ocr.MIN_CONFIDENCE
holds the value measured here (figures in the README).
"""
from __future__ import annotations

import argparse
import io
import sys
import time
from difflib import SequenceMatcher
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.ocr import TesseractEngine  # noqa: E402
from ingest.scan import comparable_words  # noqa: E402


def scan_like(image, dpi: int):
    """A rendered page made to look like a poor office scan (150 dpi), returned at `dpi`."""
    from PIL import Image, ImageFilter

    import numpy as np

    low = image.resize((image.width // 2, image.height // 2), Image.BILINEAR)
    low = low.rotate(0.8, resample=Image.BILINEAR, fillcolor=255).filter(ImageFilter.GaussianBlur(0.8))
    arr = np.asarray(low, dtype=np.float32) + np.random.default_rng(7).normal(0, 28, (low.height, low.width))
    low = Image.fromarray(arr.clip(0, 255).astype("uint8"))
    buf = io.BytesIO()
    low.save(buf, "JPEG", quality=30)
    return Image.open(io.BytesIO(buf.getvalue())).convert("L").resize((image.width, image.height), Image.BILINEAR)


def vocabulary(extra: Path) -> set[str]:
    """Every word of every text layer and text file we have (the shipped corpus and corpus-extra)."""
    from pypdf import PdfReader

    words: set[str] = set()
    for path in sorted((ROOT / "corpus").glob("*.pdf")) + sorted(extra.rglob("*.pdf")) + sorted(extra.rglob("*.md")):
        if "vws-woo" in str(path):
            continue  # their layers are OCR output themselves
        try:
            texts = ([p.extract_text() or "" for p in PdfReader(path).pages] if path.suffix == ".pdf"
                     else [path.read_text(encoding="utf-8", errors="replace")])
        except Exception:  # noqa: BLE001
            continue
        for t in texts:
            words.update(comparable_words(t))
    return words


def known_words(engine: TesseractEngine, image, vocab: set[str]) -> list[tuple[float, bool]]:
    """(confidence, known) for every word read from a real scan."""
    out = []
    for w in engine.read_image(image):
        toks = comparable_words(w.text)
        if not toks or not w.kept:
            continue
        known = all(t in vocab or any(ch.isdigit() for ch in t) for t in toks)
        out.append((w.confidence, known))
    return out


def judged_words(engine: TesseractEngine, image, reference: str) -> list[tuple[float, bool]]:
    """(confidence, right) for every word the engine read (before the confidence cut)."""
    words = [w for w in engine.read_image(image) if w.text.strip()]
    ocr = [comparable_words(w.text) for w in words]
    flat, owner = [], []
    for i, toks in enumerate(ocr):
        flat += toks
        owner += [i] * len(toks)
    ref = comparable_words(reference)
    right = [False] * len(words)
    for block in SequenceMatcher(None, flat, ref, autojunk=False).get_matching_blocks():
        for j in range(block.a, block.a + block.size):
            right[owner[j]] = True
    return [(w.confidence, right[i]) for i, w in enumerate(words) if ocr[i] and w.kept]


def main() -> None:
    import pypdfium2 as pdfium
    from pypdf import PdfReader

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=int, default=4, help="Use every Nth page of the Nivel report.")
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--woo-pages", type=int, default=8, help="Real scans to read from corpus-extra (0: none).")
    ap.add_argument("--extra", type=Path, default=ROOT.parent / "shared" / "corpus-extra")
    args = ap.parse_args()
    engine = TesseractEngine(min_confidence=0, dpi=args.dpi)
    sources = [(ROOT / "corpus" / "nivel-eshpm-2019-sectorbreed-leren-van-calamiteiten.pdf", None),
               (ROOT / "corpus" / "toezine-2016-onderzoek-naar-calamiteiten.pdf", [0])]
    judged: dict[str, list[tuple[float, bool]]] = {"clean": [], "scan-like": [], "woo": []}
    started = time.perf_counter()
    pages = 0
    for path, only in sources:
        doc, reader = pdfium.PdfDocument(path), PdfReader(path)
        numbers = only if only is not None else list(range(1, len(doc), args.every))
        for i in numbers:
            reference = reader.pages[i].extract_text() or ""
            if len(reference.split()) < 30:
                continue
            image = doc[i].render(scale=args.dpi / 72, grayscale=True).to_pil()
            judged["clean"] += judged_words(engine, image, reference)
            judged["scan-like"] += judged_words(engine, scan_like(image, args.dpi), reference)
            pages += 1
            print(f"  {path.name[:30]} p{i + 1}", file=sys.stderr)
    woo = 0
    if args.woo_pages:
        vocab = vocabulary(args.extra)
        for path in sorted((args.extra / "vws-woo-documenten").glob("*.pdf")):
            doc = pdfium.PdfDocument(path)
            for i in range(len(doc)):
                if woo >= args.woo_pages:
                    break
                image = doc[i].render(scale=args.dpi / 72, grayscale=True).to_pil()
                judged["woo"] += known_words(engine, image, vocab)
                woo += 1
                print(f"  {path.name[:30]} p{i + 1}", file=sys.stderr)
    print(f"{pages} report pages x 2 variants + {woo} Woo scan pages, "
          f"{sum(map(len, judged.values()))} words, {time.perf_counter() - started:.0f} s")
    allw = [x for v in judged.values() for x in v]
    share = lambda xs: f"{sum(xs) / len(xs):.2f} ({len(xs)})" if xs else "-"  # noqa: E731
    print("confidence   right: clean        scan-like    woo (known)  all")
    for lo in range(0, 100, 10):
        band = {k: [r for c, r in v if lo <= c < lo + 10 or (lo == 90 and c == 100)] for k, v in judged.items()}
        print(f"{lo:3d}-{lo + 10:<3d}  " + "  ".join(f"{share(band[k]):>12}" for k in judged)
              + f"  {share([r for k in judged for r in band[k]]):>12}")
    best, best_gain = 0, 0
    for t in range(0, 100, 5):
        below = [r for c, r in allw if c < t]
        gain = sum(1 for r in below if not r) - sum(1 for r in below if r)
        if gain > best_gain:
            best, best_gain = t, gain
    for t in sorted({30, 40, 50, 60, 70, best}):
        for name, words in judged.items():
            kept = [r for c, r in words if c >= t]
            print(f"cut-off {t:2d} [{name:9}]: keeps {len(kept)}/{len(words)} words, "
                  f"{sum(kept) / max(1, len(kept)):.3f} of kept are right, "
                  f"drops {sum(1 for c, r in words if c < t and r)} right and "
                  f"{sum(1 for c, r in words if c < t and not r)} wrong")
    print(f"measured cut-off: {best} (dropping below it removes {best_gain} more wrong words than right ones)")


if __name__ == "__main__":
    main()
