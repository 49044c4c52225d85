"""Incremental builds: nothing changed -> no notebook runs; an example changed -> exactly its chapters run;
a failed page -> only it runs next time; rendering from artefacts -> the page bodies of an in-process build.

The whole book is built once per test run (``built_book``: a fresh build, or ``make html``'s when it is
current); rebuilding it without a change costs no execution, so that is checked on it. Editing an example
and rebuilding would execute its chapters a second time, so that is checked on a small book instead (as
MyST-NB's own tests build small projects): the book's real ``conf.py``, ``_static`` and helper package, and
three tiny chapters -- two that list an example in ``depends:``, one that lists none.

The rebuild leaves the first build's output as it was, so these tests may run in any order with the others.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from dockerlab.artefacts import records
from dockerlab.bookbuild import executed_pages, read_record
from dockerlab.sphinxext import front_matter_depends
from tests.book.conftest import ROOT, Book, myst_notebook, run_build


def _pages_using(src: Path, example: str) -> list[str]:
    pages = []
    for md in sorted(src.glob("**/*.md")):
        if "_build" in md.parts:
            continue
        if example in front_matter_depends(md.read_text(encoding="utf-8")):
            pages.append(str(md.relative_to(src).with_suffix("")))
    return pages


def _executed(book: Book, output: str) -> list[str]:
    return executed_pages(output, book.src)


def _notebook_pages(src: Path) -> list[str]:
    return sorted(str(p.relative_to(src).with_suffix("")) for p in [*src.glob("*.md"), *src.glob("chapters/*.md")]
                  if p.read_text(encoding="utf-8").lstrip().startswith("---") and "kernelspec" in p.read_text())


def test_every_notebook_page_was_executed(built_book) -> None:
    # A fresh build executes every page; make html's build, read in place, recorded which build executed each.
    assert built_book.executed == _notebook_pages(built_book.src)
    if not built_book.reused:
        assert _executed(built_book, built_book.outputs[0]) == built_book.executed


def test_rebuild_without_changes_executes_nothing(built_book) -> None:
    before = read_record(built_book.out)
    proc = built_book.build()
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert _executed(built_book, proc.stdout) == []
    # ...and the record still says every page's outputs came from the builds that executed them.
    after = read_record(built_book.out)
    assert before is not None and after is not None
    assert (after.digest, after.executed, after.builds) == (before.digest, before.executed, before.builds + 1)


def test_the_books_pages_list_the_examples_they_use(built_book) -> None:
    users = _pages_using(built_book.src, "examples/hello")
    assert "chapters/02-1-scratch" in users
    assert len(users) < len(built_book.executed)


def _chapter(title: str, depends: list[str], expression: str) -> str:
    cell = f"```{{code-cell}} ipython3\nfrom pathlib import Path\n\nprint({expression})\n```\n"
    return myst_notebook(title, depends, cell)


@pytest.fixture(scope="module")
def small_book_built(tmp_path_factory: pytest.TempPathFactory) -> Book:
    """A three-chapter book with the real configuration, built once for this module."""
    tmp_path = tmp_path_factory.mktemp("small-book")
    src = tmp_path / "src"
    src.mkdir()
    for name in ("conf.py",):
        shutil.copy2(ROOT / name, src / name)
    for name in ("_static", "src"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    (src / "examples" / "greeting").mkdir(parents=True)
    (src / "examples" / "greeting" / "message.txt").write_text("hello, first build\n")
    (src / "examples" / "other").mkdir(parents=True)
    (src / "examples" / "other" / "note.txt").write_text("unchanged\n")
    (src / "index.md").write_text(textwrap.dedent("""\
        # Small book

        ```{toctree}
        :glob:

        chapters/*
        ```
        """))
    chapters = src / "chapters"
    chapters.mkdir()
    read = "Path('../examples/greeting/message.txt').read_text().strip()"
    (chapters / "a-uses-greeting.md").write_text(_chapter("A", ["examples/greeting"], read))
    (chapters / "b-uses-both.md").write_text(_chapter("B", ["examples/other", "examples/greeting"], read))
    (chapters / "c-uses-other.md").write_text(
        _chapter("C", ["examples/other"], "Path('../examples/other/note.txt').read_text().strip()"))
    out = tmp_path / "out"
    proc = run_build(src, out)
    assert proc.returncode == 0, f"the small book did not build:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}"
    return Book(src=src, out=out, output=proc.stdout, executed=executed_pages(proc.stdout, src),
                outputs=[proc.stdout])


@pytest.fixture
def small_book(small_book_built: Book, tmp_path: Path) -> Book:
    """A copy of the built small book (sources, artefacts and site) of its own, for a test that edits it."""
    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(small_book_built.src, src, symlinks=True)
    shutil.copytree(small_book_built.out, out, symlinks=True)
    return Book(src=src, out=out, output=small_book_built.output, executed=list(small_book_built.executed),
                outputs=list(small_book_built.outputs))


def test_editing_an_example_reexecutes_exactly_the_chapters_using_it(small_book: Book) -> None:
    assert _executed(small_book, small_book.outputs[0]) == [
        "chapters/a-uses-greeting", "chapters/b-uses-both", "chapters/c-uses-other"]
    initial = {doc: r.start for doc, r in records(small_book.src, small_book.out) if r}
    unchanged = small_book.build()
    assert unchanged.returncode == 0, unchanged.stdout[-3000:]
    assert _executed(small_book, unchanged.stdout) == []
    (small_book.src / "examples" / "greeting" / "message.txt").write_text("hello, incremental\n")
    proc = small_book.build()
    assert proc.returncode == 0, proc.stdout[-3000:]
    users = _pages_using(small_book.src, "examples/greeting")
    assert users == ["chapters/a-uses-greeting", "chapters/b-uses-both"]
    assert _executed(small_book, proc.stdout) == users
    for page in users:
        outputs = [o.get_text().strip() for o in small_book.page(page).select("div.cell_output")]
        assert "hello, incremental" in outputs, page
    assert "unchanged" in small_book.page("chapters/c-uses-other").get_text()
    # The record of the last build: each page with the start of the execution it rendered (A and B anew, C the first).
    record = read_record(small_book.out)
    assert record is not None and record.builds == 3
    assert set(record.executed) == set(initial)
    assert [doc for doc in sorted(initial) if record.executed[doc] != initial[doc]] == users


def test_a_pull_request_build_reexecutes_exactly_the_pages_using_a_changed_example(small_book: Book,
                                                                                  tmp_path: Path) -> None:
    """As the workflow's pull-request job does: take main's artefacts (here: the small book's first build), change
    an example, build. Only the pages whose inputs digest differs from those artefacts execute."""
    main_artefacts = small_book.out / "artefacts"
    pr_out = tmp_path / "pr-out"
    shutil.copytree(main_artefacts, pr_out / "artefacts")  # actions/download-artifact
    (small_book.src / "examples" / "other" / "note.txt").write_text("changed in the pull request\n")
    listed = subprocess.run([sys.executable, "-m", "dockerlab", "stale", "--source", str(small_book.src),
                             "--out", str(pr_out)], capture_output=True, text=True, cwd=small_book.src)
    assert listed.returncode == 0, listed.stderr
    users = _pages_using(small_book.src, "examples/other")
    assert users == ["chapters/b-uses-both", "chapters/c-uses-other"]
    assert listed.stdout.split() == users
    proc = run_build(small_book.src, pr_out)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert executed_pages(proc.stdout, small_book.src) == users
    page = BeautifulSoup((pr_out / "html" / "chapters" / "c-uses-other.html").read_text(), "html.parser")
    assert "changed in the pull request" in page.get_text()


def test_a_build_failing_on_one_page_reexecutes_only_that_page_next_time(small_book: Book) -> None:
    """A page fails (its example says so); the pages before it keep their artefacts and the site is removed. Once
    the example is fixed, the next build executes only the failed page."""
    flaky = small_book.src / "examples" / "flaky"
    flaky.mkdir()
    (flaky / "state.txt").write_text("broken\n")
    cell = ("```{code-cell} ipython3\nfrom pathlib import Path\n\n"
            "state = Path('../examples/flaky/state.txt').read_text().strip()\n"
            "assert state == 'fixed', f'the example is {state}'\nprint(state)\n```\n")
    (small_book.src / "chapters" / "d-flaky.md").write_text(myst_notebook("D", ["examples/flaky"], cell))
    before = {doc: r.start for doc, r in records(small_book.src, small_book.out) if r}
    failed = small_book.build()
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines()[-1].startswith(
        f"The book build failed: {small_book.src}/chapters/d-flaky.md: AssertionError: the example is broken")
    assert not (small_book.out / "html").exists()
    after_failure = {doc: r.start for doc, r in records(small_book.src, small_book.out) if r}
    assert after_failure == before  # a, b and c kept theirs; d has none
    (flaky / "state.txt").write_text("fixed\n")
    proc = small_book.build()
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert executed_pages(proc.stdout, small_book.src) == ["chapters/d-flaky"]
    assert "fixed" in small_book.page("chapters/d-flaky").get_text()


def _article(html: Path) -> str:
    """A page's body as a reader sees it: the article's HTML, without the ids Sphinx numbers per build."""
    article = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser").select_one("article")
    assert article is not None, html
    return str(article)


def test_rendering_from_artefacts_gives_the_page_bodies_of_an_in_process_build(small_book: Book,
                                                                               tmp_path: Path) -> None:
    """The same small book executed in-process by myst-nb while Sphinx reads it (``nb_execution_mode=force``, the
    book's way before artefacts) and rendered from artefacts: every page body is the same."""
    inline = tmp_path / "inline"
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-nW", "-q", "-D", "nb_execution_mode=force",
                           "-d", str(inline / "doctrees"), str(small_book.src), str(inline / "html")],
                          capture_output=True, text=True, cwd=small_book.src, timeout=600,
                          env={**os.environ, "CH09_ROOT": str(small_book.src)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    for page in ("chapters/a-uses-greeting", "chapters/b-uses-both", "chapters/c-uses-other", "index"):
        assert _article(inline / "html" / f"{page}.html") == _article(small_book.html_dir / f"{page}.html"), page


def test_rendering_executed_nothing_and_read_every_page_from_its_artefact(built_book) -> None:
    """The render step's own log: myst-nb took every notebook page it read from the cache the artefacts filled,
    and executed none."""
    for log in [*built_book.outputs, (built_book.out / "reports" / "sphinx-build.log").read_text(encoding="utf-8")]:
        assert "Executing notebook" not in log
        cached = {line.split(": Using cached notebook")[0] for line in log.splitlines()
                  if "Using cached notebook" in line}
        assert {Path(p).resolve().relative_to(built_book.src.resolve()).with_suffix("").as_posix()
                for p in cached} <= set(built_book.executed)


def _sleeping_chapter(title: str, depends: list[str], cells: list[tuple[float, bool]], *,
                      measures_time: bool = False) -> str:
    """A page of cells that sleep (seconds, tagged ``untimed``), for the scheduling test."""
    body = "".join("```{code-cell} ipython3\n" + (":tags: [untimed]\n" if untimed else "")
                   + f"import time\n\ntime.sleep({seconds})\n```\n\n" for seconds, untimed in cells)
    page = myst_notebook(title, depends, body)
    return page.replace("depends:\n", "measures: [time]\ndepends:\n") if measures_time else page


def _span(start: str, end: str) -> tuple[float, float]:
    from datetime import datetime

    return datetime.fromisoformat(start).timestamp(), datetime.fromisoformat(end).timestamp()


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def test_pages_execute_side_by_side_but_a_timed_cell_holds_the_engine_alone(tmp_path: Path) -> None:
    """``dockerlab execute --jobs 3``: pages that build different examples overlap in time; two that build the same
    example never do; on a page that says ``measures: [time]``, a cell not tagged ``untimed`` overlaps no cell of
    any other page, and the records say which cells held the engine alone."""
    src = tmp_path / "src"
    (src / "chapters").mkdir(parents=True)
    shutil.copy2(ROOT / "conf.py", src / "conf.py")
    shutil.copytree(ROOT / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("x", "y", "z"):
        (src / "examples" / name).mkdir(parents=True)
        (src / "examples" / name / "f.txt").write_text(name)
    pages = {"p-x-long": (["examples/x"], [(1.0, False), (1.0, False)], False),
             "q-y-long": (["examples/y"], [(1.0, False), (1.0, False)], False),
             "r-x-short": (["examples/x"], [(0.3, False)], False),
             "s-times": (["examples/z"], [(0.5, True), (0.5, False)], True)}
    for stem, (depends, cells, timed) in pages.items():
        (src / "chapters" / f"{stem}.md").write_text(_sleeping_chapter(stem, depends, cells, measures_time=timed))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "dockerlab", "execute", "--jobs", "3", "--source", str(src),
                           "--out", str(out)], cwd=src, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(src / "src"), "CH09_ROOT": str(src)})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    found = {doc.split("/")[-1]: r for doc, r in records(src, out) if r}
    assert sorted(found) == sorted(pages)
    spans = {stem: _span(r.start, r.end) for stem, r in found.items()}
    assert _overlap(spans["p-x-long"], spans["q-y-long"])  # nothing shared: side by side
    assert not _overlap(spans["p-x-long"], spans["r-x-short"])  # both build examples/x
    assert [c.alone for c in found["s-times"].cells] == [False, True]
    assert not any(c.alone for stem in ("p-x-long", "q-y-long", "r-x-short") for c in found[stem].cells)
    timed = next(c for c in found["s-times"].cells if c.alone)
    others = [_span(c.start, c.end) for stem, r in found.items() if stem != "s-times" for c in r.cells]
    assert not any(_overlap(_span(timed.start, timed.end), other) for other in others)
    assert "s-times.md ... (it measures times: it executes alone)" in proc.stdout
