"""Faults during a book build: one clear sentence, a non-zero exit, no stale HTML left looking current.

Each test builds a one-page book (the real conf.py, one chapter) so a fault shows in seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


from tests.conftest import ROOT

CHAPTER_HEAD = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
depends:
  - examples/broken
---

# 고장

```{code-cell} ipython3
"""


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


def assert_failed_cleanly(proc, out: Path) -> None:
    assert proc.returncode == 1
    assert not (out / "html").exists(), "a failed build left HTML behind"
    assert (out / "reports" / "sphinx-build.log").is_file()


def test_broken_dockerfile_names_example_and_docker_message(tmp_path: Path, engine) -> None:
    src = mini_book(tmp_path, 'from dockerlab import build_example\nbuild_example("broken", "ch09/test-broken:latest")')
    proc = build(src, tmp_path / "out")
    assert_failed_cleanly(proc, tmp_path / "out")
    assert last_line(proc) == (
        f"The book build failed: {src}/chapters/broken.md: ExampleBuildError: examples/broken: docker buildx build "
        f"failed: failed to solve: dockerfile parse error on line 2: unknown instruction: COPPY (did you mean COPY?) "
        f"(full report: {tmp_path / 'out' / 'reports'}/)"
    )
    assert "ExampleBuildError" in (tmp_path / "out" / "reports" / "sphinx-crash.log").read_text()


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
    assert_failed_cleanly(proc, tmp_path / "out")
    assert "Sphinx warning (warnings are errors): unknown document" in last_line(proc)
    # Sphinx saved its environment despite the warning: it is dropped so the next build reads every page.
    assert not (tmp_path / "out" / "doctrees").exists()


def test_unreachable_registry_is_named(tmp_path: Path, engine) -> None:
    src = mini_book(tmp_path, 'from dockerlab import ensure_base\nensure_base("ch09test/missing:1", registry="127.0.0.1:9")')
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
    proc = subprocess.Popen([sys.executable, "-m", "dockerlab", "build", "--source", str(src), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=src, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src"), "CH09_ROOT": str(src)})
    log = out / "reports" / "sphinx-build.log"
    deadline = time.monotonic() + 120
    while not (log.is_file() and "Executing notebook" in log.read_text()) and time.monotonic() < deadline:
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


def _cwd(proc_dir: Path) -> str:
    try:
        return os.readlink(proc_dir / "cwd")
    except OSError:
        return ""
