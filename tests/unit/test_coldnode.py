"""dockerlab.coldnode without a daemon: command line, disk accounting, mounts, errors, cleanup."""

from __future__ import annotations

import os
import subprocess
import time
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from dockerlab.coldnode import (
    ColdNode,
    ColdNodeError,
    NodePaths,
    cold_node,
    disk_usage,
    dockerd_command,
    mounts_under,
    processes_under,
)


def test_every_path_of_the_node_lives_under_its_root() -> None:
    paths = NodePaths(Path("/tmp/ch09-node-x"))
    for path in (paths.data_root, paths.exec_root, paths.pidfile, paths.socket, paths.config, paths.log):
        assert path.parent == paths.root
    assert paths.host == "unix:///tmp/ch09-node-x/docker.sock"


def test_the_engine_shares_nothing_with_the_first_one() -> None:
    paths = NodePaths(Path("/n"))
    command = dockerd_command(paths, bridge="ch09nabc")
    pairs = dict(zip(command[1::2], command[2::2]))
    assert pairs["--config-file"] == "/n/daemon.json"
    assert pairs["--data-root"] == "/n/data"
    assert pairs["--exec-root"] == "/n/exec"
    assert pairs["--pidfile"] == "/n/dockerd.pid"
    assert pairs["-H"] == "unix:///n/docker.sock"
    assert "--bridge=ch09nabc" in command and "--iptables=false" in command and "--ip-masq=false" in command
    assert "--insecure-registry" not in command


def test_insecure_registries_are_listed_one_flag_each() -> None:
    command = dockerd_command(NodePaths(Path("/n")), ["10.209.0.2:5000", "10.209.0.6:5000"])
    assert command[-4:] == ["--insecure-registry", "10.209.0.2:5000", "--insecure-registry", "10.209.0.6:5000"]


def test_disk_usage_counts_allocated_blocks_and_hard_links_once(tmp_path: Path) -> None:
    empty = disk_usage(tmp_path)
    data = tmp_path / "layer.bin"
    data.write_bytes(os.urandom(256 * 1024))
    one = disk_usage(tmp_path)
    os.link(data, tmp_path / "same-inode")
    assert disk_usage(tmp_path) == one
    assert one - empty >= 256 * 1024


def test_mounts_under_keeps_only_the_node_and_puts_the_deepest_first() -> None:
    info = "\n".join([
        "36 25 0:32 / /tmp/ch09-node-a rw - tmpfs t rw",
        "37 36 0:33 / /tmp/ch09-node-a/data/overlay2/x/merged rw - overlay o rw",
        "38 25 0:34 / /tmp/ch09-node-ab rw - tmpfs t rw",
        "39 25 0:35 / /proc rw - proc p rw",
    ])
    assert mounts_under(Path("/tmp/ch09-node-a"), info) == [
        "/tmp/ch09-node-a/data/overlay2/x/merged",
        "/tmp/ch09-node-a",
    ]


def test_processes_under_finds_a_process_naming_the_folder(tmp_path: Path) -> None:
    marker = tmp_path / "node"
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", str(marker)])
    try:
        # Right after fork the child's command line is still the parent's: give exec a moment.
        for _ in range(100):
            if proc.pid in processes_under(marker):
                break
            time.sleep(0.05)
        assert proc.pid in processes_under(marker)
    finally:
        proc.kill()
        proc.wait()
    assert proc.pid not in processes_under(marker)


class _Images:
    def __init__(self, listed: list[Any]) -> None:
        self.listed = listed

    def list(self, all: bool = False) -> list[Any]:  # noqa: A002 - docker-py's name
        return self.listed


class _API:
    def __init__(self, stream: list[dict[str, Any]]) -> None:
        self.stream = stream

    def pull(self, reference: str, stream: bool, decode: bool):
        return iter(self.stream)

    def inspect_image(self, reference: str) -> dict[str, Any]:
        return {"Size": 1982410}


class _Client:
    def __init__(self, stream: list[dict[str, Any]]) -> None:
        self.api = _API(stream)
        self.images = _Images([])


def _node(tmp_path: Path, stream: list[dict[str, Any]], layers: int = 0) -> ColdNode:
    paths = NodePaths(tmp_path)
    (paths.data_root / "overlay2" / "l").mkdir(parents=True)
    for i in range(layers):
        (paths.data_root / "overlay2" / f"layer{i}").mkdir()
    return ColdNode(paths, None, _Client(stream))  # type: ignore[arg-type]


def test_pull_measures_time_and_what_the_data_root_grew_by(tmp_path: Path) -> None:
    node = _node(tmp_path, [{"status": "Pull complete"}])
    result = node.pull("127.0.0.1:5000/busybox:latest")
    assert result.size == 1982410 and result.seconds >= 0 and result.disk_added == 0


def test_a_node_holding_layers_refuses_to_pull(tmp_path: Path) -> None:
    node = _node(tmp_path, [], layers=2)
    assert node.layer_count() == 2
    with pytest.raises(ColdNodeError, match=r"not cold before pulling 127.0.0.1:5000/busybox:latest; wipe it first\."):
        node.pull("127.0.0.1:5000/busybox:latest")


def test_a_failed_pull_is_one_sentence(tmp_path: Path) -> None:
    node = _node(tmp_path, [{"errorDetail": {"message": "manifest unknown"}, "error": "manifest unknown"}])
    with pytest.raises(ColdNodeError, match=r"^the cold node could not pull r:1/x:latest: manifest unknown$"):
        node.pull("r:1/x:latest")


def test_a_missing_dockerd_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(ColdNodeError, match="install Debian's docker.io package"):
        with cold_node(binary=str(tmp_path / "dockerd")):
            pass


def _fake_dockerd(tmp_path: Path, script: str) -> str:
    fake = tmp_path / "dockerd"
    fake.write_text("#!/bin/sh\n" + script)
    fake.chmod(0o755)
    return str(fake)


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch) -> Path:
    """Make the node's temporary folder inside the test's own folder, to check it is removed."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def test_an_engine_that_exits_is_reported_with_its_log_and_leaves_nothing(tmp_path: Path, temp_root: Path) -> None:
    fake = _fake_dockerd(tmp_path, "echo 'level=error msg=\"failed to start: address in use\"'\nexit 1\n")
    with pytest.raises(ColdNodeError, match=r"dockerd exited with status 1: .*address in use"):
        with cold_node(binary=fake, own_bridge=False):
            pass
    assert list(temp_root.iterdir()) == []


def test_an_engine_that_never_answers_is_stopped_and_removed(tmp_path: Path, temp_root: Path) -> None:
    fake = _fake_dockerd(tmp_path, "exec sleep 30\n")
    with pytest.raises(ColdNodeError, match=r"did not answer on \S+/ch09-node-\w+/docker.sock within 0.5s\."):
        with cold_node(binary=fake, timeout=0.5, own_bridge=False):
            pass
    assert list(temp_root.iterdir()) == []
