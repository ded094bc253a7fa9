"""The web chat page at `/`, tested in a real browser (Debian's chromium through Playwright) against the
full app on a real uvicorn server over the shipped corpus.

Expected answers, citations and page labels come from the API for the same question, never hard-coded.
The browser tests skip when /usr/bin/chromium is absent, and fail under CI=true
(scripts/install-test-deps.sh installs it).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from .conftest import require

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
DEV_SET = ROOT.parent / "shared" / "eval" / "dev.jsonl"
STATIC = ROOT / "server" / "static"
CHROMIUM = Path("/usr/bin/chromium")
# Two questions from the dev set (/work/shared/eval/dev.jsonl): one the reports answer, one they do not.
DEFINITION_Q = "wat is nou precies de officiele definitie van een calamiteit?"
ABSTAIN_Q = "welke gemeente had in 2017 de meeste calamiteiten in de jeugdhulp?"
PRECEDENT_Q = ("jz nederland ging toch iets onderzoeken na een calamiteit bij een pleeggezin in gelderland? "
               "welk rapport was dat")
ANSWER_TIMEOUT = 30_000  # ms; the extractive answer takes about a second, but CI boxes are busy
HTTP_TIMEOUT = 60  # s, for the test's own API calls (the first learning call builds its indexes)

def needs_browser(test):
    """A browser test: marked `slow`; its `browser` fixture requires chromium (skip, or fail under CI)."""
    return pytest.mark.slow(test)


# ------------------------------------------------------------------------------------------ helpers


def http_get(url: str, **kw) -> httpx.Response:
    return httpx.get(url, timeout=HTTP_TIMEOUT, **kw)


def http_post(url: str, **kw) -> httpx.Response:
    return httpx.post(url, timeout=HTTP_TIMEOUT, **kw)


def api_chat(server, question: str, history: list | None = None) -> dict:
    r = http_post(f"{server.url}/api/chat", json={"question": question, "history": history or []})
    r.raise_for_status()
    return r.json()


def visible_answer(answer: str) -> str:
    """The start of the answer as the page shows it: markers become chips and quoted units become
    quotations (<q>, whose marks are the page's style, not text), so compare a marker-free piece."""
    first = next(p for p in answer.split("\n\n") if p.strip())
    text = " ".join(re.sub(r"\[\d+(?:\s*[,;]\s*\d+)*\]|[“”]", " ", first).split())
    return text[:60]


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"))


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def browser():
    require(CHROMIUM.exists(), "needs Debian's chromium at /usr/bin/chromium (scripts/install-test-deps.sh installs it)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)  # busy CI boxes; every wait still ends as soon as it holds
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield b
        b.close()


@pytest.fixture
def new_page(browser, live_server):
    """Open pages in a fresh context; any request that leaves the server fails the test (no CDN)."""
    contexts, external, errors = [], [], []

    def make(width: int = 1280, height: int = 860, **kw):
        ctx = browser.new_context(viewport={"width": width, "height": height}, base_url=live_server.url, **kw)

        def guard(route):
            if route.request.url.startswith(live_server.url) or route.request.url.startswith(("blob:", "data:")):
                route.continue_()
            else:
                external.append(route.request.url)
                route.abort()

        ctx.route("**/*", guard)
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        return page

    yield make
    for ctx in contexts:
        ctx.close()
    assert not external, f"the page tried to load from elsewhere: {external}"
    assert not errors, f"JavaScript errors: {errors}"


def ask(page, question: str):
    """Type a question, send it with Enter, and return the answer's container once it is done."""
    with page.expect_response(lambda r: r.url.endswith("/api/chat/stream")) as resp:
        page.locator("#question").fill(question)
        page.locator("#question").press("Enter")
    assert resp.value.status == 200
    turn = page.locator(".turn").last
    from playwright.sync_api import expect

    expect(turn.locator(".msg-assistant")).to_have_attribute("aria-busy", "false", timeout=ANSWER_TIMEOUT)
    return turn


# ------------------------------------------------------------------------------------------ without a browser


def test_page_and_static_files_are_served_locally(live_server):
    r = http_get(f"{live_server.url}/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert 'lang="nl"' in r.text and "/static/app.js" in r.text
    for name, kind in (("app.js", "javascript"), ("style.css", "text/css"), ("favicon.svg", "image/svg")):
        s = http_get(f"{live_server.url}/static/{name}")
        assert s.status_code == 200 and kind in s.headers["content-type"], name
    # nothing external: no http(s) URL in the page's own files (the only links come from the catalog)
    for f in STATIC.iterdir():
        assert not re.search(r"(src|href)=\"https?://|url\(\s*['\"]?https?://|import\s.*https?://", f.read_text()), f


def test_dev_set_holds_the_questions_used_here():
    require(DEV_SET.exists(), f"{DEV_SET} is not in this checkout")
    questions = {json.loads(line)["question"] for line in DEV_SET.read_text().splitlines() if line.strip()}
    assert {DEFINITION_Q, ABSTAIN_Q, PRECEDENT_Q} <= questions


# ------------------------------------------------------------------------------------------ in the browser


@needs_browser
def test_answer_streams_with_chip_that_opens_the_cited_passage(new_page, live_server):
    from playwright.sync_api import expect

    expected = api_chat(live_server, DEFINITION_Q)
    assert not expected["abstained"] and expected["citations"], expected
    first = expected["citations"][0]

    page = new_page()
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.locator("#independence")).to_contain_text("onafhankelijke assistent")
    turn = ask(page, DEFINITION_Q)
    expect(turn.locator(".question-text")).to_have_text(DEFINITION_Q)
    expect(turn.locator(".answer-text")).to_contain_text(visible_answer(expected["answer"]))
    chips = turn.locator(".answer-text button.chip")
    expect(chips.first).to_be_visible()
    expect(turn.locator(".source-list > li")).to_have_count(len(expected["citations"]))

    chip = turn.locator(f'.answer-text button.chip[data-n="{first["n"]}"]').first
    expect(chip).to_have_attribute("data-chunk", first["chunk_id"])
    expect(chip).to_have_attribute("aria-label", re.compile(re.escape(first["page_label"])))
    chip.click()
    panel = page.locator("#panel")
    expect(panel).to_be_visible()
    expect(page.locator("#panel-title")).to_have_text(first["title"])
    expect(page.locator("#panel-title")).to_be_focused()
    expect(page.locator("#panel-meta")).to_contain_text(str(first["year"]))
    expect(page.locator("#panel-page")).to_have_text(first["page_label"])
    expect(page.locator("#panel-pdf-page")).to_have_text(str(first["page"]))
    expect(page.locator("#panel-text mark")).to_be_visible()  # the quoted words are marked in the passage
    context = http_get(f"{live_server.url}/api/passages/{first['chunk_id']}").json()
    if context["before"]:
        expect(page.locator("#panel-before")).to_contain_text("Tekst ervoor")
    if context["after"]:
        expect(page.locator("#panel-after")).to_contain_text("Tekst erna")
    if first["url"]:
        expect(page.locator("#panel-link")).to_have_attribute("href", first["url"])
    else:
        expect(page.locator("#panel-link")).to_be_hidden()
    shot(page, "answer-with-passage")

    page.keyboard.press("Escape")  # keyboard: Escape closes and focus returns to the chip
    expect(panel).to_be_hidden()
    expect(chip).to_be_focused()


@needs_browser
def test_follow_up_sends_history_filters_and_new_conversation_clears(new_page, live_server):
    from playwright.sync_api import expect

    page = new_page()
    page.goto("/")
    bodies = []
    page.on("request", lambda r: bodies.append(r.post_data_json) if r.url.endswith("/api/chat/stream") else None)
    first = ask(page, DEFINITION_Q)
    answer1 = first.locator(".answer-text")
    expect(answer1).not_to_be_empty()

    docs = http_get(f"{live_server.url}/api/documents").json()
    doc = docs[0]
    page.locator("#filters summary").click()
    page.locator(f'#doc-list input[value="{doc["doc_id"]}"]').check()
    page.locator("#year-from").fill("2000")
    expect(page.locator("#filter-summary")).to_contain_text("1 rapport")
    follow = ask(page, "en wie stelt die vast?")
    expect(follow.locator(".answer-text")).not_to_be_empty()
    assert bodies[0]["history"] == []
    assert [t["role"] for t in bodies[1]["history"]] == ["user", "assistant"]
    assert bodies[1]["history"][0]["content"] == DEFINITION_Q
    assert bodies[1]["filters"] == {"year_from": 2000, "doc_ids": [doc["doc_id"]]}
    for chip in follow.locator(".source-list button.chip").all():  # the report filter holds
        cited = http_get(f"{live_server.url}/api/passages/{chip.get_attribute('data-chunk')}").json()
        assert cited["passage"]["doc_id"] == doc["doc_id"]

    page.locator("#new-chat").click()
    expect(page.locator(".turn")).to_have_count(0)
    expect(page.locator("#welcome")).to_be_visible()
    expect(page.locator("#question")).to_be_focused()


@needs_browser
def test_copy_answer_with_sources_as_markdown(new_page, live_server):
    from playwright.sync_api import expect

    expected = api_chat(live_server, DEFINITION_Q)
    page = new_page(permissions=["clipboard-read", "clipboard-write"])
    page.goto("/")
    turn = ask(page, DEFINITION_Q)
    turn.locator(".copy-md").click()
    expect(page.locator("#toast")).to_contain_text("gekopieerd")
    md = page.evaluate("navigator.clipboard.readText()")
    assert md.startswith(f"**Vraag:** {DEFINITION_Q}")
    # the document's words are quoted (“…”) and escaped for Markdown; unquoted and unescaped, the answer
    unmarked = re.sub(r"\\(.)", r"\1", md.replace("“", "").replace("”", ""))
    assert expected["answer"].replace("“", "").replace("”", "").strip() in unmarked
    assert "“" in md
    for c in expected["citations"]:
        assert f"[{c['n']}] {c['title']} ({c['year']})" in md
        assert f"[p. {c['page_label']}]({live_server.url}/?passage={c['chunk_id']})" in md


@needs_browser
def test_abstention_is_plain_and_lists_nearest_reports(new_page, live_server):
    from playwright.sync_api import expect

    expected = api_chat(live_server, ABSTAIN_Q)
    assert expected["abstained"], expected
    page = new_page()
    page.goto("/")
    turn = ask(page, ABSTAIN_Q)
    notice = turn.locator(".abstain-notice")
    expect(notice).to_contain_text("Geen antwoord in de rapporten")
    expect(notice).to_contain_text(expected["answer"].split("\n\n")[-1].strip())
    expect(turn.locator(".answer-text button.chip")).to_have_count(0)
    nearest = turn.locator(".nearest-list li")
    expect(nearest).to_have_count(len(expected["nearest"]))
    for i, n in enumerate(expected["nearest"]):
        expect(nearest.nth(i)).to_contain_text(n["title"])
    if expected["nearest"]:
        nearest.first.locator("button").click()
        expect(page.locator("#panel-title")).to_have_text(expected["nearest"][0]["title"])
        expect(page.locator("#panel-page")).to_have_text(expected["nearest"][0]["page_label"])
    shot(page, "abstention")


@needs_browser
def test_english_switch_changes_interface_strings(new_page):
    from playwright.sync_api import expect

    page = new_page()
    page.goto("/")
    expect(page.locator("#ask")).to_have_text("Vraag")
    expect(page.locator("#new-chat")).to_have_text("Nieuw gesprek")
    page.locator("#lang-toggle").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#ask")).to_have_text("Ask")
    expect(page.locator("#new-chat")).to_have_text("New conversation")
    expect(page.locator("#tab-themes")).to_have_text("Themes")
    expect(page.locator("#independence")).to_contain_text("not the Dutch Health and Youth Care Inspectorate")
    expect(page.locator("#question")).to_have_attribute("placeholder", "Ask a question about the reports…")
    expect(page.locator("#lang-toggle")).to_have_text("Nederlands")
    page.reload()  # the choice is remembered
    expect(page.locator("#ask")).to_have_text("Ask")
    page.locator("#lang-toggle").click()
    expect(page.locator("#ask")).to_have_text("Vraag")


@needs_browser
def test_passage_deep_link_opens_the_panel(new_page, live_server):
    from playwright.sync_api import expect

    hit = http_post(f"{live_server.url}/api/search", json={"query": "definitie calamiteit", "k": 1}).json()["results"][0]
    page = new_page()
    page.goto(f"/?passage={hit['chunk_id']}")
    expect(page.locator("#panel")).to_be_visible()
    expect(page.locator("#panel-title")).to_have_text(hit["title"])
    expect(page.locator("#panel-page")).to_have_text(hit["page_label"])
    expect(page.locator("#panel-text")).to_contain_text(" ".join(hit["text"].split())[:50])
    page.locator("#panel-close").click()
    expect(page.locator("#panel")).to_be_hidden()
    assert "passage=" not in page.url

    page.goto("/?passage=does-not-exist")
    expect(page.locator("#panel-status")).to_contain_text("staat niet")


@needs_browser
def test_phone_width_layout(new_page, live_server):
    from playwright.sync_api import expect

    hit = http_post(f"{live_server.url}/api/search", json={"query": "leren van calamiteiten", "k": 1}).json()["results"][0]
    page = new_page(width=375, height=740, is_mobile=True, has_touch=True)
    page.goto("/")
    for sel in ("#question", "#ask", "#new-chat", "#tab-precedents", "#lang-toggle", "#independence"):
        expect(page.locator(sel)).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "phone")
    page.goto(f"/?passage={hit['chunk_id']}")
    expect(page.locator("#panel-title")).to_have_text(hit["title"])
    box = page.locator("#panel").bounding_box()
    assert box["x"] >= 0 and box["width"] <= 375
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "phone-passage")


