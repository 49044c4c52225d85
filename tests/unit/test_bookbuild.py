
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
