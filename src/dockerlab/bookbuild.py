"""Build the book with sphinx-build and turn any failure into one clear sentence.

A failing cell makes myst-nb raise and Sphinx crash with a long report; a warning fails
the build under ``-W``. Either way this wrapper

* prints one line naming the page and the cell's own error (e.g. docker's message for a
  broken Dockerfile, or the timeout),
* keeps the full report under ``<out>/reports/``,
* removes the HTML so no stale page is left looking current, and
* exits non-zero.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ERROR_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Unavailable|Timeout\w*)): (.+)$")
_CRASH_LOG = re.compile(r"The full traceback has been saved in:\s*\n?\s*(\S+)")
_FAILED_PAGE = re.compile(r"ExecutionError: (\S+\.(?:md|ipynb))$", re.M)
_WARNING = re.compile(r"^(.*?)(?:: )?(WARNING|ERROR): (.+)$")


@dataclass(frozen=True)
class Failure:
    """What went wrong, for one sentence."""

    page: str
    error: str

    def sentence(self) -> str:
        where = f"{self.page}: " if self.page else ""
        return f"The book build failed: {where}{self.error}"


def summarize_failure(output: str, crash_log: str = "") -> Failure:
    """Find the page and the root error in sphinx-build's output (and its crash log).

    >>> summarize_failure("ExecutionError: /b/chapters/x.md", "ValueError: bad").sentence()
    'The book build failed: /b/chapters/x.md: ValueError: bad'
    """
    text = ANSI.sub("", crash_log + "\n" + output)
    pages = _FAILED_PAGE.findall(text)
    page_match = bool(pages)
    page = pages[-1] if pages else ""
    if page_match:
        # The cell's own exception is the last error line before the chained Sphinx traceback.
        cell_part = text.split("The above exception was the direct cause")[0]
        errors = [m for line in cell_part.splitlines() if (m := _ERROR_LINE.match(line.strip()))]
        errors = [m for m in errors if not m.group(1).endswith("ExecutionError")]
        if errors:
            name, message = errors[-1].group(1), errors[-1].group(2)
            return Failure(page, f"{name.rsplit('.', 1)[-1]}: {message.strip()}")
        if "timed out" in cell_part:
            line = next(text for text in cell_part.splitlines() if "timed out" in text)
            return Failure(page, line.strip())
        return Failure(page, "a notebook cell failed (see the report)")
    for line in text.splitlines():
        match = _WARNING.match(line.strip())
        if match and match.group(2) in ("WARNING", "ERROR"):
            return Failure(match.group(1).strip(),
                           f"Sphinx {match.group(2).lower()} (warnings are errors): {match.group(3).strip()}")
    errors = [m for line in text.splitlines() if (m := _ERROR_LINE.match(line.strip()))]
    if errors:
        return Failure("", f"{errors[-1].group(1)}: {errors[-1].group(2)}")
    return Failure("", "sphinx-build exited with an error (see the log)")


def _stop(proc: subprocess.Popen[str], grace: float = 30.0) -> None:
    """Give sphinx-build (and the kernel it runs) time to finish its cleanup, then kill it."""
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def book_pages(source: Path) -> list[Path]:
    """The MyST pages Sphinx reads: the front page, the status page and every chapter."""
    pages = [source / "index.md", source / "status.md", *sorted((source / "chapters").glob("*.md"))]
    return [p for p in pages if p.is_file()]


def build(source: Path, out: Path, *, extra: list[str] | None = None) -> int:
    """Run ``sphinx-build -nW --keep-going`` from ``source`` into ``out/html``; return the exit code."""
    from dockerlab.errors import FrontMatterError
    from dockerlab.runstate import sweep
    from dockerlab.sphinxext import check_pages

    html, doctrees, reports = out / "html", out / "doctrees", out / "reports"
    for left in sweep(source.resolve()):
        print(f"dockerlab: removed what an interrupted run left: {left}", file=sys.stderr)
    try:
        check_pages(source, book_pages(source))
    except FrontMatterError as err:
        # Before any notebook runs: a page that cannot say what it depends on is not built at all.
        shutil.rmtree(html, ignore_errors=True)
        print(f"The book build failed: {err}", file=sys.stderr)
        return 1
    reports.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-nW", "--keep-going", "-d", str(doctrees),
           *(extra or []), str(source), str(html)]
    log_path = reports / "sphinx-build.log"
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        assert proc.stdout is not None
        lines = []
        try:
            for line in proc.stdout:
                sys.stdout.write(line)
                log.write(line)
                log.flush()  # the report can be followed while the build runs
                lines.append(line)
            code = proc.wait()
        except KeyboardInterrupt:
            # Ctrl-C reaches sphinx-build too (same process group); wait for it, then leave no
            # half-built site behind.
            _stop(proc)
            sweep(source.resolve())  # the kernel is gone: what its cells started must go too
            shutil.rmtree(html, ignore_errors=True)
            shutil.rmtree(doctrees, ignore_errors=True)
            print(f"\nThe book build was interrupted; no HTML was left in {html}.", file=sys.stderr)
            return 130
    output = "".join(lines)
    # A cell that timed out or failed may have left a registry, a second engine or a namespace behind.
    for left in sweep(source.resolve()):
        print(f"dockerlab: removed what a failed cell left: {left}", file=sys.stderr)
    if code == 0:
        print(f"\nThe book is ready: {html.resolve() / 'index.html'}")
        return 0
    crash = ""
    match = _CRASH_LOG.search(ANSI.sub("", output))
    if match and Path(match.group(1)).is_file():
        crash = Path(match.group(1)).read_text(encoding="utf-8", errors="replace")
        shutil.copy(match.group(1), reports / "sphinx-crash.log")
    failure = summarize_failure(output, crash)
    # Nothing half-built may look current: drop the HTML, and the environment when Sphinx
    # saved it despite the error (a warning), so the next build reads every page again.
    shutil.rmtree(html, ignore_errors=True)
    if not crash:
        shutil.rmtree(doctrees, ignore_errors=True)
    print(f"\n{failure.sentence()} (full report: {reports}/)", file=sys.stderr)
    return 1
