
from dockerlab.bookbuild import summarize_failure

CELL_ERROR_LOG = """
    \x1b[31mExampleBuildError\x1b[39m: examples/hello: docker build failed: dockerfile parse error line 3: unknown instruction: COPPY
The above exception was the direct cause of the following exception:
Traceback (most recent call last):
myst_nb.core.execute.base.ExecutionError: /tmp/book/chapters/02-1-scratch.md
"""

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
