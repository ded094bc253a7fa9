"""The page of the original report in the passage panel, in a real browser (Debian's chromium through
Playwright) against the full app on a real uvicorn server over the shipped corpus.

A citation opens the panel with its PDF page above the text, the passage highlighted and scrolled
into view; the link opens the PDF at that page; on a phone the image fits the width and a tap
enlarges it. Screenshots go to test-artifacts/.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from server.pageview.render import HIGHLIGHT_RGB

from .test_web_page import (DEFINITION_Q, api_chat, ask, browser, http_get, http_post, needs_browser,  # noqa: F401
                            new_page, shot)


def marked_pixels(png: bytes) -> int:
    """Pixels of a screenshot in the citation colour (the paper under the highlight)."""
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return int((np.abs(rgb - np.array(HIGHLIGHT_RGB)) <= 16).all(axis=2).sum())


def highlight_band(server, chunk_id: str) -> list[float]:
    """Top and bottom of the passage's highlight on its page, as shares of the height (from the API)."""
    r = http_get(f"{server.url}/api/passages/{chunk_id}/page.png")
    return [float(x) for x in r.headers["x-highlight"].split(",")]


def highlight_in_view(page, frame, band: list[float]) -> bool:
    """The highlighted band of the frame's image lies (at least its top) inside the frame's view."""
    page.wait_for_function("(f) => f.querySelector('img').complete && f.querySelector('img').naturalWidth > 0",
                           arg=frame.element_handle())
    return page.evaluate("""([frame, band]) => {
        const img = frame.querySelector('img');
        const top = band[0] * img.clientHeight, bottom = band[1] * img.clientHeight;
        const from = frame.scrollTop, to = frame.scrollTop + frame.clientHeight;
        return top >= from - 1 && top < to && Math.min(bottom, to) - top > 20;
    }""", [frame.element_handle(), band])


@needs_browser
def test_citation_shows_its_page_with_the_passage_highlighted(new_page, live_server):
    from playwright.sync_api import expect

    expected = api_chat(live_server, DEFINITION_Q)
    first = expected["citations"][0]
    page = new_page()
    page.goto("/")
    turn = ask(page, DEFINITION_Q)
    turn.locator(f'.answer-text button.chip[data-n="{first["n"]}"]').first.click()

    figure = page.locator("#panel-pages")
    expect(figure).to_be_visible()
    img = figure.locator(".page-img").first
    expect(img).to_be_visible()
    expect(img).to_have_attribute("alt", first["quote"])
    # Above the passage text, in the panel.
    assert img.bounding_box()["y"] < page.locator("#panel-text").bounding_box()["y"]
    frame = figure.locator(".page-frame").first
    assert highlight_in_view(page, frame, highlight_band(live_server, first["chunk_id"]))
    assert marked_pixels(frame.screenshot()) > 2000  # the highlight is on screen, not just in the file

    link = figure.locator("#panel-pdf")
    expect(link).to_have_text(f"Open de PDF op pagina {first['page']}")
    href = link.get_attribute("href")
    assert href == f"/api/documents/{first['doc_id']}/file#page={first['page']}"
    pdf = http_get(f"{live_server.url}{href.split('#')[0]}")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    shot(page, "pageview-desktop")

    page.goto(f"/?lang=en&passage={first['chunk_id']}")
    expect(page.locator("#panel-pdf")).to_have_text(f"Open the PDF at page {first['page']}")


@needs_browser
def test_bot_link_on_a_phone_shows_the_page_fitting_the_width_and_tap_enlarges(new_page, live_server):
    from playwright.sync_api import expect

    hit = http_post(f"{live_server.url}/api/search", json={"query": "leren van calamiteiten", "k": 1}).json()["results"][0]
    page = new_page(width=375, height=740, is_mobile=True, has_touch=True)
    page.goto(f"/?passage={hit['chunk_id']}")  # as the Slack and Teams answers link to it
    frame = page.locator("#panel-pages .page-frame").first
    expect(frame).to_be_visible()
    assert highlight_in_view(page, frame, highlight_band(live_server, hit["chunk_id"]))
    img_box = frame.locator("img").bounding_box()
    assert img_box["x"] >= 0 and img_box["x"] + img_box["width"] <= 375
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    expect(frame.locator("img")).to_have_attribute("alt", hit["text"])
    shot(page, "pageview-phone")

    frame.locator("button").tap()
    zoom = page.locator("#page-zoom")
    expect(zoom).to_be_visible()
    page.wait_for_function("() => { const i = document.querySelector('#page-zoom img'); "
                           "return i && i.complete && i.naturalWidth >= 1600; }")
    assert zoom.locator("img").bounding_box()["width"] > 375  # larger than the screen: pan to read
    assert marked_pixels(page.screenshot()) > 2000
    shot(page, "pageview-phone-enlarged")
    page.keyboard.press("Escape")  # closes the enlargement first, the panel stays
    expect(zoom).to_have_count(0)
    expect(page.locator("#panel")).to_be_visible()
