"""Run the chapters as a reader running them in Jupyter would: outside Sphinx, from their own folder.

``python -m dockerlab notebooks`` (``make notebooks``) reads each MyST text notebook with jupytext,
executes it with nbclient in the chapter's folder and writes the executed ``.ipynb`` files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dockerlab.artefacts import notebook_pages
from dockerlab.errors import FrontMatterError, NotebookError

CELL_TIMEOUT = 1800


@dataclass(frozen=True)
class ExecutedNotebook:
    source: Path
    output: Path
    code_cells: int


def execute_notebook(source: Path, output: Path, timeout: int = CELL_TIMEOUT) -> ExecutedNotebook:
    """Execute ``source`` (MyST markdown) in its own folder and write the executed notebook to ``output``."""
    import jupytext
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    from dockerlab.runstate import sweep

    notebook = jupytext.read(source)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(source.parent)}})
    try:
        client.execute()
    except CellTimeoutError as err:
        sweep()
        raise NotebookError(
            f"{source.name}: a cell timed out after {timeout} s ({str(err).splitlines()[0]})."
        ) from None
    except CellExecutionError as err:
        sweep()
        raise NotebookError(f"{source.name}: a cell failed: {err.ename}: {err.evalue}") from None
    output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, output)
    return ExecutedNotebook(source, output, sum(c.cell_type == "code" for c in notebook.cells))


def execute_all(
    root: Path, out: Path, names: list[str] | None = None, *, alone: bool = False
) -> list[ExecutedNotebook]:
    """Execute every notebook page (or those whose file stem is in ``names``) into ``out``.

    ``alone`` removes what the book made on the engine (bases kept) before each page, as if a
    reader opened that one notebook first: every page must build what it measures.
    """
    from dockerlab.runstate import sweep
    from dockerlab.sphinxext import check_pages

    sweep(root)
    try:
        check_pages(root, notebook_pages(root))
    except FrontMatterError as err:
        raise NotebookError(str(err)) from None
    done = []
    for source in notebook_pages(root):
        if names and source.stem not in names:
            continue
        target = out / source.relative_to(root).with_suffix(".ipynb")
        if alone:
            from dockerlab.cleanup import remove_project_objects

            remove_project_objects(root=root)
        done.append(execute_notebook(source, target))
    if names and len(done) != len(names):
        raise NotebookError(f"no notebook page named {sorted(set(names) - {d.source.stem for d in done})}.")
    return done


#: Rules that notebook idioms break on purpose: an import in a later cell (E402), a trailing ``;`` that keeps
#: a cell's last value from being shown (E703), and the layout of an import block (I001): ruff's isort writes a
#: long ``from … import (…)`` one name per line, which would lengthen the first cell of every page by a screen.
#: And E501: ruff counts a Hangul syllable as two columns, and the cells' Korean sentences are wrapped at 120
#: characters like the Markdown around them (44 lines would break otherwise, all of them Korean text).
CELL_RUFF_IGNORES = ("E402", "E703", "I001", "E501")


def cell_code(page: Path) -> tuple[str, list[int]]:
    """The code cells of a MyST page as one Python module, and for each of its lines the page's line number.

    A cell's options (``:tags: [...]`` lines, or a ``---`` block) are not code; cells are three blank lines
    apart, as functions at module level.

    >>> import tempfile
    >>> page = Path(tempfile.mkdtemp()) / "p.md"
    >>> _ = page.write_text("# T\\n\\n```{code-cell} ipython3\\n:tags: [hide-input]\\n\\nx = 1\\n```\\n")
    >>> cell_code(page)
    ('x = 1\\n', [6])
    """
    lines = page.read_text(encoding="utf-8").splitlines()
    text: list[str] = []
    origin: list[int] = []
    index = 0
    while index < len(lines):
        if not lines[index].startswith("```{code-cell}"):
            index += 1
            continue
        index += 1
        if index < len(lines) and lines[index].strip() == "---":  # a YAML block of options
            index += 1
            while index < len(lines) and lines[index].strip() != "---":
                index += 1
            index += 1
        else:
            while index < len(lines) and lines[index].startswith(":"):
                index += 1
        body: list[tuple[int, str]] = []
        while index < len(lines) and not lines[index].startswith("```"):
            body.append((index + 1, lines[index]))
            index += 1
        while body and not body[0][1].strip():
            body.pop(0)
        while body and not body[-1][1].strip():
            body.pop()
        if not body:
            continue
        if text:
            text.extend(["", "", ""])
            origin.extend([origin[-1]] * 3)
        for number, line in body:
            text.append(line)
            origin.append(number)
    return ("\n".join(text) + "\n" if text else ""), origin


def lint_cells(root: Path) -> list[str]:
    """ruff over the code cells of every notebook page, with the project's own rules (``pyproject.toml``) but
    :data:`CELL_RUFF_IGNORES`: one line per finding, naming the page and its line (``chapters/x.md:12:5: F401 …``)."""
    import json
    import subprocess
    import sys

    findings = []
    for page in notebook_pages(root):
        code, origin = cell_code(page)
        if not code:
            continue
        proc = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--config", str(root / "pyproject.toml"), "--extend-ignore",
             ",".join(CELL_RUFF_IGNORES), "--output-format", "json", "--exit-zero", "--stdin-filename",
             str(page.with_suffix(".py")), "-"],
            input=code, capture_output=True, text=True, cwd=root)
        if proc.returncode != 0:
            raise NotebookError(f"{page.relative_to(root)}: ruff could not check the cells: {proc.stderr.strip()}")
        for item in json.loads(proc.stdout or "[]"):
            row, column = item["location"]["row"], item["location"]["column"]
            line = origin[min(row, len(origin)) - 1]
            findings.append(f"{page.relative_to(root)}:{line}:{column}: {item['code']} {item['message']}")
    return findings
