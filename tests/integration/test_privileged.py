"""Lab containers: where a reader who is not root runs the steps that need root (dockerlab.privileged)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from dockerlab import runstate
from dockerlab.ownership import OWNER_LABEL, PROJECT
from dockerlab.privileged import LAB_IMAGE, PURPOSE_LABEL, ensure_lab_image, lab_container


def _host_has_link(name: str) -> bool:
    return subprocess.run(["ip", "link", "show", "dev", name], capture_output=True).returncode == 0


def test_what_a_lab_container_makes_is_on_the_host_and_the_container_goes_with_its_block(engine) -> None:
    link = f"ch09t{secrets.token_hex(3)}"
    with lab_container("test") as lab:
        container = engine.containers.get(lab.name)
        assert container.attrs["HostConfig"]["Privileged"] is True
        assert container.attrs["HostConfig"]["NetworkMode"] == "host"
        assert container.labels[OWNER_LABEL] == PROJECT and container.labels[PURPOSE_LABEL] == "test"
        lab.run(["ip", "link", "add", link, "type", "bridge"], check=True)
        assert _host_has_link(link)  # the host's network: an interface made inside is the host's
        lab.run(["ip", "link", "del", link], check=True)
        # The same engine as the book's own install (Debian 13's docker.io).
        assert lab.run(["dockerd", "--version"], check=True).stdout.startswith("Docker version 26.")
        name = lab.name
    assert not engine.containers.list(all=True, filters={"name": name})
    assert not _host_has_link(link)
    assert engine.images.get(LAB_IMAGE)


def test_a_killed_runs_lab_container_and_interface_are_swept(engine, tmp_path: Path) -> None:
    ensure_lab_image(engine)
    (tmp_path / "examples").mkdir()
    (tmp_path / "conf.py").write_text("")
    link = f"ch09t{secrets.token_hex(3)}"
    child = textwrap.dedent(f"""
        import time
        from dockerlab import runstate
        from dockerlab.privileged import lab_container
        with lab_container("killed") as lab:
            runstate.register("link", "{link}")
            lab.run(["ip", "link", "add", "{link}", "type", "bridge"], check=True)
            print(lab.name, flush=True)
            time.sleep(300)
    """)
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "CH09_ROOT": str(tmp_path)})
    try:
        name = proc.stdout.readline().strip() if proc.stdout else ""
        assert name.startswith("ch09-lab-killed-")
        assert engine.containers.get(name).status == "running" and _host_has_link(link)
    finally:
        proc.send_signal(signal.SIGKILL)  # no finally runs: the container and the interface stay
        proc.wait()
    assert engine.containers.get(name).status == "running"
    undone = runstate.sweep(tmp_path)
    assert f"container {name}" in undone and f"link {link}" in undone
    assert not engine.containers.list(all=True, filters={"name": name})
    assert not _host_has_link(link)
    assert not runstate.records(tmp_path)
