"""Build the book with sphinx-build and turn any failure into one clear sentence.

A failing cell makes myst-nb raise and Sphinx crash with a long report; a warning fails
the build under ``-W``. Either way this wrapper

* prints one line naming the page and the cell's own error (e.g. docker's message for a
  broken Dockerfile, or the timeout),
* keeps the full report under ``<out>/reports/``,
* removes the HTML so no stale page is left looking current, and
* exits non-zero.

A build that succeeds records what it was built from in ``<out>/reports/inputs.json``: a digest of the
book's inputs (:data:`INPUTS`) and the notebook pages whose outputs the HTML holds, each with the build
that executed it. ``make test`` reads the record (:func:`reusable_build`) and tests a ``make html`` made from
the same inputs instead of executing every chapter again. A build that starts removes the record first, so a
build that fails or is interrupted leaves none.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
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


#: What a build reads from the checkout: the pages, examples, bases, static files, the helper package and
#: the pinned packages (``.venv`` and ``_build`` stay out).
INPUTS = ("conf.py", "index.md", "status.md", "glossary.md", "chapters", "examples", "bases", "_static", "src",
          "requirements.txt", "pyproject.toml")
_EXECUTED = re.compile(r"(\S+)\.md: Executing notebook")


def inputs_digest(source: Path) -> str:
    """A SHA-256 over each of :data:`INPUTS` under ``source``, digested as a page's ``depends:`` are
    (:func:`dockerlab.sphinxext.digest_path`: names and bytes, caches left out).

    >>> import tempfile; d = Path(tempfile.mkdtemp()); _ = (d / "conf.py").write_text("x = 1")
    >>> a = inputs_digest(d); _ = (d / "conf.py").write_text("x = 2"); a == inputs_digest(d)
    False
    """
    from dockerlab.sphinxext import digest_path

    digest = hashlib.sha256()
    for name in INPUTS:
        digest.update(f"{name}\0{digest_path(source / name)}\0".encode())
    return digest.hexdigest()


def executed_pages(output: str, source: Path) -> list[str]:
    """The pages (``chapters/02-1-scratch``) myst-nb executed in one build, from sphinx-build's log."""
    found = set()
    for path in _EXECUTED.findall(ANSI.sub("", output)):
        try:
            found.add(str(Path(path).resolve().relative_to(source.resolve())))
        except ValueError:
            found.add(path)
    return sorted(found)


def inputs_record(out: Path) -> Path:
    """Where a successful build records its inputs: ``<out>/reports/inputs.json``."""
    return out / "reports" / "inputs.json"


@dataclass(frozen=True)
class BuildRecord:
    """What a successful build was made from, read back from :func:`inputs_record`."""

    digest: str
    #: Every notebook page whose outputs the HTML holds, with the build (1, 2, ...) that executed it.
    executed: dict[str, int]
    builds: int


def read_record(out: Path) -> BuildRecord | None:
    """The record of the last successful build into ``out``, or ``None`` (none, or unreadable)."""
    try:
        data = json.loads(inputs_record(out).read_text(encoding="utf-8"))
        return BuildRecord(str(data["digest"]), {str(k): int(v) for k, v in data["executed"].items()},
                           int(data["builds"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _write_record(source: Path, out: Path, digest: str, previous: BuildRecord | None, output: str) -> None:
    builds = previous.builds + 1 if previous else 1
    executed = dict(previous.executed) if previous else {}
    executed.update({page: builds for page in executed_pages(output, source)})
    pages = {str(p.relative_to(source).with_suffix("")) for p in book_pages(source)}
    record = {"digest": digest, "builds": builds,
              "executed": {page: n for page, n in sorted(executed.items()) if page in pages}}
    path = inputs_record(out)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def reusable_build(source: Path, out: Path) -> BuildRecord | None:
    """The record of a build in ``out`` that a test may read instead of building again, or ``None``.

    It must have succeeded from exactly the inputs ``source`` holds now, its HTML must still be there, and
    every notebook page must have been executed by it or by an earlier build whose outputs it kept.
    """
    from dockerlab.notebooks import notebook_sources

    record = read_record(out)
    if record is None or not (out / "html" / "index.html").is_file():
        return None
    wanted = {str(p.relative_to(source).with_suffix("")) for p in notebook_sources(source)}
    if not wanted <= record.executed.keys() or record.digest != inputs_digest(source):
        return None
    return record


def book_pages(source: Path) -> list[Path]:
    """The MyST pages Sphinx reads: the front page, the status page and every chapter."""
    pages = [source / "index.md", source / "status.md", *sorted((source / "chapters").glob("*.md"))]
    return [p for p in pages if p.is_file()]


def build(source: Path, out: Path, *, extra: list[str] | None = None) -> int:
    """Run ``sphinx-build -nW --keep-going`` from ``source`` into ``out/html``; return the exit code."""
    from dockerlab.errors import FrontMatterError
    from dockerlab.runstate import RUN_ENV, stop_owners, sweep
    from dockerlab.sphinxext import check_pages

    html, doctrees, reports = out / "html", out / "doctrees", out / "reports"
    # Until this build succeeds, nothing may say what the HTML was built from. Earlier builds' executions
    # count only while Sphinx's saved environment (which holds their outputs) is still there.
    previous = read_record(out) if doctrees.is_dir() else None
    inputs_record(out).unlink(missing_ok=True)
    digest = inputs_digest(source)  # before reading: an edit made during the build must not look built
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
        run = uuid.uuid4().hex  # every record a kernel of this build writes names it (dockerlab.runstate)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                                env={**os.environ, RUN_ENV: run})
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
            # The kernel runs in a session of its own and may outlive sphinx-build: stop it, then undo
            # what its cells started.
            stop_owners(run, source.resolve())
            sweep(source.resolve())
            shutil.rmtree(html, ignore_errors=True)
            shutil.rmtree(doctrees, ignore_errors=True)
            print(f"\nThe book build was interrupted; no HTML was left in {html}.", file=sys.stderr)
            return 130
    output = "".join(lines)
    # A cell that timed out or failed may have left a registry, a second engine or a namespace behind.
    stop_owners(run, source.resolve())
    for left in sweep(source.resolve()):
        print(f"dockerlab: removed what a failed cell left: {left}", file=sys.stderr)
    if code == 0:
        _write_record(source, out, digest, previous, output)
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
