"""A real second dockerd: starts empty, pulls from a real local registry, and leaves nothing behind."""

from __future__ import annotations

import pytest

from dockerlab import ensure_base, image_stats
from dockerlab.coldnode import cold_node, mounts_under, processes_under
from dockerlab.registry import local_registry, push_image


@pytest.fixture(scope="module")
def pushed_busybox(engine):
    ensure_base("busybox:latest", client=engine)
    with local_registry() as registry:
        push_image("busybox:latest", registry, client=engine)
        yield registry


def test_a_cold_node_holds_nothing_then_pulls_runs_and_wipes(engine, pushed_busybox) -> None:
    reference = pushed_busybox.reference("busybox:latest")
    with cold_node() as node:
        paths = node.paths
        assert node.client.images.list(all=True) == [] and node.layer_count() == 0
        # A different engine from the book's: its own data root.
        assert node.client.info()["DockerRootDir"] == str(paths.data_root)
        pulled = node.pull(reference)
        assert pulled.size == image_stats("busybox:latest", engine).size
        assert pulled.disk_added > 0 and node.layer_count() > 0
        assert node.run(reference, ["echo", "on the cold node"]).output == "on the cold node\n"
        node.wipe()
        assert node.layer_count() == 0 and node.client.images.list(all=True) == []
        assert node.client.containers.list(all=True) == []
        assert paths.socket.exists() and processes_under(paths.root)
    _assert_gone(paths)


def test_a_failing_block_still_stops_the_engine_and_removes_its_data(pushed_busybox) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with cold_node() as node:
            paths = node.paths
            node.pull(pushed_busybox.reference("busybox:latest"))
            raise RuntimeError("boom")
    _assert_gone(paths)


def _links() -> str:
    import subprocess

    return subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout


def test_the_first_engines_bridge_survives_a_cold_node(engine, pushed_busybox) -> None:
    assert " docker0:" in _links()
    with cold_node() as node:
        node.pull(pushed_busybox.reference("busybox:latest"))
        own = [line.split(":")[1].strip() for line in _links().splitlines() if ": ch09n" in line]
        assert len(own) == 1
    assert " docker0:" in _links()  # an engine started with --bridge=none would have deleted it
    assert own[0] not in _links()
    from dockerlab import run_image

    assert run_image("busybox:latest", ["echo", "still networked"]) == "still networked\n"


def _assert_gone(paths) -> None:
    assert processes_under(paths.root) == []  # no dockerd, no containerd of this node
    assert not paths.socket.exists()
    assert not paths.data_root.exists()
    assert not paths.root.exists()
    assert mounts_under(paths.root) == []
