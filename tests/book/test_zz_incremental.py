"""Incremental builds: nothing changed -> no notebook runs; an example changed -> exactly its chapters run.

Named zz so it runs after the other book tests, which read the first build.
"""

from pathlib import Path

from dockerlab.sphinxext import front_matter_depends
from tests.book.conftest import executed_notebooks

HELLO = Path("examples/hello/hello.go")


def _pages_using(src: Path, example: str) -> list[str]:
    pages = []
    for md in sorted(src.glob("**/*.md")):
        if "_build" in md.parts:
            continue
        if example in front_matter_depends(md.read_text(encoding="utf-8")):
            pages.append(str(md.relative_to(src).with_suffix("")))
    return pages


def _executed(book, output: str) -> list[str]:
    return sorted(str(Path(p).relative_to(book.src)) for p in executed_notebooks(output))


def test_first_build_executed_every_notebook(built_book) -> None:
    pages = sorted(str(p.relative_to(built_book.src).with_suffix(""))
                   for p in built_book.src.glob("**/*.md")
                   if p.read_text(encoding="utf-8").lstrip().startswith("---") and "kernelspec" in p.read_text())
    assert _executed(built_book, built_book.outputs[0]) == pages


def test_rebuild_without_changes_executes_nothing(built_book) -> None:
    proc = built_book.build()
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert _executed(built_book, proc.stdout) == []


def test_editing_hello_reexecutes_exactly_the_chapters_using_it(built_book) -> None:
    users = _pages_using(built_book.src, "examples/hello")
    assert "chapters/02-1-scratch" in users
    assert len(users) < len(_executed(built_book, built_book.outputs[0]))
    source = built_book.src / HELLO
    original = source.read_text()
    source.write_text(original.replace("hello, scratch!", "hello, incremental!"))
    try:
        proc = built_book.build()
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert _executed(built_book, proc.stdout) == users
        outputs = [o.get_text().strip() for o in built_book.page("chapters/02-1-scratch").select("div.cell_output")]
        assert "hello, incremental!" in outputs
    finally:
        # The temporary copy only; the engine's ch09/hello is rebuilt from the real sources by
        # test_zz_notebooks, which runs next.
        source.write_text(original)
