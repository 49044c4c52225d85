"""Execute once, render anywhere: each notebook page's execution is an artefact of its own.

Executing a page (:func:`execute_page`) reads it as myst-nb reads it, runs it with nbclient in the page's
folder and writes two files under ``<out>/artefacts/``:

* ``<docname>.ipynb`` -- the executed notebook, outputs and glue included;
* ``<docname>.json`` -- how it was measured (:class:`Record`): the digest of its inputs (the page, its
  ``depends:`` folders, the helper package, the pinned requirements), the engine and buildx versions, the
  machine, where (``$CH09_EXECUTED_WHERE``, e.g. a CI job) and when, every code cell's seconds, and what the
  engine said of each of the book's images right after the page ran (:func:`book_images`): the book tests
  compare a page's figures with that, so they hold where the site is rendered on a machine that never
  built the images (the CI's render job) and after the clean-slate tests removed them.

An artefact is *current* while the digest it records equals :func:`page_digest` of the checkout now.
Rendering (``dockerlab.sphinxext``) builds the site from current artefacts and executes nothing; ``make html``
executes the pages whose artefact is missing or stale first (:func:`stale_pages`), each in a process of its own
and two at a time (:func:`startable`: never two that build the same example; a cell of a page that measures
times holds the engine alone, :func:`engine_turn`), so a failed or interrupted page costs only that page: the
others keep theirs.

The files are written to a temporary name and renamed, the record last, so a killed execution never leaves
an artefact that looks current.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dockerlab.errors import DockerLabError, FrontMatterError, NotebookError

#: Folder under the build output that holds the artefacts.
FOLDER = "artefacts"
#: What every page's execution depends on besides the page and its ``depends:`` list.
COMMON_INPUTS = ("src", "requirements.txt", "pyproject.toml")
#: The modules of the helper package that run the build and never run in a page's kernel (no cell imports
#: them): editing them changes how pages are executed or rendered, not what a cell computes, so they are not
#: a page's input. ``tests/unit/test_artefacts.py`` checks that no page imports one.
TOOLING = ("__main__.py", "artefacts.py", "bookbuild.py", "bookimages.py", "cli.py", "korean_search.py", "notebooks.py",
           "particles.py", "rehearsal.py", "sphinxext.py")
#: Where an execution ran, when it is not this machine's own build (the CI matrix job sets it).
WHERE_ENV = "CH09_EXECUTED_WHERE"
CELL_TIMEOUT = 1800
#: How many pages may execute at once (:func:`default_jobs`).
JOBS_ENV = "CH09_JOBS"


def notebook_pages(root: Path) -> list[Path]:
    """Every page of the book that is a notebook (its front matter has a kernelspec): chapters, then status."""
    pages = sorted((root / "chapters").glob("*.md")) + [root / "status.md"]
    return [p for p in pages if p.is_file() and "kernelspec:" in p.read_text(encoding="utf-8").split("\n---", 1)[0]]


def docname(root: Path, page: Path) -> str:
    """``chapters/02-1-scratch`` for ``<root>/chapters/02-1-scratch.md``."""
    return page.resolve().relative_to(root.resolve()).with_suffix("").as_posix()


def resolve_pages(root: Path, names: Iterable[str]) -> list[Path]:
    """Pages named by docname, path or file stem (``chapters/02-1-scratch``, ``chapters/02-1-scratch.md``,
    ``02-1-scratch``); an unknown name is one sentence.

    >>> import tempfile; r = Path(tempfile.mkdtemp()); (r / "chapters").mkdir()
    >>> _ = (r / "chapters" / "a.md").write_text("---\\nkernelspec: {}\\n---\\n")
    >>> [p.name for p in resolve_pages(r, ["a", "chapters/a.md"])]
    ['a.md']
    """
    pages = notebook_pages(root)
    by_name: dict[str, Path] = {}
    for page in pages:
        doc = docname(root, page)
        for key in (doc, f"{doc}.md", page.stem):
            by_name[key] = page
    chosen: list[Path] = []
    unknown: list[str] = []
    for name in names:
        found = by_name.get(name.strip().removeprefix("./"))
        if found is None:
            unknown.append(name)
        elif found not in chosen:
            chosen.append(found)
    if unknown:
        raise NotebookError(f"no notebook page named {', '.join(unknown)} (pages: "
                            f"{', '.join(docname(root, p) for p in pages)}).")
    return sorted(chosen, key=pages.index)


def page_inputs(root: Path, page: Path) -> dict[str, str]:
    """The digest of each input of ``page``: the page itself, its ``depends:`` folders, :data:`COMMON_INPUTS`.

    Digested as the Sphinx extension digests them (:func:`dockerlab.sphinxext.digest_path`). A page whose
    front matter cannot be read raises :class:`FrontMatterError` naming the page.
    """
    from dockerlab.sphinxext import digest_path, front_matter_depends

    rel = page.resolve().relative_to(root.resolve()).as_posix()
    try:
        depends = front_matter_depends(page.read_text(encoding="utf-8"))
    except FrontMatterError as err:
        raise FrontMatterError(f"{rel}: {err}.") from None
    inputs = {rel: digest_path(page)}
    for name in sorted({*depends, *COMMON_INPUTS}):
        inputs[name] = _package_digest(root / name) if name == "src" else digest_path(root / name)
    return inputs


def _package_digest(src: Path) -> str:
    """The helper package's digest, as :func:`digest_path` makes it, less the build's own :data:`TOOLING`."""
    from dockerlab.sphinxext import SKIP_PARTS, digest_path

    if not src.is_dir():
        return digest_path(src)
    sha = hashlib.sha256()
    for folder in sorted(p for p in src.iterdir() if p.is_dir()):
        for item in sorted(folder.rglob("*")):
            if item.is_file() and not (item.parent == folder and item.name in TOOLING) \
                    and not SKIP_PARTS.intersection(item.relative_to(src).parts):
                rel = item.relative_to(src).as_posix()
                sha.update(f"{rel}\0{digest_path(item)}\0".encode())
    return sha.hexdigest()


def page_digest(root: Path, page: Path) -> str:
    """One SHA-256 over :func:`page_inputs`: an artefact recording another digest is stale.

    >>> import tempfile; r = Path(tempfile.mkdtemp()); p = r / "x.md"; _ = p.write_text("---\\n---\\n# a")
    >>> before = page_digest(r, p); _ = p.write_text("---\\n---\\n# b"); before == page_digest(r, p)
    False
    """
    sha = hashlib.sha256()
    for name, digest in page_inputs(root, page).items():
        sha.update(f"{name}\0{digest}\0".encode())
    return sha.hexdigest()


@dataclass(frozen=True)
class Cell:
    """One code cell's execution: its index among the page's code cells, its seconds, what it does."""

    index: int
    seconds: float
    what: str
    #: When it started and ended (UTC, ISO 8601; "" in records made before they were kept).
    start: str = ""
    end: str = ""
    #: Whether it held the engine alone (:func:`engine_turn`): a cell of a page that measures times.
    alone: bool = False


@dataclass(frozen=True)
class Record:
    """How one page was executed: written beside its executed notebook."""

    page: str
    digest: str
    inputs: dict[str, str]
    engine: str
    buildx: str
    machine: dict[str, str]
    where: str
    user: str
    start: str
    end: str
    seconds: float
    cells: list[Cell] = field(default_factory=list)
    #: Every image of the book's on the engine right after the page ran, by tag (:func:`book_images`).
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The engine's image store then (``overlay2``, ``containerd``; ``-`` when none answered).
    store: str = "-"

    def slowest(self, count: int = 3) -> list[Cell]:
        """The ``count`` slowest cells, slowest first."""
        return sorted(self.cells, key=lambda c: -c.seconds)[:count]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Record:
        cells = [Cell(int(c["index"]), float(c["seconds"]), str(c["what"]), str(c.get("start", "")),
                      str(c.get("end", "")), bool(c.get("alone", False))) for c in data.get("cells", [])]
        return cls(str(data["page"]), str(data["digest"]), {str(k): str(v) for k, v in data["inputs"].items()},
                   str(data["engine"]), str(data["buildx"]), {str(k): str(v) for k, v in data["machine"].items()},
                   str(data["where"]), str(data["user"]), str(data["start"]), str(data["end"]),
                   float(data["seconds"]), cells, dict(data.get("images") or {}), str(data.get("store", "-")))

    def image(self, tag: str) -> Any:
        """What the engine said of ``tag`` right after this page ran (a :class:`dockerlab.measure.ImageStats`).

        Raises ``KeyError`` naming the page when the engine held no image of the book's by that tag then.
        """
        from dockerlab.measure import ImageStats

        if tag not in self.images:
            raise KeyError(f"{self.page}: the engine held no image tagged {tag} when the page had run")
        data = self.images[tag]
        return ImageStats(tag=tag, id=str(data["id"]), size=int(data["size"]), layers=int(data["layers"]),
                          digests=tuple(data.get("digests") or ()),
                          labels=tuple((str(k), str(v)) for k, v in data.get("labels") or ()))

    def diff_ids(self, tag: str) -> list[str]:
        """The diff IDs of ``tag``'s layers right after this page ran (``RootFS.Layers``)."""
        self.image(tag)  # the same one sentence when there was no such image
        return [str(d) for d in self.images[tag].get("diff_ids") or []]


