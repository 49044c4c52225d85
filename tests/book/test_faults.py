"""Faults during a book build: one clear sentence, a non-zero exit, no stale HTML left looking current.

Each test builds a one-page book (the real conf.py, one chapter) so a fault shows in seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dockerlab.runstate import alive
from tests.book.conftest import myst_notebook
from tests.conftest import ROOT

CHAPTER_HEAD = myst_notebook("고장", ["examples/broken"], "```{code-cell} ipython3\n")


def mini_book(tmp_path: Path, cell: str, *, timeout: int | None = None) -> Path:
    src = tmp_path / "src"
    (src / "chapters").mkdir(parents=True)
    shutil.copytree(ROOT / "_static", src / "_static")
    conf = f"exec(open({str(ROOT / 'conf.py')!r}, encoding='utf-8').read())\n"
    if timeout is not None:
        conf += f"nb_execution_timeout = {timeout}\n"
    (src / "conf.py").write_text(conf)
    (src / "index.md").write_text("# 시험\n\n```{toctree}\nchapters/broken\n```\n")
    (src / "chapters" / "broken.md").write_text(CHAPTER_HEAD + cell + "\n```\n")
    example = src / "examples" / "broken"
    example.mkdir(parents=True)
    (example / "Dockerfile").write_text("FROM scratch\nCOPPY hello /\n")
    return src


def build(src: Path, out: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # A stale site from an earlier, successful build: it must not survive a failed build.
    (out / "html").mkdir(parents=True, exist_ok=True)
    (out / "html" / "index.html").write_text("<p>old</p>")
    return subprocess.run([sys.executable, "-m", "dockerlab", "build", "--source", str(src), "--out", str(out)],
                          capture_output=True, text=True, timeout=600, cwd=src,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src"), "CH09_ROOT": str(src), **env})


def last_line(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stderr.strip().splitlines()[-1]


def assert_failed_cleanly(proc, out: Path, report: str = "execute.log") -> None:
    assert proc.returncode == 1
    assert not (out / "html").exists(), "a failed build left HTML behind"
    assert (out / "reports" / report).is_file()
    if report == "execute.log":  # the page that failed has no artefact that could look current
        assert not (out / "artefacts" / "chapters" / "broken.json").exists()


def test_broken_dockerfile_names_example_and_docker_message(tmp_path: Path, engine) -> None:
    src = mini_book(tmp_path, 'from dockerlab import build_example\nbuild_example("broken", "ch09/test-broken:latest")')
    proc = build(src, tmp_path / "out")
    assert_failed_cleanly(proc, tmp_path / "out")
    assert last_line(proc) == (
        f"The book build failed: {src}/chapters/broken.md: ExampleBuildError: examples/broken: docker buildx build "
        f"failed: failed to solve: dockerfile parse error on line 2: unknown instruction: COPPY (did you mean COPY?) "
        f"(full report: {tmp_path / 'out' / 'reports'}/)"
    )
    assert "ExampleBuildError" in (tmp_path / "out" / "reports" / "chapters" / "broken.err.log").read_text()


def test_cell_timeout_is_named(tmp_path: Path) -> None:
    src = mini_book(tmp_path, "import time\ntime.sleep(60)", timeout=3)
    proc = build(src, tmp_path / "out")
    assert_failed_cleanly(proc, tmp_path / "out")
    assert last_line(proc).startswith(
        f"The book build failed: {src}/chapters/broken.md: CellTimeoutError: A cell timed out while it was being "
        "executed, after 3 seconds.")


def test_engine_down_is_named(tmp_path: Path) -> None:
    src = mini_book(tmp_path, "from dockerlab import docker_client\ndocker_client()")
    proc = build(src, tmp_path / "out", DOCKER_HOST="unix:///tmp/ch09-no-engine-here.sock")
    assert_failed_cleanly(proc, tmp_path / "out")
    assert last_line(proc).startswith(
        f"The book build failed: {src}/chapters/broken.md: EngineUnavailable: No Docker engine answers; "
        "run `scripts/ensure-docker`")


def test_sphinx_warning_fails_the_build(tmp_path: Path) -> None:
    src = mini_book(tmp_path, "print('ok')")
    page = src / "chapters" / "broken.md"
    page.write_text(page.read_text() + "\n{doc}`no-such-page`\n")
    proc = build(src, tmp_path / "out")
    assert_failed_cleanly(proc, tmp_path / "out", report="sphinx-build.log")
    assert "Sphinx warning (warnings are errors): unknown document" in last_line(proc)
    # Sphinx saved its environment despite the warning: it is dropped so the next build reads every page.
    assert not (tmp_path / "out" / "doctrees").exists()


def test_unreachable_registry_is_named(tmp_path: Path, engine) -> None:
    src = mini_book(tmp_path,
                    'from dockerlab import ensure_base\nensure_base("ch09test/missing:1", registry="127.0.0.1:9")')
    proc = build(src, tmp_path / "out")
    assert_failed_cleanly(proc, tmp_path / "out")
    line = last_line(proc)
    assert line.startswith(f"The book build failed: {src}/chapters/broken.md: BaseImageError: ch09test/missing:1 is "
                           "not available in this build: there is no recipe to build it from Debian packages "
                           "(cannot pull 127.0.0.1:9/ch09test/missing:1: ")
    assert "connection refused" in line


def test_ctrl_c_mid_build_leaves_no_html_and_no_kernel(tmp_path: Path) -> None:
    """Ctrl-C in a terminal signals the whole foreground process group: the CLI, sphinx-build and the kernel."""
    import signal
    import time

    src = mini_book(tmp_path, "import time\ntime.sleep(120)")
    out = tmp_path / "out"
    (out / "html").mkdir(parents=True)
    (out / "html" / "index.html").write_text("<p>old</p>")
    # A terminal's foreground job takes Ctrl-C; a job started in the background by a script (`cmd &`, as a CI
    # runner may start the tests) inherits SIGINT ignored, and Python then never raises KeyboardInterrupt.
    proc = subprocess.Popen([sys.executable, "-m", "dockerlab", "build", "--source", str(src), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=src, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src"), "CH09_ROOT": str(src)})
    log = out / "reports" / "execute.log"
    deadline = time.monotonic() + 120
    while not (log.is_file() and "dockerlab: executing" in log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)  # the cell is running
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == f"The book build was interrupted; no HTML was left in {out / 'html'}."
    assert not (out / "html").exists()
    # The kernel runs in the chapter's folder (and in a session of its own, which Ctrl-C does not reach).
    left = [p.name for p in Path("/proc").iterdir() if p.name.isdigit() and _cwd(p).startswith(str(src))]
    assert left == [], f"processes of the interrupted build are still running: {left}"


#: A cell that holds a folder the way the helpers hold theirs: recorded, and removed by its own ``finally``.
HOLDS_A_FOLDER = """import shutil, tempfile, time
from pathlib import Path
from dockerlab import runstate
folder = Path(tempfile.mkdtemp(prefix="ch09-registry-term-"))
with runstate.tracked("folder", str(folder)):
    try:
        print(folder, flush=True)
        time.sleep(300)
    finally:
        shutil.rmtree(folder)"""


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def test_an_interrupted_build_stops_its_orphaned_kernel_then_undoes_what_the_cell_started(tmp_path: Path) -> None:
    """The build's children die first (here SIGKILL; a `kill` of the process group ends them as abruptly) and
    the build is interrupted: a kernel, in a session of its own, may be orphaned mid-cell and still own its
    records, which a sweep leaves alone while their owner lives. The build stops such a kernel, then sweeps."""
    import signal
    import time

    src = mini_book(tmp_path, HOLDS_A_FOLDER)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "dockerlab", "build", "--source", str(src), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=src, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src"), "CH09_ROOT": str(src)})
    records = src / "_build" / "run"
    deadline = time.monotonic() + 120
    while not (records.is_dir() and any(records.glob("*.json"))) and time.monotonic() < deadline:
        time.sleep(0.2)
    record = json.loads(next(records.glob("*.json")).read_text())
    folder = Path(record["name"])
    assert folder.is_dir() and record["run"], record
    for child in _children(proc.pid):
        os.kill(child, signal.SIGKILL)
    os.kill(proc.pid, signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert not folder.exists(), f"the interrupted build left {folder}: its kernel outlived the sweep"
    assert not any(records.glob("*.json"))
    assert not alive(record["owner"]), "the kernel of the interrupted build is still running"


def _cwd(proc_dir: Path) -> str:
    try:
        return os.readlink(proc_dir / "cwd")
    except OSError:
        return ""


def _leftovers() -> set[str]:
    """What the helpers start outside Python: processes, namespaces, links, mounts and temp folders."""
    import tempfile

    found = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "/ch09-node-" in cmd or "/ch09-registry-" in cmd:
                found.add(f"process {proc.name}: {cmd[:80]}")
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
    found |= {f"netns {n}" for n in netns if n.startswith("ch09-shaped-")}
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    found |= {f"link {line.split(':')[1].strip().split('@')[0]}" for line in links.splitlines()
              if line.split(":")[1].strip().startswith(("ch09n", "c9s-"))}
    found |= {f"mount {line.split()[4]}" for line in Path("/proc/self/mountinfo").read_text().splitlines()
              if "/ch09-node-" in line.split()[4]}
    found |= {f"folder {p}" for p in Path(tempfile.gettempdir()).glob("ch09-node-*")}
    found |= {f"folder {p}" for p in Path(tempfile.gettempdir()).glob("ch09-registry-*")}
    return found


STARTS_EVERYTHING = """import time
from dockerlab.coldnode import cold_node
from dockerlab.netshape import shaped_netns
from dockerlab.registry import local_registry
with shaped_netns(rate_mbit=10) as link, cold_node() as node, local_registry() as registry:
    print("all up", flush=True)
    time.sleep(600)"""


def test_a_cell_timeout_leaves_no_engine_registry_namespace_link_mount_or_folder(tmp_path: Path, engine) -> None:
    before = _leftovers()
    src = mini_book(tmp_path, STARTS_EVERYTHING, timeout=25)  # the cell starts all three in about 10 s
    proc = build(src, tmp_path / "out")
    assert_failed_cleanly(proc, tmp_path / "out")
    assert "CellTimeoutError" in last_line(proc)
    assert _leftovers() - before == set()
    assert not list((src / "_build" / "run").glob("*.json"))  # every record crossed out


def test_a_killed_kernel_leaves_nothing_once_the_build_ends(tmp_path: Path, engine) -> None:
    """kill -9 of the kernel skips every `finally`: the build sweeps what the dead kernel's records name."""
    import signal
    import time

    before = _leftovers()
    src = mini_book(tmp_path, STARTS_EVERYTHING)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "dockerlab", "build", "--source", str(src), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=src,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src"), "CH09_ROOT": str(src)})
    def all_started() -> bool:
        new = [x for x in _leftovers() - before if x.startswith("process")]
        return any("/ch09-node-" in x for x in new) and any("/ch09-registry-" in x for x in new)

    deadline = time.monotonic() + 180
    while not all_started() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert all_started(), "the cell never started its engine and registry"
    time.sleep(2)
    kernels = [int(p.name) for p in Path("/proc").iterdir()
               if p.name.isdigit() and _cwd(p).startswith(str(src)) and "ipykernel" in _cmd(p)]
    assert kernels, "the kernel never started"
    for pid in kernels:
        os.kill(pid, signal.SIGKILL)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 1, stderr
    assert not (out / "html").exists()
    assert _leftovers() - before == set()


def _cmd(proc_dir: Path) -> str:
    try:
        return (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_a_refused_second_make_html_touches_nothing(tmp_path: Path) -> None:
    """A second ``make html`` in a checkout whose lock is held is refused before it removes anything: the site
    of the build holding the lock survives."""
    from dockerlab.locking import checkout_lock

    out = tmp_path / "out"
    (out / "html").mkdir(parents=True)
    marker = out / "html" / "marker.txt"
    marker.write_text("the first build's site\n")
    with checkout_lock(ROOT, "the first make html (held by this test)"):
        proc = subprocess.run(["make", "-s", "html", f"OUT={out}"], cwd=ROOT, capture_output=True, text=True,
                              timeout=300)
    assert proc.returncode != 0
    assert "make html cannot start: the first make html (held by this test)" in proc.stderr
    assert marker.read_text() == "the first build's site\n"
