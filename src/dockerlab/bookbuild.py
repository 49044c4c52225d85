"""Build the book in two steps -- execute, then render -- and turn any failure into one clear sentence.

1. **Execute** (:func:`execute_stale`): every notebook page whose artefact (``dockerlab.artefacts``) is
   missing or stale is executed with nbclient in a child process, two at a time where they share no example
   (a cell of a page that measures times holds the engine alone); the pages that finished keep their
   artefacts whatever happens to another one, so a failed or interrupted build costs only its page next time.
2. **Render** (:func:`render`): ``sphinx-build -nW --keep-going`` builds the site from the artefacts and
   executes nothing (``dockerlab.sphinxext`` feeds them to myst-nb's cache and refuses a page without one).

A failing cell or a Sphinx warning (``-W``) fails the build. Either way this wrapper

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
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from dockerlab.artefacts import Record

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
_EXECUTED = re.compile(r"dockerlab: executing (\S+)\.md \.\.\.")


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
    """The pages (``chapters/02-1-scratch``) one build executed, from its output (:func:`execute_stale`'s lines).

    >>> executed_pages("dockerlab: executing chapters/a.md ...\\nx\\ndockerlab: executing status.md ...", Path("."))
    ['chapters/a', 'status']
    """
    found = set()
    for path in _EXECUTED.findall(ANSI.sub("", output)):
        rel = Path(path)
        if rel.is_absolute():
            try:
                rel = rel.resolve().relative_to(source.resolve())
            except ValueError:
                pass
        found.add(rel.as_posix())
    return sorted(found)


def inputs_record(out: Path) -> Path:
    """Where a successful build records its inputs: ``<out>/reports/inputs.json``."""
    return out / "reports" / "inputs.json"


@dataclass(frozen=True)
class BuildRecord:
    """What a successful build was made from, read back from :func:`inputs_record`."""

    digest: str
    #: Every notebook page whose outputs the HTML holds, with the start (UTC, ISO 8601) of the execution
    #: whose artefact it rendered: a page executed again shows a later start.
    executed: dict[str, str]
    builds: int


def read_record(out: Path) -> BuildRecord | None:
    """The record of the last successful build into ``out``, or ``None`` (none, or unreadable)."""
    try:
        data = json.loads(inputs_record(out).read_text(encoding="utf-8"))
        return BuildRecord(str(data["digest"]), {str(k): str(v) for k, v in data["executed"].items()},
                           int(data["builds"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _write_record(source: Path, out: Path, digest: str, previous: BuildRecord | None) -> None:
    from dockerlab.artefacts import records

    executed = {doc: record.start for doc, record in records(source, out) if record is not None}
    record = {"digest": digest, "builds": previous.builds + 1 if previous else 1, "executed": executed}
    path = inputs_record(out)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def reusable_build(source: Path, out: Path) -> BuildRecord | None:
    """The record of a build in ``out`` that a test may read instead of building again, or ``None``.

    It must have succeeded from exactly the inputs ``source`` holds now, its HTML must still be there, and
    every notebook page must have rendered a current artefact.
    """
    from dockerlab.artefacts import docname, notebook_pages, stale_pages

    record = read_record(out)
    if record is None or not (out / "html" / "index.html").is_file():
        return None
    wanted = {docname(source, p) for p in notebook_pages(source)}
    if not wanted <= record.executed.keys() or record.digest != inputs_digest(source) or stale_pages(source, out):
        return None
    return record


def book_pages(source: Path) -> list[Path]:
    """The MyST pages Sphinx reads: the front page, the status page and every chapter."""
    pages = [source / "index.md", source / "status.md", *sorted((source / "chapters").glob("*.md"))]
    return [p for p in pages if p.is_file()]


def cell_timeout(source: Path) -> int:
    """The per-cell timeout the book's ``conf.py`` sets (``nb_execution_timeout``), else the default."""
    import runpy

    from dockerlab.artefacts import CELL_TIMEOUT

    try:
        value = runpy.run_path(str(source / "conf.py")).get("nb_execution_timeout", CELL_TIMEOUT)
    except Exception:  # noqa: BLE001 - a conf.py that does not run fails in Sphinx with its own message
        return CELL_TIMEOUT
    return int(value) if isinstance(value, int) and value > 0 else CELL_TIMEOUT


def execute_stale(source: Path, out: Path, *, only: list[Path] | None = None, force: list[Path] | None = None,
                  log: TextIO | None = None, jobs: int | None = None) -> Failure | None:
    """Execute every notebook page (or those in ``only``) whose artefact is missing or stale, and those in
    ``force``; return the first failure or ``None``.

    Each page executes in a child process of its own, up to ``jobs`` (:func:`dockerlab.artefacts.default_jobs`)
    at once, as :func:`dockerlab.artefacts.startable` allows: never two pages that build the same example, and a
    page that measures times (``measures: time``) beside none, each of its cells holding the engine alone
    (:func:`dockerlab.artefacts.engine_turn`). After a failure no page starts;
    those executing finish. Each page that finishes keeps its artefact whatever happens to another one. Every
    line printed goes to ``log`` too.
    """
    from dockerlab.artefacts import (
        default_jobs,
        docname,
        execution_order,
        notebook_pages,
        page_traits,
        stale_pages,
        startable,
    )
    from dockerlab.errors import NotebookError

    def say(line: str) -> None:
        print(line, flush=True)
        if log is not None:
            log.write(line + "\n")
            log.flush()

    pages = notebook_pages(source)
    candidates = pages if only is None else [p for p in pages if p in only]
    chosen = set(stale_pages(source, out, candidates)) | set(force or [])
    todo = [p for p in pages if p in chosen]
    if not todo:
        say(f"dockerlab: every notebook page asked for has a current artefact in {out / 'artefacts'}; "
            "nothing to execute.")
        return None
    jobs = jobs or default_jobs()
    timeout = cell_timeout(source)
    say(f"dockerlab: {len(todo)} of {len(pages)} notebook pages to execute, up to {jobs} at a time: "
        f"{', '.join(docname(source, p) for p in todo)}")
    by_doc = {docname(source, p): p for p in todo}
    traits = {doc: page_traits(source, page) for doc, page in by_doc.items()}
    waiting = [docname(source, p) for p in execution_order(source, out, todo)]
    running: dict[str, subprocess.Popen[str]] = {}
    failure: Failure | None = None
    try:
        while waiting or running:
            if failure is None:
                for doc in startable(waiting, running, traits, jobs):
                    waiting.remove(doc)
                    lone = " (it measures times: it executes alone)" if traits[doc].times else ""
                    say(f"dockerlab: executing {by_doc[doc].relative_to(source)} ...{lone}")
                    running[doc] = _start_child(source, out, by_doc[doc], timeout)
            else:
                waiting.clear()
            done = [doc for doc, proc in running.items() if proc.poll() is not None]
            if not done:
                time.sleep(0.2)
                continue
            for doc in done:
                proc = running.pop(doc)
                rel = by_doc[doc].relative_to(source)
                try:
                    record = _finish_child(out, doc, proc.returncode)
                except NotebookError as err:
                    report = out / "reports" / f"{doc}.err.log"
                    report.parent.mkdir(parents=True, exist_ok=True)
                    report.write_text(err.report or str(err), encoding="utf-8")
                    say(f"dockerlab: {rel} failed; its traceback is in {report}")
                    failure = failure or Failure(str(by_doc[doc]), err.cell_error or str(err))
                    continue
                slow = ", ".join(f"{c.seconds:.0f} s in cell {c.index + 1} ({c.what})" for c in record.slowest(2))
                say(f"dockerlab: executed {rel} in {record.seconds:.1f} s; slowest: {slow}")
    except KeyboardInterrupt:
        _stop_all(list(running.values()))
        raise
    return failure


def _stop_all(procs: list[subprocess.Popen[str]], grace: float = 30.0) -> None:
    """Stop the pages still executing: Ctrl-C reached them too, a ``kill`` of the build did not, so each is told
    (SIGTERM) and given ``grace`` seconds in all before it is killed. What their kernels leave, the build's
    ``stop_owners`` and ``sweep`` undo."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _start_child(source: Path, out: Path, page: Path, timeout: int) -> subprocess.Popen[str]:
    """Start ``python -m dockerlab.artefacts`` on ``page``: a child of its own, as sphinx-build was, so Ctrl-C or
    a kill ends the child (and its kernel's cell) while this process, the build, goes on to stop what is left
    and sweep."""
    from dockerlab.artefacts import docname, failure_path

    failure_path(out, docname(source, page)).unlink(missing_ok=True)
    return subprocess.Popen([sys.executable, "-m", "dockerlab.artefacts", "--source", str(source), "--out",
                             str(out), "--timeout", str(timeout), str(page)], text=True)


def _finish_child(out: Path, doc: str, code: int) -> Record:
    """The record a finished child left for ``doc``; its failure as :class:`NotebookError`."""
    from dockerlab.artefacts import failure_path, read_record
    from dockerlab.errors import NotebookError

    failed = failure_path(out, doc)
    if code != 0:
        try:
            data = json.loads(failed.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise NotebookError(f"{doc}.md: its execution ended with exit code {code} and said nothing more.",
                                cell_error=f"the execution ended with exit code {code}") from None
        failed.unlink(missing_ok=True)
        raise NotebookError(str(data["message"]), cell_error=str(data["cell_error"]), report=str(data["report"]))
    record = read_record(out, doc)
    if record is None:
        raise NotebookError(f"{doc}.md: its execution succeeded but left no artefact.")
    return record


def _interrupted(html: Path) -> int:
    """Ctrl-C or a kill: no half-built site is left; one sentence; exit code 130."""
    shutil.rmtree(html, ignore_errors=True)
    print(f"\nThe book build was interrupted; no HTML was left in {html}.", file=sys.stderr)
    return 130


def _execute_step(source: Path, out: Path, *, only: list[Path] | None, force: list[Path] | None) -> int:
    """Run :func:`execute_stale` as one build's execution: its kernels are named by a run ID, and what a
    failed, timed-out or interrupted cell left is undone. Returns 0, 1 (a page failed) or 130."""
    from dockerlab.runstate import RUN_ENV, stop_owners, sweep

    html, reports = out / "html", out / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    run = uuid.uuid4().hex  # every record a kernel of this build writes names it (dockerlab.runstate)
    previous_run = os.environ.get(RUN_ENV)
    os.environ[RUN_ENV] = run
    failure, interrupted = None, False
    try:
        with open(reports / "execute.log", "w", encoding="utf-8") as log:
            failure = execute_stale(source, out, only=only, force=force, log=log)
    except KeyboardInterrupt:
        interrupted = True  # pages that finished keep their artefacts
    finally:
        # A kernel runs in a session of its own and may outlive its page's process: stop it, then undo what a
        # failed, timed-out or interrupted cell left (a registry, a second engine, a namespace).
        stop_owners(run, source.resolve())
        for left in sweep(source.resolve()):
            print(f"dockerlab: removed what a stopped cell left: {left}", file=sys.stderr)
        if previous_run is None:
            os.environ.pop(RUN_ENV, None)
        else:
            os.environ[RUN_ENV] = previous_run
    if interrupted:
        return _interrupted(html)
    if failure is not None:
        # The site would miss this page's new outputs: it must not look current.
        shutil.rmtree(html, ignore_errors=True)
        print(f"\n{failure.sentence()} (full report: {reports}/)", file=sys.stderr)
        return 1
    return 0


def _prepare(source: Path, out: Path) -> int:
    """What every build does first: sweep what an interrupted run left, and check every page's front matter."""
    from dockerlab.errors import FrontMatterError
    from dockerlab.runstate import sweep
    from dockerlab.sphinxext import check_pages

    for left in sweep(source.resolve()):
        print(f"dockerlab: removed what an interrupted run left: {left}", file=sys.stderr)
    try:
        check_pages(source, book_pages(source))
    except FrontMatterError as err:
        # Before any notebook runs: a page that cannot say what it depends on is not built at all.
        shutil.rmtree(out / "html", ignore_errors=True)
        print(f"The book build failed: {err}", file=sys.stderr)
        return 1
    return 0


def execute_pages(source: Path, out: Path, pages: list[Path] | None = None, *, force: bool = False) -> int:
    """``python -m dockerlab execute``: execute ``pages`` (default: every notebook page) whose artefact is
    missing or stale -- or all of them with ``force`` -- without rendering; return the exit code."""
    if code := _prepare(source, out):
        return code
    return _execute_step(source, out, only=pages, force=list(pages or []) if force else None)


def build(source: Path, out: Path, *, extra: list[str] | None = None, force: list[Path] | None = None,
          execute: bool = True) -> int:
    """Execute the pages whose artefact is missing or stale (and those in ``force``), then render the site
    from the artefacts with ``sphinx-build -nW --keep-going`` into ``out/html``; return the exit code.

    ``execute=False`` only renders: a page without a current artefact then fails the build with one sentence.
    """
    html, doctrees, reports = out / "html", out / "doctrees", out / "reports"
    # Until this build succeeds, nothing may say what the HTML was built from.
    previous = read_record(out)
    inputs_record(out).unlink(missing_ok=True)
    digest = inputs_digest(source)  # before reading: an edit made during the build must not look built
    if code := _prepare(source, out):
        return code
    if execute and (code := _execute_step(source, out, only=None, force=force)):
        return code
    code, output = render(source, out, extra=extra)
    if code == 130:
        return 130
    if code == 0:
        _write_record(source, out, digest, previous)
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


def render(source: Path, out: Path, *, extra: list[str] | None = None) -> tuple[int, str]:
    """Render the site from the artefacts with ``sphinx-build -nW --keep-going``: myst-nb reads each page's
    outputs from its artefact (``dockerlab.sphinxext`` loads them into its cache) and executes nothing.
    Returns the exit code and sphinx-build's output."""
    html, doctrees, reports = out / "html", out / "doctrees", out / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-nW", "--keep-going", "-d", str(doctrees),
           *(extra or []), str(source), str(html)]
    lines: list[str] = []
    with open(reports / "sphinx-build.log", "w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                sys.stdout.write(line)
                log.write(line)
                log.flush()  # the report can be followed while the build runs
                lines.append(line)
            code = proc.wait()
        except KeyboardInterrupt:
            _stop(proc)
            shutil.rmtree(doctrees, ignore_errors=True)
            return _interrupted(html), "".join(lines)
    return code, "".join(lines)
