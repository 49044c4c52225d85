"""The built book in a real browser (Debian's Chromium, driven by Playwright): what a reader meets.

Screenshots of every page are kept in test-artifacts/screenshots/ (CI uploads them when a run fails).
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from typing import Iterator

import pytest

from dockerlab import image_stats
from tests.conftest import ROOT

playwright_sync = pytest.importorskip("playwright.sync_api", reason="playwright is in requirements.txt")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
SHOTS = ROOT / "test-artifacts" / "screenshots"


def _pages(book) -> list[str]:
    return sorted(str(p.relative_to(book.html_dir).with_suffix(""))
                  for p in book.html_dir.glob("chapters/*.html")) + ["index", "status"]


@pytest.fixture(scope="module")
def site(built_book) -> Iterator[str]:
    """Serve the built HTML on loopback, as a web server would."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(built_book.html_dir))

    class Quiet(handler.func):  # type: ignore[name-defined]
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(built_book.html_dir)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/install-deps does)")
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR",
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("console", lambda msg: msg.type == "error" and page.errors.append(msg.text))
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("response", lambda r: r.status >= 400 and page.errors.append(f"HTTP {r.status}: {r.url}"))
    yield page
    context.close()


def test_every_page_loads_without_console_errors_and_is_screenshotted(built_book, site, page) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for doc in _pages(built_book):
        response = page.goto(f"{site}/{doc}.html", wait_until="networkidle")
        assert response is not None and response.status == 200, doc
        assert page.locator("article h1").first.is_visible(), doc
        page.screenshot(path=str(SHOTS / f"{doc.replace('/', '__')}.png"), full_page=True)
        assert page.errors == [], f"{doc}: {page.errors}"


def test_glued_sizes_are_visible(site, page, engine) -> None:
    page.goto(f"{site}/chapters/02-1-scratch.html", wait_until="networkidle")
    shown = page.locator(".pasted-text")
    assert shown.count() > 5
    hello = image_stats("ch09/hello:latest").human
    target = page.locator(".pasted-text", has_text=hello).first
    target.scroll_into_view_if_needed()
    assert target.is_visible()


def test_sidebar_navigates_between_chapters(built_book, site, page) -> None:
    page.goto(f"{site}/index.html", wait_until="networkidle")
    link = page.locator(".bd-sidebar-primary a[href*='02-1-scratch']").first
    assert link.is_visible()
    link.click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("chapters/02-1-scratch.html")
    assert "scratch" in page.locator("article h1").first.inner_text()


def test_code_copy_button_copies_the_code(site, page) -> None:
    page.goto(f"{site}/chapters/02-1-scratch.html", wait_until="networkidle")
    block = page.locator("div.highlight-go").first
    block.scroll_into_view_if_needed()
    block.hover()
    button = block.locator("button.copybtn")
    assert button.count() == 1
    button.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert 'fmt.Println("hello, scratch!")' in copied


def test_search_page_finds_a_term(site, page) -> None:
    page.goto(f"{site}/search.html?q=debootstrap", wait_until="networkidle")
    results = page.locator("#search-results ul.search li a")
    results.first.wait_for(timeout=15_000)
    hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
    assert any("02-1-scratch" in (h or "") for h in hrefs), hrefs


def test_no_serious_or_critical_accessibility_violations(built_book, site, page) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    problems = {}
    for doc in _pages(built_book):
        page.goto(f"{site}/{doc}.html", wait_until="networkidle")
        results = axe.run(page)
        bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
        if bad:
            problems[doc] = [(v["id"], v["impact"], len(v["nodes"])) for v in bad]
    assert problems == {}
