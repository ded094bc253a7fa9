"""A PDF page as a PNG, with boxes under a translucent highlight (pypdfium2 + Pillow).

    >>> png = render_png(pdf[4], width=800, boxes=[(72, 700, 300, 712)])
    >>> png.highlight            # (top, bottom) of the highlighted band, as shares of the height

pdfium is not thread-safe: every use of it in this package holds `PDFIUM_LOCK`.
"""
from __future__ import annotations

import ctypes
import io
import threading
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageChops, ImageDraw

from .words import Rect

PDFIUM_LOCK = threading.Lock()
# Part of every cache key: bump when the drawing changes, so old pages are drawn again.
RENDERER_VERSION = f"2-pdfium{pdfium.PDFIUM_INFO.build}"
WIDTHS = (480, 800, 1200, 1600)
DEFAULT_WIDTH = 800
# The colour the web page marks cited words with (`--cite-mark` in server/static/style.css).
HIGHLIGHT_RGB = (0xF9, 0xE1, 0xA8)
# Pixels around each word's box, so the marker covers the ink fully.
_PAD = 1.5
# Colours kept in the PNG: text and highlight need few, and the file is a quarter of full RGB.
_COLOURS = 64


@dataclass(frozen=True)
class RenderedPage:
    """A rendered page: PNG bytes, its size, and the highlighted band (None when nothing is marked)."""

    png: bytes
    width: int
    height: int
    highlight: tuple[float, float] | None
    boxes: tuple[tuple[int, int, int, int], ...]  # left, top, right, bottom in pixels


def to_pixels(page, rect: Rect, size: tuple[int, int]) -> tuple[float, float, float, float]:
    """A PDF-point rectangle as (left, top, right, bottom) pixels of a rendering of `size`
    (pdfium's own mapping, so crop boxes and page rotation are respected)."""
    xs, ys = [], []
    dx, dy = ctypes.c_int(), ctypes.c_int()
    for x, y in ((rect[0], rect[1]), (rect[2], rect[3])):
        pdfium_c.FPDF_PageToDevice(page.raw, 0, 0, size[0], size[1], 0, x, y, ctypes.byref(dx), ctypes.byref(dy))
        xs.append(dx.value)
        ys.append(dy.value)
    return min(xs), min(ys), max(xs), max(ys)


def _line_boxes(boxes: list[tuple[float, float, float, float]]) -> list[tuple[int, int, int, int]]:
    """Word boxes merged into one bar per line run, so the marker has no gaps between words."""
    out: list[list[float]] = []
    for left, top, right, bottom in boxes:
        if out:
            last = out[-1]
            overlap = min(bottom, last[3]) - max(top, last[1])
            if overlap > 0.5 * min(bottom - top, last[3] - last[1]) and left >= last[0] - 2:
                last[0], last[1] = min(last[0], left), min(last[1], top)
                last[2], last[3] = max(last[2], right), max(last[3], bottom)
                continue
        out.append([left, top, right, bottom])
    return [(int(l - _PAD), int(t - _PAD), int(r + _PAD + 1), int(b + _PAD + 1)) for l, t, r, b in out]


def render_png(page, *, width: int, boxes: list[Rect]) -> RenderedPage:
    """Render one pypdfium2 page `width` pixels wide with the boxes highlighted (call under PDFIUM_LOCK)."""
    bitmap = page.render(scale=width / page.get_width())
    image = bitmap.to_pil().convert("RGB")  # a copy: the bitmap is freed here, under the lock, not by a finaliser
    bitmap.close()
    size = image.size
    bars = _line_boxes([to_pixels(page, r, size) for r in boxes])
    if bars:
        mask = Image.new("L", size, 0)
        draw = ImageDraw.Draw(mask)
        for left, top, right, bottom in bars:
            draw.rectangle((left, top, right - 1, bottom - 1), fill=255)  # PIL includes the far edge
        # Multiply, as a highlighter pen does: white paper takes the colour, ink stays dark.
        marked = ImageChops.multiply(image, Image.new("RGB", size, HIGHLIGHT_RGB))
        image = Image.composite(marked, image, mask)
    buf = io.BytesIO()
    image.quantize(_COLOURS, method=Image.Quantize.FASTOCTREE).save(buf, "PNG")
    band = None
    if bars:
        band = (max(0.0, min(b[1] for b in bars) / size[1]), min(1.0, max(b[3] for b in bars) / size[1]))
    return RenderedPage(buf.getvalue(), size[0], size[1], band, tuple(bars))
