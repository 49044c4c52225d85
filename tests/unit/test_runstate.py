"""What a killed run left is swept: its processes stopped (never a stranger's), its folders removed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dockerlab import runstate


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _record_as(owner: int, kind: str, name: str, root: Path, hint: str = "") -> None:
    record = runstate.register(kind, name, hint=hint, root=root)  # type: ignore[arg-type]
    path = runstate.run_dir(root) / f"{kind}-{record.token}.json"
    path.write_text(path.read_text().replace(f'"owner": {record.owner}', f'"owner": {owner}'))


def test_a_dead_owners_process_and_folder_are_swept_and_a_live_owners_are_kept(tmp_path: Path) -> None:
    marker = f"ch09-sweep-test-{tmp_path.name}"
    orphan = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep(300)  # {marker}"])
    mine = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep(300)  # {marker}-live"])
    folder = tmp_path / "node"
    (folder / "data").mkdir(parents=True)
    try:
        _record_as(_dead_pid(), "process", str(orphan.pid), tmp_path, hint=marker)
        _record_as(_dead_pid(), "folder", str(folder), tmp_path)
        kept = runstate.register("process", str(mine.pid), hint=f"{marker}-live", root=tmp_path)  # owner: this test
        undone = runstate.sweep(tmp_path)
        assert sorted(undone) == sorted([f"process {orphan.pid}", f"folder {folder}"])
        assert orphan.wait(timeout=20) is not None
        assert not folder.exists()
        assert mine.poll() is None  # its owner is alive: not touched
        assert [r.name for r in runstate.records(tmp_path)] == [kept.name]
    finally:
        for proc in (orphan, mine):
            proc.kill()
            proc.wait()


def test_a_recycled_pid_is_never_killed(tmp_path: Path) -> None:
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        _record_as(_dead_pid(), "process", str(stranger.pid), tmp_path, hint="ch09-registry-config-that-is-not-there")
        runstate.sweep(tmp_path)
        assert stranger.poll() is None
        assert runstate.records(tmp_path) == []
    finally:
        stranger.kill()
        stranger.wait()


def test_tracked_crosses_its_record_out_even_when_the_block_fails(tmp_path: Path) -> None:
    try:
        with runstate.tracked("link", "ch09nabc", root=tmp_path):
            assert [r.name for r in runstate.records(tmp_path)] == ["ch09nabc"]
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert runstate.records(tmp_path) == []


PROXIES = {"HTTP_PROXY": "http://proxy:3128", "https_proxy": "http://proxy:3128", "NO_PROXY": "localhost",
           "all_proxy": "socks5://proxy:1080"}


def test_proxy_free_env_drops_every_proxy_variable_in_either_case(monkeypatch) -> None:
    for key, value in PROXIES.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CH09_KEEP", "1")
    env = runstate.proxy_free_env()
    assert not [key for key in env if key.lower().endswith("_proxy")]
    assert env["CH09_KEEP"] == "1" and env["PATH"]
    assert os.environ["HTTP_PROXY"] == PROXIES["HTTP_PROXY"]  # this process's environment is untouched


def test_proxy_free_env_drops_names_and_prefixes_it_is_given() -> None:
    environ = {**PROXIES, "DOCKER_HOST": "unix:///x", "REGISTRY_HTTP_ADDR": ":1", "REGISTRYX": "kept", "PATH": "/bin"}
    assert runstate.proxy_free_env(environ=environ) == {"DOCKER_HOST": "unix:///x", "REGISTRY_HTTP_ADDR": ":1",
                                                        "REGISTRYX": "kept", "PATH": "/bin"}
    assert runstate.proxy_free_env(environ=environ, drop={"DOCKER_HOST"}, drop_prefixes=("REGISTRY_",)) == {
        "REGISTRYX": "kept", "PATH": "/bin"}


def _owner_in_run(root: Path, run: str, folder: Path) -> subprocess.Popen[bytes]:
    """A process that records ``folder`` as a kernel of build ``run`` would, then waits (its finally never runs)."""
    code = ("import sys, time\nfrom pathlib import Path\nfrom dockerlab import runstate\n"
            f"runstate.register('folder', {str(folder)!r}, root=Path({str(root)!r}))\n"
            "print('recorded', flush=True)\ntime.sleep(300)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            env={**os.environ, runstate.RUN_ENV: run})
    assert proc.stdout is not None and proc.stdout.readline() == b"recorded\n"
    return proc


def test_an_interrupted_build_stops_only_its_own_kernels_and_then_the_sweep_undoes_their_work(tmp_path: Path) -> None:
    ours, others = tmp_path / "ours", tmp_path / "others"
    ours.mkdir()
    others.mkdir()
    kernel = _owner_in_run(tmp_path, "build-1", ours)
    stranger = _owner_in_run(tmp_path, "build-2", others)  # e.g. a kernel of another build, still running
    try:
        assert runstate.stop_owners("build-1", tmp_path, grace=10) == [kernel.pid]
        assert kernel.wait(timeout=5) is not None and stranger.poll() is None
        assert runstate.sweep(tmp_path) == [f"folder {ours}"]
        assert not ours.exists() and others.exists()
        assert runstate.stop_owners("", tmp_path) == []  # outside a build nothing is anyone's to stop
    finally:
        for proc in (kernel, stranger):
            proc.kill()
            proc.wait()
