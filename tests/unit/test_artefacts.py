"""Artefacts: one page executed with a real kernel (no engine) into an executed notebook and its record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockerlab import artefacts
from dockerlab.errors import NotebookError
from tests.book.conftest import myst_notebook


def _book(tmp_path: Path, body: str) -> Path:
    root = tmp_path / "book"
    (root / "chapters").mkdir(parents=True)
    (root / "examples" / "x").mkdir(parents=True)
    (root / "examples" / "x" / "f.txt").write_text("one\n")
    (root / "chapters" / "a.md").write_text(myst_notebook("A", ["examples/x"], body))
    return root


SLEEPS = ("```{code-cell} ipython3\n# Wait a moment\nimport time\ntime.sleep(0.6)\n```\n\n"
          "```{code-cell} ipython3\nprint(open('../examples/x/f.txt').read().strip())\n```\n")


def test_an_executed_page_leaves_its_notebook_and_a_record_of_each_cell(tmp_path: Path) -> None:
    root = _book(tmp_path, SLEEPS)
    out = tmp_path / "out"
    page = root / "chapters" / "a.md"
    assert artefacts.stale_pages(root, out) == [page]
    record = artefacts.execute_page(root, out, page)
    notebook = json.loads(artefacts.artefact_paths(out, "chapters/a")[0].read_text())
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert ["".join(o.get("text", "")) for o in code[1]["outputs"]] == ["one\n"]
    # The timing is in the record, not in the notebook (jupyter-cache hashes cell metadata).
    assert all("execution" not in c["metadata"] for c in code)
    assert [c.what for c in record.cells] == ["Wait a moment", "print(open('../examples/x/f.txt').read().strip())"]
    assert record.slowest(1)[0].index == 0 and record.cells[0].seconds >= 0.5
    assert record.seconds >= record.cells[0].seconds
    assert record == artefacts.read_record(out, "chapters/a")
    assert artefacts.stale_pages(root, out) == []
    (root / "examples" / "x" / "f.txt").write_text("two\n")  # an input listed in depends: changed
    assert artefacts.stale_pages(root, out) == [page]
    assert "chapters/a" in artefacts.profile_text(root, out) and "(stale" in artefacts.profile_text(root, out)


def test_a_failing_cell_names_the_page_and_leaves_no_artefact(tmp_path: Path) -> None:
    root = _book(tmp_path, SLEEPS)
    out = tmp_path / "out"
    page = root / "chapters" / "a.md"
    artefacts.execute_page(root, out, page)
    page.write_text(myst_notebook("A", ["examples/x"], "```{code-cell} ipython3\nraise ValueError('no x')\n```\n"))
    with pytest.raises(NotebookError) as caught:
        artefacts.execute_page(root, out, page)
    assert caught.value.cell_error == "ValueError: no x"
    assert str(caught.value) == "chapters/a.md: a cell failed: ValueError: no x"
    assert artefacts.read_record(out, "chapters/a") is None
    assert not artefacts.artefact_paths(out, "chapters/a")[0].exists()


def test_an_unknown_page_name_is_one_sentence(tmp_path: Path) -> None:
    root = _book(tmp_path, SLEEPS)
    with pytest.raises(NotebookError, match=r"^no notebook page named 9-nine \(pages: chapters/a\)\.$"):
        artefacts.resolve_pages(root, ["a", "9-nine"])


def test_the_build_tooling_is_not_an_input_of_a_page_but_the_helpers_are(tmp_path: Path) -> None:
    root = _book(tmp_path, SLEEPS)
    package = root / "src" / "dockerlab"
    package.mkdir(parents=True)
    (package / "sizes.py").write_text("X = 1\n")
    (package / "rehearsal.py").write_text("Y = 1\n")
    page = root / "chapters" / "a.md"
    before = artefacts.page_digest(root, page)
    (package / "rehearsal.py").write_text("Y = 2\n")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "sizes.cpython-311.pyc").write_bytes(b"junk")
    assert artefacts.page_digest(root, page) == before
    (package / "sizes.py").write_text("X = 2\n")
    assert artefacts.page_digest(root, page) != before


def test_no_page_imports_the_build_tooling() -> None:
    import re

    from tests.conftest import ROOT

    tooling = {name.removesuffix(".py") for name in artefacts.TOOLING}
    for page in artefacts.notebook_pages(ROOT):
        used = set(re.findall(r"dockerlab\.(\w+)", page.read_text(encoding="utf-8")))
        assert not used & tooling, f"{page.name} imports {used & tooling}: it would be an input of the page"
