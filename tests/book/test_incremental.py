"""Incremental builds: nothing changed -> no notebook runs; an example changed -> exactly its chapters run.

The whole book is built once per test run (``built_book``: a fresh build, or ``make html``'s when it is
current); rebuilding it without a change costs no execution, so that is checked on it. Editing an example
and rebuilding would execute its chapters a second time, so that is checked on a small book instead (as
MyST-NB's own tests build small projects): the book's real ``conf.py``, ``_static`` and helper package, and
three tiny chapters -- two that list an example in ``depends:``, one that lists none.

The rebuild leaves the first build's output as it was, so these tests may run in any order with the others.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

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


@pytest.fixture
def small_book(tmp_path: Path) -> Book:
    """A three-chapter book with the real configuration, built once."""
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


def test_editing_an_example_reexecutes_exactly_the_chapters_using_it(small_book: Book) -> None:
    assert _executed(small_book, small_book.outputs[0]) == [
        "chapters/a-uses-greeting", "chapters/b-uses-both", "chapters/c-uses-other"]
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
    # The record of the last build: each page with the build that executed it (A and B the third, C the first).
    record = read_record(small_book.out)
    assert record is not None and record.builds == 3
    assert record.executed == {"chapters/a-uses-greeting": 3, "chapters/b-uses-both": 3, "chapters/c-uses-other": 1}
