
import dataclasses
import json
from pathlib import Path

from dockerlab import artefacts, bookbuild
from dockerlab.bookbuild import summarize_failure

CELL_ERROR_LOG = """
    \x1b[31mExampleBuildError\x1b[39m: examples/hello: docker build failed: dockerfile parse error line 3: unknown instruction: COPPY
The above exception was the direct cause of the following exception:
Traceback (most recent call last):
myst_nb.core.execute.base.ExecutionError: /tmp/book/chapters/02-1-scratch.md
"""  # noqa: E501 - a notebook's traceback, as nbclient reports it

TIMEOUT_LOG = """
nbclient.exceptions.CellTimeoutError: A cell timed out while it was being executed, after 5 seconds.
The message was: Cell execution timed out.
The above exception was the direct cause of the following exception:
myst_nb.core.execute.base.ExecutionError: /tmp/book/chapters/02-1-scratch.md
"""


def test_cell_error_names_page_and_docker_message() -> None:
    failure = summarize_failure("", CELL_ERROR_LOG)
    assert failure.page == "/tmp/book/chapters/02-1-scratch.md"
    assert failure.sentence() == ("The book build failed: /tmp/book/chapters/02-1-scratch.md: ExampleBuildError: "
                                  "examples/hello: docker build failed: dockerfile parse error line 3: "
                                  "unknown instruction: COPPY")


def test_timeout_is_named() -> None:
    failure = summarize_failure("", TIMEOUT_LOG)
    assert failure.error.startswith("CellTimeoutError: A cell timed out while it was being executed, after 5 seconds")


def test_warning_is_named() -> None:
    out = "reading sources...\n/b/index.md:13: WARNING: toctree glob pattern 'x' didn't match any documents\n"
    failure = summarize_failure(out)
    assert failure.page == "/b/index.md:13"
    assert failure.error.startswith("Sphinx warning (warnings are errors): toctree glob pattern")


def test_engine_down_inside_a_cell() -> None:
    log = ("EngineUnavailable: No Docker engine answers; run `scripts/ensure-docker` ...\n"
           "The above exception was the direct cause of the following exception:\n"
           "myst_nb.core.execute.base.ExecutionError: /b/status.md\n")
    assert summarize_failure("", log).error.startswith("EngineUnavailable: No Docker engine answers")


def test_a_page_with_broken_front_matter_stops_the_build_before_any_notebook_runs(tmp_path) -> None:
    import subprocess
    import sys

    src, out = tmp_path / "src", tmp_path / "out"
    (src / "chapters").mkdir(parents=True)
    (src / "conf.py").write_text("")
    (src / "index.md").write_text("# x\n")
    (src / "chapters" / "01-x.md").write_text("---\ndepends:\n  - examples/missing\n---\n# x\n")
    (out / "html").mkdir(parents=True)
    (out / "html" / "index.html").write_text("<p>old</p>")
    proc = subprocess.run([sys.executable, "-m", "dockerlab", "build", "--source", str(src), "--out", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "The book build failed: chapters/01-x.md: depends on examples/missing, which does not exist."]
    assert not (out / "html").exists()  # nothing half-built is left looking current
    assert not (out / "reports").exists()  # sphinx-build never started


# --------------------------------------------------------------------------- the record of a build's inputs

NOTEBOOK = "---\nkernelspec:\n  name: python3\n---\n\n# A\n"


def _checkout(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "chapters").mkdir(parents=True)
    (src / "conf.py").write_text("project = 'x'\n")
    (src / "index.md").write_text("# Book\n")
    (src / "status.md").write_text(NOTEBOOK)
    (src / "chapters" / "01-a.md").write_text(NOTEBOOK)
    (src / "examples" / "hello").mkdir(parents=True)
    (src / "examples" / "hello" / "Dockerfile").write_text("FROM scratch\n")
    return src


def _executed(src: Path, out: Path, *docs: str, start: str = "2026-12-07T00:00:00.000+00:00") -> None:
    """Artefacts for ``docs`` as an execution writes them: the notebook, and a record with the inputs' digest."""
    for doc in docs:
        notebook, record = artefacts.artefact_paths(out, doc)
        notebook.parent.mkdir(parents=True, exist_ok=True)
        notebook.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
        page = src / f"{doc}.md"
        made = artefacts.Record(f"{doc}.md", artefacts.page_digest(src, page), artefacts.page_inputs(src, page),
                                "26.1.5", "v0.13.1", {}, "local", "root", start, start, 1.0, [])
        record.write_text(json.dumps(dataclasses.asdict(made)))


def _built(src: Path, out: Path, previous: bookbuild.BuildRecord | None = None) -> None:
    (out / "html").mkdir(parents=True, exist_ok=True)
    (out / "html" / "index.html").write_text("<html></html>")
    (out / "reports").mkdir(exist_ok=True)
    bookbuild._write_record(src, out, bookbuild.inputs_digest(src), previous)


def test_a_build_of_the_same_inputs_with_every_page_executed_is_reusable(tmp_path: Path) -> None:
    src, out = _checkout(tmp_path), tmp_path / "out"
    _executed(src, out, "chapters/01-a", "status")
    _built(src, out)
    record = bookbuild.reusable_build(src, out)
    start = "2026-12-07T00:00:00.000+00:00"
    assert record is not None and record.executed == {"chapters/01-a": start, "status": start} and record.builds == 1


def test_an_edited_example_makes_the_build_not_reusable(tmp_path: Path) -> None:
    src, out = _checkout(tmp_path), tmp_path / "out"
    _executed(src, out, "chapters/01-a", "status")
    _built(src, out)
    (src / "examples" / "hello" / "Dockerfile").write_text("FROM scratch\nCOPY x /\n")
    assert bookbuild.reusable_build(src, out) is None


def test_a_page_never_executed_or_missing_html_makes_it_not_reusable(tmp_path: Path) -> None:
    src, out = _checkout(tmp_path), tmp_path / "out"
    _executed(src, out, "status")
    _built(src, out)
    assert bookbuild.reusable_build(src, out) is None  # chapters/01-a has no artefact
    _executed(src, out, "chapters/01-a")
    _built(src, out)
    assert bookbuild.reusable_build(src, out) is not None
    (out / "html" / "index.html").unlink()
    assert bookbuild.reusable_build(src, out) is None


def test_the_record_names_the_execution_each_page_rendered(tmp_path: Path) -> None:
    src, out = _checkout(tmp_path), tmp_path / "out"
    _executed(src, out, "chapters/01-a", "status")
    _built(src, out)
    first = bookbuild.read_record(out)
    _executed(src, out, "status", start="2026-12-07T01:00:00.000+00:00")
    _built(src, out, previous=first)
    record = bookbuild.reusable_build(src, out)
    assert record is not None and record.builds == 2
    assert record.executed == {"chapters/01-a": "2026-12-07T00:00:00.000+00:00",
                               "status": "2026-12-07T01:00:00.000+00:00"}


def test_a_build_that_stops_early_leaves_no_record(tmp_path: Path) -> None:
    src, out = _checkout(tmp_path), tmp_path / "out"
    _executed(src, out, "chapters/01-a", "status")
    _built(src, out)
    (src / "chapters" / "01-a.md").write_text("---\nkernelspec: [unclosed\n---\n")  # malformed front matter
    assert bookbuild.build(src, out) == 1
    assert not bookbuild.inputs_record(out).exists() and bookbuild.reusable_build(src, out) is None
