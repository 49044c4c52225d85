"""The built book in a real browser (Debian's Chromium, driven by Playwright): what a reader meets.

Screenshots of every page are kept in test-artifacts/screenshots/ (CI uploads them when a run fails).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

import pytest

from tests.book.conftest import search_results, serve
from tests.conftest import ROOT

SHOTS = ROOT / "test-artifacts" / "screenshots"


def _pages(book) -> list[str]:
    return sorted(str(p.relative_to(book.html_dir).with_suffix(""))
                  for p in book.html_dir.glob("chapters/*.html")) + ["index", "glossary", "status"]


@pytest.fixture(scope="module")
def site(built_book) -> Iterator[str]:
    """The built HTML served on loopback, as a web server would."""
    with serve(built_book.html_dir) as url:
        yield url


@dataclass
class Visit:
    """What one page of the site did in the browser: its HTTP status, whether its title showed, the console
    errors, page errors and failed requests it logged, and axe-core's serious and critical violations."""

    status: int | None
    title_visible: bool
    errors: list[str]
    violations: list[tuple[str, str, int]]


@pytest.fixture(scope="module")
def tour(built_book, site, browser) -> dict[str, Visit]:
    """Every page visited once, as a reader opens it: loaded until the network settles, screenshotted into
    test-artifacts/screenshots/, checked with axe-core. The tests below read what each visit found."""
    from axe_playwright_python.sync_playwright import Axe

    SHOTS.mkdir(parents=True, exist_ok=True)
    axe = Axe()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: r.status >= 400 and errors.append(f"HTTP {r.status}: {r.url}"))
    visits = {}
    try:
        for doc in _pages(built_book):
            errors.clear()
            response = page.goto(f"{site}/{doc}.html", wait_until="networkidle")
            title = page.locator("article h1").first.is_visible()
            page.screenshot(path=str(SHOTS / f"{doc.replace('/', '__')}.png"), full_page=True)
            logged = list(errors)  # what the page itself logged, before axe-core is injected into it
            bad = [v for v in axe.run(page).response["violations"] if v.get("impact") in ("serious", "critical")]
            visits[doc] = Visit(response.status if response else None, title, logged,
                                [(v["id"], v["impact"], len(v["nodes"])) for v in bad])
    finally:
        context.close()
    return visits


def test_every_page_loads_without_console_errors_and_is_screenshotted(built_book, tour) -> None:
    assert list(tour) == _pages(built_book)
    for doc, visit in tour.items():
        assert visit.status == 200 and visit.title_visible, doc
        assert (SHOTS / f"{doc.replace('/', '__')}.png").stat().st_size > 0, doc
        assert visit.errors == [], f"{doc}: {visit.errors}"


def test_glued_sizes_are_visible(site, page) -> None:
    # That each size equals the engine's is checked on the built pages (test_scratch, test_figures); here, that a
    # glued size reaches the reader's screen. The engine may no longer hold the image (the clean-slate tests).
    page.goto(f"{site}/chapters/02-1-scratch.html", wait_until="networkidle")
    shown = page.locator(".pasted-text")
    assert shown.count() > 5
    target = page.locator(".pasted-text").filter(has_text=re.compile(r"^\d+(\.\d+)?[kMG]?B$")).first
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
    hrefs = search_results(page, site, "debootstrap")
    assert any("02-1-scratch" in h for h in hrefs), hrefs


@pytest.mark.parametrize("query", ["이미지를", "레이어는", "빌드"])
def test_korean_query_with_or_without_particle_finds_the_scratch_page(site, page, query) -> None:
    assert any("02-1-scratch" in h for h in search_results(page, site, query))


def test_notebook_and_source_downloads(built_book, site, page) -> None:
    page.goto(f"{site}/chapters/02-1-scratch.html", wait_until="networkidle")
    for label, suffix in (("download-notebook-button", ".ipynb"), ("download-source-button", ".md")):
        href = page.locator(f"a.btn-{label}").first.get_attribute("href") or ""
        assert href.endswith(f"02-1-scratch{suffix}"), (label, href)
        response = page.request.get(urljoin(page.url, href))
        assert response.status == 200, href
    notebook = json.loads((built_book.html_dir / "_sources" / "chapters" / "02-1-scratch.ipynb").read_text())
    outputs = [o for cell in notebook["cells"] if cell["cell_type"] == "code" for o in cell.get("outputs", [])]
    assert any("hello, scratch!" in "".join(o.get("text", "")) for o in outputs)


def test_no_serious_or_critical_accessibility_violations(tour) -> None:
    assert {doc: visit.violations for doc, visit in tour.items() if visit.violations} == {}


def test_search_snippets_show_the_pages_prose_not_buttons_or_hidden_code(site, page) -> None:
    # "레이어를" opens the title of 03-2, so Sphinx cuts that page's snippet from the top of its text, where the
    # theme's article header ("System Settings Light Dark") and the print-only contents came first.
    hrefs = search_results(page, site, "레이어를")
    assert any("03-2-layers" in h for h in hrefs), hrefs
    page.wait_for_function("document.querySelectorAll('#search-results li p.context').length > 0", timeout=30_000)
    snippets = page.locator("#search-results li p.context").all_inner_texts()
    assert snippets and all(s.strip() for s in snippets)
    for text in snippets:
        assert "System Settings" not in text and "Light Dark" not in text, text
        assert "코드 셀 보기" not in text and "from dockerlab" not in text, text
    layers = page.locator("#search-results li", has=page.locator("a[href*='03-2-layers']")).first
    assert "인스트럭션은 저마다 레이어를" in layers.inner_text()


@pytest.mark.parametrize("width", [390, 1280])
def test_no_page_is_wider_than_a_phone_or_a_laptop_screen(built_book, site, page, width) -> None:
    # Wide tables scroll inside their own container; long inline code and glued references wrap.
    page.set_viewport_size({"width": width, "height": 844})
    wider = []
    for doc in _pages(built_book):
        page.goto(f"{site}/{doc}.html", wait_until="load")
        scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        if scroll > client:
            wider.append(f"{doc}: {scroll}px on a {client}px screen")
    assert wider == []


def test_the_stage_table_fits_a_laptop_column_with_every_stage_name_whole(site, page) -> None:
    # The overflow test above passes when a wide table scrolls in its container or squeezes its code; this one
    # holds 04-2's stage table to fitting the article column at 1280 px without breaking a stage name.
    page.set_viewport_size({"width": 1280, "height": 844})
    page.goto(f"{site}/chapters/04-2-builders.html", wait_until="networkidle")
    box = page.locator(".stage-table")
    assert box.count() == 1
    table_width, column_width = box.evaluate("b => [b.querySelector('table').scrollWidth, b.clientWidth]")
    assert table_width <= column_width, (table_width, column_width)
    broken = box.evaluate("b => Array.from(b.querySelectorAll('td code')).filter(c => c.getClientRects().length > 1)"
                          ".map(c => c.textContent)")
    assert broken == []
