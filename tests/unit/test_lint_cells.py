"""ruff over the pages' code cells: a finding names the page and the line of the page it is on."""

from __future__ import annotations

import shutil
from pathlib import Path

from dockerlab.notebooks import lint_cells
from tests.book.conftest import myst_notebook
from tests.conftest import ROOT


def _book(tmp_path: Path, body: str) -> Path:
    root = tmp_path / "book"
    (root / "chapters").mkdir(parents=True)
    shutil.copy2(ROOT / "pyproject.toml", root / "pyproject.toml")
    (root / "chapters" / "a.md").write_text(myst_notebook("A", [], body))
    return root


def test_a_finding_names_the_page_and_its_line(tmp_path: Path) -> None:
    root = _book(tmp_path, "```{code-cell} ipython3\n:tags: [hide-input]\n\nimport os\nx = 1;\n```\n\n"
                           "Text.\n\n```{code-cell} ipython3\nimport json\nprint(json.dumps(x))\n```\n")
    page = (root / "chapters" / "a.md").read_text().splitlines()
    line = page.index("import os") + 1
    assert lint_cells(root) == [f"chapters/a.md:{line}:8: F401 `os` imported but unused"]


def test_notebook_idioms_pass(tmp_path: Path) -> None:
    # An import in a later cell and a `;` that hides a cell's value are how notebooks are written.
    root = _book(tmp_path, "```{code-cell} ipython3\nx = 1\n```\n\n```{code-cell} ipython3\nimport json\n"
                           "json.dumps(x);\n```\n")
    assert lint_cells(root) == []


def test_the_books_pages_pass() -> None:
    assert lint_cells(ROOT) == []