@needs_browser
def test_precedents_and_themes_views(new_page, live_server):
    """Filled when the learning endpoints exist, a friendly message when they 404."""
    from playwright.sync_api import expect

    page = new_page()
    page.goto("/")
    page.locator("#tab-chat").focus()
    page.keyboard.press("ArrowRight")  # keyboard: arrows move between the tabs
    expect(page.locator("#tab-precedents")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#view-precedents")).to_be_visible()
    q = PRECEDENT_Q
    api = http_get(f"{live_server.url}/api/precedents", params={"q": q})
    page.locator("#precedents-q").fill(q)
    page.locator("#precedents-q").press("Enter")
    results = page.locator("#precedents-results")
    if api.status_code == 404:
        expect(results).to_contain_text("niet beschikbaar", timeout=ANSWER_TIMEOUT)
    else:
        precedents = api.json()["precedents"]
        cards = results.locator(".precedent")
        expect(cards).to_have_count(len(precedents), timeout=ANSWER_TIMEOUT)
        for i, d in enumerate(precedents):  # one card per report, in the API's order
            expect(cards.nth(i).locator(".card-title")).to_have_text(d["title"])
        expect(results).not_to_contain_text("[object Object]")
        first = next((d["passages"][0] for d in precedents if d["passages"]), None)
        if first:
            cards.locator(f'.passage-item[data-chunk="{first["chunk_id"]}"]').first.click()
            expect(page.locator("#panel-title")).to_have_text(first["title"])
            expect(page.locator("#panel-page")).to_have_text(first["page_label"])
            page.locator("#panel-close").click()

    page.locator("#tab-themes").click()
    themes = http_get(f"{live_server.url}/api/themes")
    if themes.status_code == 404:
        expect(page.locator("#themes-list")).to_contain_text("niet beschikbaar", timeout=ANSWER_TIMEOUT)
        return
    listed = themes.json()
    listed = listed if isinstance(listed, list) else listed.get("themes", [])
    expect(page.locator(".theme-card")).to_have_count(len(listed), timeout=ANSWER_TIMEOUT)
    if not listed:
        return
    page.locator(".theme-card").first.click()
    expect(page.locator(".theme-title")).to_have_text(listed[0]["title"], timeout=ANSWER_TIMEOUT)
    detail = http_get(f"{live_server.url}/api/themes/{listed[0]['id']}").json()
    expect(page.locator("#theme-detail .passage-item")).to_have_count(min(len(detail["passages"]), 60))
    pack = http_get(f"{live_server.url}/api/pack", params={"theme": listed[0]["id"], "format": "html"})
    if pack.status_code == 404:
        page.locator(".pack-btn").click()
        expect(page.locator(".pack-status")).to_contain_text("niet beschikbaar", timeout=ANSWER_TIMEOUT)
    else:
        with page.context.expect_page(timeout=ANSWER_TIMEOUT) as popup:
            page.locator(".pack-btn").click()
        popup.value.wait_for_load_state()
        assert "/api/pack?theme=" in popup.value.url
        expect(page.locator(".pack-status a")).to_have_attribute("href", re.compile(r"/api/pack\?theme="))


@needs_browser
def test_api_key_prompt_when_the_api_answers_401(new_page):
    """With API keys enabled the page asks for one and sends it as a bearer token (sessionStorage)."""
    from playwright.sync_api import expect

    page = new_page()
    seen = []

    def keyed(route):
        auth = route.request.headers.get("authorization", "")
        seen.append(auth)
        if auth != "Bearer test-key":
            route.fulfill(status=401, content_type="application/json", body='{"error": "missing or invalid API key"}')
        else:
            route.continue_()

    page.route("**/api/documents", keyed)
    page.goto("/")
    expect(page.locator("#auth")).to_be_visible()
    expect(page.locator("#api-key")).to_be_focused()
    page.locator("#api-key").fill("test-key")
    page.locator("#api-key").press("Enter")
    expect(page.locator("#auth")).to_be_hidden()
    expect(page.locator("#doc-list input[name=doc]").first).to_be_attached()
    assert seen[-1] == "Bearer test-key"
    assert page.evaluate("sessionStorage.getItem('rodedraad.apiKey')") == "test-key"


@needs_browser
def test_document_text_is_quoted_and_escaped_on_the_page(new_page, live_server):
    """Quoted sentences show as quotations (<q>), never in the assistant's voice; the Markdown and
    link helpers keep document markup inert (server/static/doctext.js)."""
    page = new_page()
    page.goto("/")
    turn = ask(page, DEFINITION_Q)
    assert turn.locator(".answer-text q.doc-quote").count() >= 1
    result = page.evaluate("""async () => {
      const m = await import('/static/doctext.js');
      return {
        md: m.markdownText('[de inspectie](https://evil.example) <img src=x onerror=alert(1)> [1]'),
        js: m.webUrl('JaVaScRiPt:alert(1)'), data: m.webUrl('data:text/html,x'), ok: m.webUrl('https://www.igj.nl/x'),
        marked: m.markQuotes('Assistant: geen risico [1]', [{quote: 'Assistant: geen risico'}]),
      };
    }""")
    assert result["md"] == "\\[de inspectie\\](https\\://evil.example) \\<img src=x onerror=alert(1)\\> [1]"
    assert result["js"] == "" and result["data"] == "" and result["ok"] == "https://www.igj.nl/x"
    assert result["marked"] == "“Assistant: geen risico” [1]"


@needs_browser
def test_api_docs_work_under_the_page_csp(new_page, live_server):
    """/docs renders Swagger UI from this server's own files (new_page fails on any outside request)."""
    from playwright.sync_api import expect

    page = new_page()
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text
            and "script" in m.text else None)
    page.goto("/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
    assert page.locator(".opblock-summary-path", has_text="/api/chat").count() >= 1
    assert not violations, violations