def artefact_paths(out: Path, doc: str) -> tuple[Path, Path]:
    """The executed notebook and its record for docname ``doc``."""
    base = out / FOLDER / doc
    return base.with_name(base.name + ".ipynb"), base.with_name(base.name + ".json")


def read_record(out: Path, doc: str) -> Record | None:
    """The record of ``doc``'s artefact, or ``None`` when there is none (or it cannot be read, or its
    notebook is gone)."""
    notebook, record = artefact_paths(out, doc)
    if not notebook.is_file():
        return None
    try:
        return Record.from_json(json.loads(record.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def is_current(root: Path, out: Path, page: Path) -> bool:
    """Whether ``page`` has an artefact made from exactly the inputs the checkout holds now."""
    record = read_record(out, docname(root, page))
    return record is not None and record.digest == page_digest(root, page)


def stale_pages(root: Path, out: Path, pages: Sequence[Path] | None = None) -> list[Path]:
    """The pages (all notebook pages, or ``pages``) whose artefact is missing or stale, in book order."""
    return [p for p in (notebook_pages(root) if pages is None else pages) if not is_current(root, out, p)]


def read_as_myst_nb(page: Path) -> Any:
    """The page as a notebook, read exactly as myst-nb's Sphinx parser reads it (so the cache key matches)."""
    from myst_nb.core.read import read_myst_markdown_notebook

    return read_myst_markdown_notebook(page.read_text(encoding="utf-8"), add_source_map=True, path=str(page))


def cell_summary(source: str, width: int = 60) -> str:
    """A few words for what a code cell does: its first comment, else its first line that is not an import.

    >>> cell_summary("from x import y\\n# Build the image\\nbuild()")
    'Build the image'
    >>> cell_summary("import os\\nresult = run_image('ch09/hello', command=['/hello'], more=1)", width=30)
    "result = run_image('ch09/hell…"
    """
    lines = [line.strip() for line in source.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("#") and not line.startswith("#|"):
            text = line.lstrip("#:").strip()
            if text:
                return text if len(text) <= width else text[: width - 1] + "…"
    for line in lines:
        if not line.startswith(("import ", "from ", "#")):
            return line if len(line) <= width else line[: width - 1] + "…"
    return lines[0] if lines else "(empty)"


def _span(meta: dict[str, Any]) -> tuple[datetime, datetime] | None:
    """When a cell started and ended, from nbclient's timing metadata (``record_timing``)."""
    timing = meta.get("execution") or {}
    start, end = timing.get("iopub.execute_input") or timing.get("shell.execute_reply.started"), \
        timing.get("shell.execute_reply")
    if not start or not end:
        return None
    parse = datetime.fromisoformat
    return parse(start.replace("Z", "+00:00")), parse(end.replace("Z", "+00:00"))


#: The tag of a cell, on a page that measures times, that measures none itself: it executes beside other pages.
UNTIMED_TAG = "untimed"
#: Where the engine's turns are taken (:func:`engine_turn`), under the build output.
TURNS = "run/turns"


@contextmanager
def engine_turn(folder: Path, *, alone: bool) -> Iterator[None]:
    """Hold the engine for one cell: shared with the cells of other pages, or ``alone``.

    A reader-writer lock of two ``flock`` files in ``folder``: a cell takes ``turn.lock`` to queue, then
    ``engine.lock`` shared (and lets the queue go) or exclusive (and keeps the queue until it is done). So a
    cell that measures a time waits for the cells executing elsewhere to end, no new cell starts meanwhile,
    and it cannot wait forever behind a stream of shared ones. The kernel drops both when the process ends,
    however it ends.

    >>> import tempfile; d = Path(tempfile.mkdtemp())
    >>> with engine_turn(d, alone=False), engine_turn(d, alone=False):  # shared turns do not exclude each other
    ...     print("two at once")
    two at once
    """
    folder.mkdir(parents=True, exist_ok=True)
    fds = []
    try:
        for name in ("turn.lock", "engine.lock"):
            fd = os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o666)
            fds.append(fd)
        turn, engine = fds
        fcntl.flock(turn, fcntl.LOCK_EX)
        fcntl.flock(engine, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        if not alone:
            fcntl.flock(turn, fcntl.LOCK_UN)
        yield
    finally:
        for fd in fds:
            os.close(fd)  # closing releases its flock


def _versions() -> tuple[str, str]:
    """The engine's version and buildx's (``-`` for what does not answer)."""
    def run(*cmd: str) -> str:
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return "-"
        return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else "-"

    engine = run("docker", "version", "--format", "{{.Server.Version}}")
    buildx = run("docker", "buildx", "version")
    return engine, " ".join(buildx.split()[:2]) if buildx != "-" else "-"


def machine() -> dict[str, str]:
    """What the figures of an execution depend on: the host, its cores and memory, the kernel, the OS."""
    try:
        pretty = next((line.split("=", 1)[1].strip().strip('"') for line in
                       Path("/etc/os-release").read_text(encoding="utf-8").splitlines()
                       if line.startswith("PRETTY_NAME=")), "-")
    except OSError:
        pretty = "-"
    try:
        memory = f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.1f} GiB"
    except (ValueError, OSError):
        memory = "-"
    return {"host": socket.gethostname(), "cpus": str(os.cpu_count() or "-"), "memory": memory,
            "kernel": platform.release(), "os": pretty, "arch": platform.machine()}


def book_images(root: Path, client: Any | None = None) -> dict[str, dict[str, Any]]:
    """What the engine says now of every image of the book's it holds, by tag, as ``image_stats`` reads it.

    The book's images are those tagged in its ``ch09/`` namespace, the bases it names (``golang:1.19``, ...)
    and those its ledger recorded as built; a reader's own images are never read. With no engine answering
    (a page that needs none, as in the unit tests' small books) there is nothing to say: ``{}``.
    """
    from docker.errors import DockerException

    from dockerlab.bases import KNOWN_BASES
    from dockerlab.engine import resolve_api
    from dockerlab.errors import EngineUnavailable
    from dockerlab.measure import image_stats
    from dockerlab.ownership import TAG_PREFIX, recorded_images

    api: Any
    built = {image.id for image in recorded_images(root)}
    try:
        api = resolve_api(client)
        entries = api.images()
    except (EngineUnavailable, DockerException, OSError):
        return {}
    found: dict[str, dict[str, Any]] = {}
    for entry in entries:
        for tag in entry.get("RepoTags") or []:
            if tag and "<none>" not in tag and (tag.startswith(TAG_PREFIX) or tag in KNOWN_BASES
                                                or entry.get("Id") in built):
                stats = image_stats(tag, client)
                diff_ids = (api.inspect_image(stats.id).get("RootFS") or {}).get("Layers") or []
                found[tag] = {"id": stats.id, "size": stats.size, "layers": stats.layers,
                              "diff_ids": list(diff_ids), "digests": list(stats.digests),
                              "labels": [list(kv) for kv in stats.labels]}
    return dict(sorted(found.items()))


def _store(client: Any | None = None) -> str:
    from docker.errors import DockerException

    from dockerlab.errors import EngineUnavailable
    from dockerlab.measure import image_store_name

    try:
        return image_store_name(client)
    except (EngineUnavailable, DockerException, OSError):
        return "-"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def execute_page(root: Path, out: Path, page: Path, timeout: int = CELL_TIMEOUT,
                 docker_api: Any | None = None) -> Record:
    """Execute ``page`` in its own folder and write its artefact; return its record.

    ``docker_api`` is a client of the engine whose images the record describes afterwards
    (:func:`book_images`; default: the one ``docker`` reaches).

    A failing or timed-out cell raises :class:`NotebookError` naming the page and the cell's error; the
    page's old artefact is removed first, so no artefact of it looks current afterwards.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    doc = docname(root, page)
    notebook_path, record_path = artefact_paths(out, doc)
    record_path.unlink(missing_ok=True)
    notebook_path.unlink(missing_ok=True)
    inputs = page_inputs(root, page)
    digest = page_digest(root, page)  # before running: an edit made meanwhile must not look executed
    notebook = read_as_myst_nb(page)
    timed_page = page_traits(root, page).times
    turns = out / TURNS

    class TurnTaking(NotebookClient):
        """Each code cell executes holding its turn on the engine (:func:`engine_turn`)."""

        async def async_execute_cell(self, cell: Any, cell_index: int, execution_count: int | None = None,
                                     store_history: bool = True) -> Any:
            if cell.cell_type != "code" or not cell.source.strip():
                return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
            with engine_turn(turns, alone=is_alone(cell)):
                return await super().async_execute_cell(cell, cell_index, execution_count, store_history)

    def is_alone(cell: Any) -> bool:
        return timed_page and UNTIMED_TAG not in cell.metadata.get("tags", [])

    client = TurnTaking(notebook, timeout=timeout, kernel_name="python3", record_timing=True,
                        resources={"metadata": {"path": str(page.parent)}})
    start, began = _now(), time.monotonic()
    try:
        client.execute()
    except CellTimeoutError as err:
        first = str(err).strip().splitlines()[0]
        raise NotebookError(f"{doc}.md: a cell timed out after {timeout} s ({first}).",
                            cell_error=f"CellTimeoutError: {first}", report=str(err)) from None
    except CellExecutionError as err:
        evalue = str(err.evalue).strip()
        raise NotebookError(f"{doc}.md: a cell failed: {err.ename}: {evalue}",
                            cell_error=f"{err.ename}: {evalue}", report=str(err)) from None
    except DeadKernelError as err:
        raise NotebookError(f"{doc}.md: the kernel died mid-cell ({err}).",
                            cell_error=f"DeadKernelError: the kernel died mid-cell ({err})", report=str(err)) from None
    except (OSError, RuntimeError) as err:  # the kernel could not be started or reached
        raise NotebookError(f"{doc}.md: the notebook could not be executed: {type(err).__name__}: {err}",
                            cell_error=f"{type(err).__name__}: {err}") from None
    seconds = time.monotonic() - began
    cells = []
    code = [c for c in notebook.cells if c.cell_type == "code"]
    for index, cell in enumerate(code):
        span = _span(cell.metadata)
        # The timing lives in the record: jupyter-cache hashes cell metadata, so the notebook keeps none.
        cell.metadata.pop("execution", None)
        if span is not None:
            began_at, ended_at = span
            cells.append(Cell(index, round(max(0.0, (ended_at - began_at).total_seconds()), 2),
                              cell_summary(cell.source), began_at.isoformat(timespec="milliseconds"),
                              ended_at.isoformat(timespec="milliseconds"), is_alone(cell)))
    engine, buildx = _versions()
    end = _now()
    images = book_images(root, docker_api)
    record = Record(page=f"{doc}.md", digest=digest, inputs=inputs, engine=engine, buildx=buildx,
                    machine=machine(), where=os.environ.get(WHERE_ENV) or f"local ({socket.gethostname()})",
                    user=_user(), start=start, end=end, seconds=round(seconds, 2), cells=cells, images=images,
                    store=_store(docker_api))
    _write_atomically(notebook_path, nbformat.writes(notebook))
    _write_atomically(record_path, json.dumps(asdict(record), indent=1, ensure_ascii=False) + "\n")
    return record


def _user() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def records(root: Path, out: Path) -> list[tuple[str, Record | None]]:
    """Every notebook page's docname and its artefact's record (``None`` when it has none), in book order."""
    return [(docname(root, p), read_record(out, docname(root, p))) for p in notebook_pages(root)]


def latest_images(root: Path, out: Path) -> dict[str, tuple[str, Record]]:
    """Every image of the book's any page's record saw, by tag: the docname and record of the last page (by end
    time) that ran with it on its engine, whose figures stand for it once the whole book has executed."""
    found: dict[str, tuple[str, Record]] = {}
    for doc, record in records(root, out):
        for tag in record.images if record else ():
            if record is not None and (tag not in found or found[tag][1].end < record.end):
                found[tag] = (doc, record)
    return dict(sorted(found.items()))


def profile_text(root: Path, out: Path, cells: int = 3) -> str:
    """The execution profile as plain text: per page its seconds, where and when, and its slowest cells;
    the total last. What ``python -m dockerlab profile`` prints."""
    lines = []
    try:
        setup = json.loads((out / "reports" / "setup.json").read_text(encoding="utf-8"))
        lines.append("set-up (make html): " + ", ".join(f"{k} {float(v):.1f}s" for k, v in setup.items()))
    except (OSError, ValueError, AttributeError):
        pass
    total = 0.0
    for doc, record in records(root, out):
        if record is None:
            lines.append(f"{doc:34} {'-':>8}  no artefact (not executed yet)")
            continue
        current = record.digest == page_digest(root, root / record.page)
        total += record.seconds
        lines.append(f"{doc:34} {record.seconds:7.1f}s  {record.start}  {record.where}"
                     f"{'' if current else '  (stale: its inputs changed since)'}")
        for cell in record.slowest(cells):
            lines.append(f"{'':36}{cell.seconds:7.1f}s  cell {cell.index + 1:>2}: {cell.what}")
    lines.append(f"{'total':34} {total:7.1f}s")
    spans = [(datetime.fromisoformat(r.start), datetime.fromisoformat(r.end)) for _, r in records(root, out)
             if r is not None and r.start and r.end]
    if spans:
        wall = (max(e for _, e in spans) - min(b for b, _ in spans)).total_seconds()
        lines.append(f"{'wall (first start to last end)':34} {wall:7.1f}s")
    return "\n".join(lines)


@dataclass(frozen=True)
class Traits:
    """What decides which pages may execute at the same time on one engine, and in which order.

    ``examples`` are the example folders a page's ``depends:`` lists (``*`` for the whole ``examples``
    folder): two pages that build the same example build the same tags and staged contexts, so they never
    execute together. ``times`` is a page whose front matter says ``measures: time``: each of its code cells
    (but those tagged :data:`UNTIMED_TAG`) executes holding the engine alone (:func:`engine_turn`).

    A page that measures times executes beside no other page. Its cells hold the engine alone anyway; letting
    other pages execute between them was measured and lost: on a cold build each timed cell waited for the other
    page's cell in flight (01 took 296 s instead of 245 s, 03-2 169 s instead of 34 s) and the whole build took
    longer than with the timed pages executing alone. The turn each cell takes stays, so the records still show
    that no timed cell overlapped another page's cell, whatever the schedule.

    >>> a, b = Traits(frozenset({"examples/hello"}), False), Traits(frozenset({"examples/webapi"}), True)
    >>> a.conflicts(b), a.conflicts(Traits(frozenset({"*"}), False)), a.conflicts(a)
    (True, True, True)
    >>> a.conflicts(Traits(frozenset({"examples/webapi"}), False))
    False
    """

    examples: frozenset[str]
    times: bool

    def conflicts(self, other: Traits) -> bool:
        if self.times or other.times:
            return True  # measured: sharing the engine cell by cell made the timed pages wait (see the docstring)
        if ("*" in self.examples and other.examples) or ("*" in other.examples and self.examples):
            return True
        return bool(self.examples & other.examples)


def page_traits(root: Path, page: Path) -> Traits:
    """The :class:`Traits` of ``page`` from its front matter (``depends:`` and ``measures:``)."""
    from dockerlab.sphinxext import front_matter_depends, front_matter_measures

    text = page.read_text(encoding="utf-8")
    try:
        depends, measures = front_matter_depends(text), front_matter_measures(text)
    except FrontMatterError as err:
        raise FrontMatterError(f"{page.relative_to(root)}: {err}.") from None
    examples = {"*" if d == "examples" else d for d in depends if d == "examples" or d.startswith("examples/")}
    return Traits(frozenset(examples), "time" in measures)


def execution_order(root: Path, out: Path, pages: Sequence[Path]) -> list[Path]:
    """The order in which :func:`startable` offers ``pages``: the pages that measure times first (book order),
    while the engine has the least else to do, then the others slowest first by their last record
    (:data:`UNKNOWN_SECONDS` without one), so the long ones do not start last."""
    book = {p: i for i, p in enumerate(pages)}
    hints = expected_seconds(root)

    def cost(page: Path) -> float:
        return _cost(root, out, page, hints)

    timed = [p for p in pages if page_traits(root, p).times]
    rest = sorted((p for p in pages if p not in timed), key=lambda p: (-cost(p), book[p]))
    return [*timed, *rest]


def startable(waiting: Sequence[str], running: Iterable[str], traits: dict[str, Traits], jobs: int) -> list[str]:
    """Of ``waiting`` (in the order to offer them), the pages that may start now beside ``running``: at most
    ``jobs`` at once, and never one beside a page it conflicts with (:meth:`Traits.conflicts`).

    A waiting page that must execute alone is not overtaken: nothing starts before it.

    >>> t = {"b": Traits(frozenset({"x"}), False), "c": Traits(frozenset({"x"}), False),
    ...      "d": Traits(frozenset({"y"}), True), "e": Traits(frozenset({"z"}), False)}
    >>> startable(["b", "c", "e"], [], t, 2), startable(["c", "e"], ["b"], t, 3)
    (['b', 'e'], ['e'])
    >>> startable(["d", "b"], [], t, 2), startable(["d", "b"], ["e"], t, 2)
    (['d'], [])
    """
    chosen: list[str] = []
    busy = list(running)
    for doc in waiting:
        if len(busy) >= max(1, jobs):
            break
        if any(traits[doc].conflicts(traits[other]) for other in busy):
            if traits[doc].times:
                break  # it waits for the engine to be free; nothing overtakes it meanwhile
            continue
        chosen.append(doc)
        busy.append(doc)
        if traits[doc].times:
            break
    return chosen


def default_jobs() -> int:
    """How many pages execute at once: ``$CH09_JOBS``, else 2 on a machine with two cores or more, else 1."""
    value = os.environ.get(JOBS_ENV, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise DockerLabError(f"{JOBS_ENV} must be a whole number of pages, at least 1 (it is {value!r}).")
        return int(value)
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def timed_overlaps(found: Sequence[tuple[str, Record | None]]) -> tuple[int, list[str]]:
    """How many cells of ``found`` held the engine alone, and each overlap of one of them with a cell of another
    page executed on the same machine (none, when every time was measured with nothing else executing).

    >>> a = Record("a.md", "", {}, "", "", {"host": "h"}, "w", "", "", "", 1.0,
    ...            [Cell(0, 1.0, "t", "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:02+00:00", True)])
    >>> b = Record("b.md", "", {}, "", "", {"host": "h"}, "w", "", "", "", 1.0,
    ...            [Cell(3, 1.0, "u", "2026-01-01T00:00:01+00:00", "2026-01-01T00:00:03+00:00", False)])
    >>> timed_overlaps([("a", a), ("b", b)])
    (1, ['a cell 1 and b cell 4'])
    """
    def span(cell: Cell) -> tuple[float, float] | None:
        if not cell.start or not cell.end:
            return None
        return datetime.fromisoformat(cell.start).timestamp(), datetime.fromisoformat(cell.end).timestamp()

    present = [(doc, r) for doc, r in found if r is not None]
    count, overlaps = 0, []
    for doc, record in present:
        for cell in (c for c in record.cells if c.alone):
            count += 1
            mine = span(cell)
            if mine is None:
                continue
            for other_doc, other in present:
                if other_doc == doc or (other.where, other.machine.get("host")) != (record.where,
                                                                                    record.machine.get("host")):
                    continue
                for theirs in other.cells:
                    them = span(theirs)
                    if them is not None and mine[0] < them[1] and them[0] < mine[1]:
                        overlaps.append(f"{doc} cell {cell.index + 1} and {other_doc} cell {theirs.index + 1}")
    return count, overlaps


#: Seconds assumed for a page that has no record yet when balancing groups.
UNKNOWN_SECONDS = 60.0


#: Each page's seconds in the last cold build, committed (as pytest-split keeps test durations), so a fresh clone
#: with no artefacts still starts its long pages first and the CI plan is balanced from the first run.
#: ``python -m dockerlab profile --save`` rewrites it from the artefacts.
SECONDS_FILE = "execution-seconds.json"


def expected_seconds(root: Path) -> dict[str, float]:
    """The committed seconds of each page (:data:`SECONDS_FILE`), {} when there is none or it does not read."""
    try:
        data = json.loads((root / SECONDS_FILE).read_text(encoding="utf-8"))
        return {str(k): float(v) for k, v in data.items()}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def _cost(root: Path, out: Path, page: Path, hints: dict[str, float]) -> float:
    """What executing ``page`` is expected to take: its last record, else the committed figure, else a guess."""
    doc = docname(root, page)
    record = read_record(out, doc)
    return record.seconds if record else hints.get(doc, UNKNOWN_SECONDS)


def save_seconds(root: Path, out: Path) -> Path:
    """Write :data:`SECONDS_FILE` from the artefacts' records (pages without one keep their old figure)."""
    figures = expected_seconds(root)
    figures.update({doc: round(record.seconds, 1) for doc, record in records(root, out) if record is not None})
    path = root / SECONDS_FILE
    _write_atomically(path, json.dumps(dict(sorted(figures.items())), indent=1) + "\n")
    return path


def plan_groups(root: Path, out: Path, groups: int, pages: Sequence[Path] | None = None) -> list[list[str]]:
    """Split ``pages`` (default: every notebook page) into at most ``groups`` groups of about equal execution
    time, from the seconds their last records took (:data:`UNKNOWN_SECONDS` for a page without one): the
    slowest page first into the group with the least time so far. Groups keep book order inside; empty groups
    are dropped. What the CI matrix runs, one group per fresh runner.

    >>> import tempfile; r = Path(tempfile.mkdtemp()); (r / "chapters").mkdir()
    >>> for n in "abc": _ = (r / "chapters" / f"{n}.md").write_text("---\\nkernelspec: {}\\n---\\n")
    >>> plan_groups(r, r / "_build", 2)
    [['chapters/a', 'chapters/c'], ['chapters/b']]
    """
    if groups < 1:
        raise ValueError("groups must be at least 1")
    chosen = list(notebook_pages(root) if pages is None else pages)
    order = {docname(root, p): i for i, p in enumerate(chosen)}
    hints = expected_seconds(root)
    cost = {docname(root, page): _cost(root, out, page, hints) for page in chosen}
    bins: list[list[str]] = [[] for _ in range(min(groups, len(chosen)))]
    load = [0.0] * len(bins)
    for doc in sorted(cost, key=lambda d: (-cost[d], order[d])):
        i = load.index(min(load))
        bins[i].append(doc)
        load[i] += cost[doc]
    return [sorted(b, key=order.__getitem__) for b in bins if b]


def failure_path(out: Path, doc: str) -> Path:
    """Where a page's execution in a child process leaves its failure (:func:`main`) for the build to read."""
    return out / "reports" / f"{doc}.failure.json"


def main(argv: list[str] | None = None) -> int:
    """``python -m dockerlab.artefacts --source S --out O --timeout T PAGE``: execute one page, in a process of
    its own, as the build does (so an interrupt or a dead kernel ends this process, not the build's). A failure is
    written to :func:`failure_path` and the exit code is 1."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m dockerlab.artefacts")
    parser.add_argument("page")
    parser.add_argument("--source", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT)
    args = parser.parse_args(argv)
    root, out, page = Path(args.source), Path(args.out), Path(args.page)
    failed = failure_path(out, docname(root, page))
    failed.unlink(missing_ok=True)
    try:
        execute_page(root, out, page, timeout=args.timeout)
    except NotebookError as err:
        _write_atomically(failed, json.dumps({"message": str(err), "cell_error": err.cell_error,
                                              "report": err.report}))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
