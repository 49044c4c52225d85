"""A record of everything the helpers start outside their own Python process, so that nothing outlives a killed run.

A registry process, a second ``dockerd``, a network namespace, a veth pair, a bridge, a lab container
(:mod:`dockerlab.privileged`), a temporary folder with mounts under it: each is normally removed by the
``finally`` of the context manager that made it. A cell timeout that kills the kernel, a Ctrl-C or ``kill -9``
skips every ``finally``. So each one is written down in ``<root>/_build/run/`` *as it starts* (before the
process runs, before the namespace exists), with the PID of the Python process that owns it, and crossed out
when it is gone. :func:`sweep` -- run at the start of every build, notebook run and ``make clean-docker`` --
undoes whatever a dead owner left.

A process is only ever killed when its command line still contains the text it was started with
(a recycled PID is someone else's process).

>>> with tracked("folder", "/nonexistent/ch09-x", root=Path(tempfile.mkdtemp())) as rec:
...     rec.kind
'folder'
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

Kind = Literal["process", "container", "netns", "link", "folder"]
#: Set by a book build for sphinx-build and so for the kernels it starts: each record names the build it was made
#: in, so an interrupted build can stop its own kernels (they run in a session of their own, which a signal to
#: the build's process group does not reach) before it sweeps.
RUN_ENV = "CH09_RUN_ID"


def proxy_free_env(
    *, drop: Collection[str] = (), drop_prefixes: tuple[str, ...] = (), environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment for a helper process that talks only to this machine (a registry, a second ``dockerd``,
    ``skopeo``): this process's (or ``environ``), less every ``*_proxy`` variable in either case, the names in
    ``drop`` and the names starting with one of ``drop_prefixes``.

    >>> proxy_free_env(environ={"HTTPS_PROXY": "p", "no_proxy": "n", "PATH": "/bin", "DOCKER_HOST": "h"},
    ...                drop={"DOCKER_HOST"})
    {'PATH': '/bin'}
    """
    source = os.environ if environ is None else environ
    return {key: value for key, value in source.items()
            if not key.lower().endswith("_proxy") and key not in drop and not key.startswith(drop_prefixes)}


@dataclass(frozen=True)
class Record:
    """One thing a helper started: what it is, how to find it, and which process owns it."""

    kind: Kind
    name: str  # a PID (process), a namespace or interface name, or a folder path
    owner: int  # the PID of the Python process that made it
    hint: str = ""  # for a process: text its command line must contain before it may be killed
    token: str = ""
    run: str = ""  # the book build the owner ran in ($CH09_RUN_ID), if any

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


def run_dir(root: Path | None = None) -> Path:
    """``<root>/_build/run`` for the book's root; a per-user folder in the temp dir outside a checkout."""
    if root is None:
        from dockerlab.errors import DockerLabError
        from dockerlab.examples import project_root

        try:
            root = project_root()
        except DockerLabError:
            return Path(tempfile.gettempdir()) / f"ch09-run-{os.getuid()}"
    return root / "_build" / "run"


def _path(folder: Path, record: Record) -> Path:
    return folder / f"{record.kind}-{record.token}.json"


def register(kind: Kind, name: str, *, hint: str = "", root: Path | None = None) -> Record:
    """Write a record down now; :func:`release` crosses it out."""
    record = Record(kind, str(name), os.getpid(), hint, uuid.uuid4().hex[:12], os.environ.get(RUN_ENV, ""))
    folder = run_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = _path(folder, record).with_suffix(".part")
    tmp.write_text(json.dumps(asdict(record)))
    tmp.replace(_path(folder, record))
    return record


def update(record: Record, name: str, root: Path | None = None) -> Record:
    """The same record with its real name (a process's PID, known only after it started)."""
    new = Record(record.kind, str(name), record.owner, record.hint, record.token, record.run)
    path = _path(run_dir(root), record)
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(asdict(new)))
    tmp.replace(path)
    return new


def release(record: Record, root: Path | None = None) -> None:
    """Cross a record out (the thing it names is gone)."""
    _path(run_dir(root), record).unlink(missing_ok=True)


