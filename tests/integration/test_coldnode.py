"""A real second dockerd: starts empty, pulls from a real local registry, and leaves nothing behind."""

from __future__ import annotations

import pytest

from dockerlab import ensure_base, image_stats
from dockerlab.coldnode import cli_size_column, cold_node, mounts_under, processes_under
from dockerlab.registry import local_registry, push_image
from dockerlab.sizes import human_size


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


def test_the_overlay2_store_reports_one_size_the_books_engine_reports_too(engine, pushed_busybox) -> None:
    reference = pushed_busybox.reference("busybox:latest")
    with cold_node() as node:
        node.pull(reference)
        sizes = node.store_sizes(reference)
    assert sizes.image_store == "overlay2" and "driver-type" not in sizes.output("docker info")
    assert sizes.ls_size == sizes.inspect_size == sizes.df_size == image_stats("busybox:latest", engine).size
    assert cli_size_column(sizes.output("docker image ls"), "SIZE") == human_size(sizes.ls_size)
    assert sizes.output("docker image inspect").strip() == str(sizes.inspect_size)


def test_the_containerd_store_keeps_the_pulled_blobs_and_counts_them(engine, pushed_busybox) -> None:
    reference = pushed_busybox.reference("busybox:latest")
    manifest = pushed_busybox.manifest("busybox", "latest")
    with cold_node(image_store="containerd") as node:
        paths = node.paths
        pulled = node.pull(reference)
        sizes = node.store_sizes(reference)
        assert node.blob_count() == 2 + len(manifest.layers)  # manifest, config, each compressed layer
        node.wipe()
        assert node.blob_count() == 0 and node.layer_count() == 0
    assert "[[driver-type io.containerd.snapshotter.v1]]" in sizes.output("docker info")
    # inspect .Size: every blob pulled; system df: the unpacked snapshot; ls: both.
    assert sizes.inspect_size == manifest.content_size == pulled.size
    assert sizes.ls_size == sizes.inspect_size + sizes.df_size
    assert sizes.df_size >= image_stats("busybox:latest", engine).size  # allocated blocks >= file bytes
    assert cli_size_column(sizes.output("docker system df"), "SIZE", "Images") == human_size(sizes.df_size, 4)
    assert 0 <= pulled.disk_added - sizes.ls_size <= 512 * 1024
    _assert_gone(paths)


def _links() -> str:
    import subprocess

    return subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout


def test_the_first_engines_bridge_survives_a_cold_node(engine, pushed_busybox) -> None:
    assert " docker0:" in _links()
    with cold_node() as node:
        node.pull(pushed_busybox.reference("busybox:latest"))
        # The node's own bridge (other cold nodes may run at the same time: look for this one's).
        own = [arg.split("=", 1)[1] for arg in node.process.args if arg.startswith("--bridge=")]
        assert len(own) == 1 and own[0].startswith("ch09n") and f" {own[0]}:" in _links()
    assert " docker0:" in _links()  # an engine started with --bridge=none would have deleted it
    assert f" {own[0]}:" not in _links()
    from dockerlab import run_image

    assert run_image("busybox:latest", ["echo", "still networked"]) == "still networked\n"


def _assert_gone(paths) -> None:
    assert processes_under(paths.root) == []  # no dockerd, no containerd of this node
    assert not paths.socket.exists()
    assert not paths.data_root.exists()
    assert not paths.root.exists()
    assert mounts_under(paths.root) == []
