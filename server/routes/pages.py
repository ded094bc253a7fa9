"""The original files and the highlighted pages of passages."""
from __future__ import annotations

from enum import IntEnum
from functools import partial
from typing import Annotated
from urllib.parse import quote

import anyio.to_thread
from fastapi import APIRouter, Query, Response

from retriever.sources import MEDIA_TYPES

from ..deps import PageViewsDep
from ..pageview.render import DEFAULT_WIDTH, WIDTHS

router = APIRouter(prefix="/api", tags=["pages"])

# An enum, not a Literal: query strings arrive as text, and only an enum turns "800" into 800.
Width = IntEnum("Width", {f"w{w}": w for w in WIDTHS})
# Text files (HTML above all) must not run as pages of this origin; PDFs need no sandbox, and
# Chrome's PDF viewer refuses to open in one.
_SANDBOX = {"Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {}}}


@router.get("/documents/{doc_id}/file", response_class=Response, responses={
    200: {"description": "The file as it was ingested",
          "content": {t.split(";")[0]: {} for t in sorted(set(MEDIA_TYPES.values()))}},
    404: _error("No ingested file with that document id"),
    409: _error("The file has changed since it was ingested"),
    410: _error("The file is no longer where it was ingested from")})
def document_file(doc_id: str, views: PageViewsDep) -> Response:
    """The original file of an ingested document, with its content type (`#page=N` opens a PDF at a page)."""
    checked = views.sources.read(doc_id)
    name = checked.source.path.name
    headers = {"Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}", "ETag": f'"{checked.source.sha256}"',
               "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    if not checked.source.has_pages:
        headers.update(_SANDBOX)
    return Response(checked.data, media_type=checked.media_type, headers=headers)


@router.get("/passages/{chunk_id}/page.png", response_class=Response, responses={
    200: {"description": "The page with the passage highlighted. `X-Passage-Pages`: the PDF pages the passage "
                         "spans; `X-Highlight`: top and bottom of the highlight as shares of the height, or `none`",
          "content": {"image/png": {}}},
    404: _error("No such passage, a document without pages, or a page the passage is not on"),
    409: _error("The file has changed since it was ingested"),
    410: _error("The file is no longer where it was ingested from")})
async def passage_page(chunk_id: str, views: PageViewsDep,
                 width: Annotated[Width | None, Query(description=f"Pixels wide (default {DEFAULT_WIDTH})")] = None,
                 page: Annotated[int | None, Query(ge=1, le=100_000, description="The next PDF page, for a "
                                                   "passage that runs onto it")] = None) -> Response:
    """The passage's PDF page as a PNG, its words under a translucent highlight."""
    size = int(width) if width is not None else None
    # A cached page is a file read, answered on the event loop; drawing is CPU work for a thread.
    image = views.cached_image(chunk_id, width=size, page=page) or \
        await anyio.to_thread.run_sync(partial(views.page_image, chunk_id, width=size, page=page))
    band = f"{image.highlight[0]:.4f},{image.highlight[1]:.4f}" if image.highlight else "none"
    return Response(image.png, media_type="image/png", headers={
        "X-Passage-Pages": ",".join(map(str, image.pages)), "X-Highlight": band,
        "Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"})
