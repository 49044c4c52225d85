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
