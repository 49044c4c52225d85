"""The book test: the whole site, built once per test run, and what every book test reads.

``built_book`` is session-scoped: every test in tests/book reads the same build. When ``make html`` already
built this checkout from exactly the sources it holds now, with every notebook page executed
(:func:`dockerlab.bookbuild.reusable_build`), the tests read that build in place -- ``make html`` then
``make test`` executes each chapter once, as the workflow does. Otherwise (or with ``CH09_FRESH_BOOK=1``) the
book is built from a copy of the sources into a temp dir. Tests that edit sources build small books of their
own (``test_incremental.py``, ``test_faults.py``).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from dockerlab.artefacts import Record, latest_images, read_record
from dockerlab.bookbuild import INPUTS, executed_pages, reusable_build
from dockerlab.measure import ImageStats

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Book:
    """A built copy of the book."""

    src: Path
    out: Path
    output: str
    #: Every notebook page whose outputs the HTML holds (``chapters/02-1-scratch``).
    executed: list[str]
    outputs: list[str] = field(default_factory=list)
    #: Whether this is ``make html``'s build of the checkout, read in place.
    reused: bool = False

    @property
    def html_dir(self) -> Path:
        return self.out / "html"

    def page(self, docname: str) -> BeautifulSoup:
        """The parsed HTML of ``docname`` (e.g. ``chapters/02-1-scratch``)."""
        return BeautifulSoup((self.html_dir / f"{docname}.html").read_text(encoding="utf-8"), "html.parser")

    def record(self, docname: str) -> Record:
        """How ``docname`` was executed: its artefact's record (engine, machine, cells, the book's images)."""
        record = read_record(self.out, docname)
        assert record is not None, f"{docname}: no artefact under {self.out}"
        return record

    def image(self, docname: str, tag: str) -> ImageStats:
        """What the engine said of ``tag`` right after ``docname`` executed (``docker image inspect`` and
        ``docker image ls``), read from the page's artefact.

        A page's figures are compared with this, not with the engine as it is when the tests run: the site may
        be rendered and tested on a machine that never built the images (the workflow's render job), and a
        later page or test may have rebuilt or removed the tag.
        """
        return self.record(docname).image(tag)

    def require_on_engine(self, docname: str, tags: list[str]) -> None:
        """Skip the calling test, saying why, unless the engine holds now exactly the images ``tags`` that
        ``docname`` left: for the few tests that read an image's files, which no record keeps. Where the book
        was executed on another machine (the workflow's render job) or the clean-slate tests removed them,
        those images are not here; ``make html && make test`` on one machine runs these tests."""
        from docker.errors import DockerException

        from dockerlab import docker_client

        record = self.record(docname)
        api = docker_client().api
        for tag in tags:
            try:
                here = api.inspect_image(tag)["Id"]
            except DockerException:
                here = None
            if here != record.image(tag).id:
                pytest.skip(f"{docname} was executed at {record.where}, and this engine does not hold the {tag} "
                            "it left: this test reads the image's files")

    def images(self) -> dict[str, ImageStats]:
        """Every image of the book's as the engine held it once the whole book had executed: for each tag,
        what the engine said of it after the last page (by end time) that ran with it on the engine."""
        return {tag: record.image(tag) for tag, (_, record) in latest_images(self.src, self.out).items()}

    def build(self) -> subprocess.CompletedProcess[str]:
        """Build again in place (incremental) and return the finished process."""
        proc = run_build(self.src, self.out)
        self.outputs.append(proc.stdout)
        return proc


def myst_notebook(title: str, depends: list[str], body: str) -> str:
    """A MyST notebook page as the book writes one (jupytext front matter, ``depends:``), for the small test books."""
    listed = "depends:\n" + "".join(f"  - {d}\n" for d in depends) if depends else ""
    return ("---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n"
            "kernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n"
            f"{listed}---\n\n# {title}\n\n{body}")


def copy_sources(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in INPUTS:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
        elif src.exists():
            shutil.copy2(src, dest / name)
    return dest


def run_build(src: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """``python -m dockerlab build`` (sphinx-build -nW --keep-going) of ``src`` into ``out``."""
    argv = [sys.executable, "-m", "dockerlab", "build", "--source", str(src), "--out", str(out)]
    # A session of its own: a Ctrl-C of the test run reaches the build once, from here, and the build is given
    # the time to stop its pages and sweep what they started (a second engine, a link, a folder), as it does
    # for a reader's Ctrl-C. subprocess.run would SIGKILL it in the middle of that.
    proc = subprocess.Popen(argv, cwd=src, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(src / "src"), "CH09_ROOT": str(src)})
    try:
        stdout, stderr = proc.communicate(timeout=3600)
    except BaseException:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory: pytest.TempPathFactory, engine, request: pytest.FixtureRequest) -> Book:
    """The whole book built with warnings as errors: ``make html``'s, when it is current, else a fresh one."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    out = ROOT / "_build"
    record = None if os.environ.get("CH09_FRESH_BOOK") == "1" else reusable_build(ROOT, out)
    if record is not None:
        log = (out / "reports" / "sphinx-build.log").read_text(encoding="utf-8")
        if reporter:
            reporter.write_line(f"book tests: reading make html's build in {out} (same inputs, "
                                f"{len(record.executed)} notebook pages executed); CH09_FRESH_BOOK=1 builds anew")
        return Book(src=ROOT, out=out, output=log, executed=sorted(record.executed), outputs=[log], reused=True)
    base = tmp_path_factory.mktemp("book")
    src = copy_sources(base / "src")
    out = base / "out"
    proc = run_build(src, out)
    assert proc.returncode == 0, f"the book build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    return Book(src=src, out=out, output=proc.stdout, executed=executed_pages(proc.stdout, src),
                outputs=[proc.stdout])


# --------------------------------------------------------------------------- a real browser

#: The browser for the page tests: $CH09_CHROMIUM, else Debian's chromium, else Playwright's own Chromium
#: (``python -m playwright install chromium``, as the GitHub workflow does on Ubuntu).
CHROMIUM = os.environ.get("CH09_CHROMIUM") or shutil.which("chromium") or ""
#: Flags for headless Chromium on a machine with no network but loopback.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on loopback; yield its base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    if CHROMIUM and not Path(CHROMIUM).exists():
        pytest.fail(f"CH09_CHROMIUM={CHROMIUM} does not exist")
    with sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=CHROMIUM or None, args=CHROMIUM_ARGS, headless=True)
        except Exception as err:  # noqa: BLE001 - Playwright's own message says what is missing
            pytest.fail(f"no browser for the page tests: install Debian's chromium (scripts/install-deps does) "
                        f"or run `python -m playwright install chromium` ({str(err).splitlines()[0]})")
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser page that records console errors, page errors and failed requests in ``page.errors``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR",
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.errors = []
    page.on("console", lambda msg: msg.type == "error" and page.errors.append(msg.text))
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("response", lambda r: r.status >= 400 and page.errors.append(f"HTTP {r.status}: {r.url}"))
    yield page
    context.close()


def search_results(page, base_url: str, query: str) -> list[str]:
    """Run the site's own search page for ``query`` and return the result links."""
    from urllib.parse import quote

    page.goto(f"{base_url}/search.html?q={quote(query)}", wait_until="networkidle")
    # Sphinx replaces the pulsing "Searching..." title (its dots are a child span) when it is done.
    page.wait_for_function("typeof Search !== 'undefined' && Search.title "
                           "&& Search.title.querySelector('span') === null", timeout=60_000)
    links = page.locator("#search-results ul.search li a")
    return [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