@contextmanager
def tracked(kind: Kind, name: str, *, hint: str = "", root: Path | None = None) -> Iterator[Record]:
    """Record ``name`` for the length of the block; the block itself must remove the thing."""
    record = register(kind, name, hint=hint, root=root)
    try:
        yield record
    finally:
        release(record, root)


def records(root: Path | None = None) -> list[Record]:
    """Every record still written down (unreadable files are skipped)."""
    folder = run_dir(root)
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            found.append(Record(**json.loads(path.read_text())))
        except (OSError, ValueError, TypeError):
            continue
    return found


def alive(pid: int) -> bool:
    """True when process ``pid`` exists (zombies count as gone).

    >>> alive(os.getpid())
    True
    """
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _stop_processes(pids: list[int], hint: str = "", grace: float = 15.0) -> None:
    """SIGTERM each of ``pids`` whose command line contains ``hint``, SIGKILL what still runs after ``grace``
    seconds, and wait (briefly) until they are gone."""
    signalled = []
    for pid in pids:
        if not alive(pid) or (hint and hint not in _cmdline(pid)):
            continue
        try:
            os.kill(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):  # gone, or root's (a lab container's, removed on its own)
            continue
        signalled.append(pid)
    deadline = time.monotonic() + grace
    while any(alive(pid) for pid in signalled) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in signalled:
        if alive(pid) and hint in _cmdline(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    while any(alive(pid) for pid in signalled) and time.monotonic() < deadline + 5:
        time.sleep(0.1)


def _processes_naming(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid() and text in _cmdline(int(entry.name)):
            found.append(int(entry.name))
    return found


def _mounts_under(folder: str) -> list[str]:
    points = []
    try:
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            fields = line.split()
            point = fields[4].replace("\\040", " ") if len(fields) > 4 else ""
            if point == folder or point.startswith(folder.rstrip("/") + "/"):
                points.append(point)
    except OSError:
        pass
    return sorted(points, key=lambda p: p.count("/"), reverse=True)


def undo(record: Record) -> None:
    """Remove what ``record`` names, whatever state it was left in; quiet when it is already gone."""
    if record.kind == "process":
        if record.name.isdigit():
            _stop_processes([int(record.name)], record.hint)
    elif record.kind == "container":
        # A lab container (dockerlab.privileged): removing it ends every process and mount in it.
        subprocess.run(["docker", "rm", "--force", "--volumes", record.name], capture_output=True)
    elif record.kind == "netns":
        for word in subprocess.run(["ip", "netns", "pids", record.name], capture_output=True, text=True).stdout.split():
            try:
                os.kill(int(word), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", record.name], capture_output=True)
    elif record.kind == "link":
        from dockerlab.privileged import run_as_root

        run_as_root(["ip", "link", "del", record.name])
    elif record.kind == "folder":
        # A cold node's folder: its engine and containerd name it on their command lines, and its
        # layers are mounted under it.
        for pid in _processes_naming(record.name):
            _stop_processes([pid], record.name, grace=10.0)
        for point in _mounts_under(record.name):
            subprocess.run(["umount", "-l", point], capture_output=True)
        shutil.rmtree(record.name, ignore_errors=True)


def stop_owners(run: str, root: Path | None = None, grace: float = 15.0) -> list[int]:
    """Stop the processes (kernels) of book build ``run`` that still own a record, so that :func:`sweep` may
    undo what they made: SIGTERM, then SIGKILL after ``grace`` seconds. Returns the PIDs it signalled.

    An orphaned kernel of an interrupted build would otherwise outlive the build's own sweep (which leaves a
    live owner's records alone), and what its cells started would stay behind.
    """
    owners = sorted({r.owner for r in records(root)
                     if run and r.run == run and r.owner != os.getpid() and alive(r.owner)})
    _stop_processes(owners, grace=grace)
    return owners


def sweep(root: Path | None = None) -> list[str]:
    """Undo everything whose owner process is gone: what a killed run left. Returns what was undone.

    Processes first, then lab containers, namespaces and links, then folders, so nothing is removed under a
    running process.
    """
    order = {"process": 0, "container": 1, "netns": 2, "link": 3, "folder": 4}
    undone = []
    for record in sorted(records(root), key=lambda r: order.get(r.kind, 9)):
        if alive(record.owner):
            continue
        undo(record)
        release(record, root)
        undone.append(record.label)
    return undone
