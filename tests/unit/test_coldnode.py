"""dockerlab.coldnode without a daemon: command line, disk accounting, mounts, errors, cleanup."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from dockerlab.coldnode import (
    ColdNode,
    ColdNodeError,
    NodePaths,
    cli_size_column,
    cold_node,
    content_folder,
    disk_usage,
    dockerd_command,
    mounts_under,
    processes_under,
    store_folders,
)

from .fakes import FakeAPIClient, fake_client


def test_every_path_of_the_node_lives_under_its_root() -> None:
    paths = NodePaths(Path("/tmp/ch09-node-x"))
    for path in (paths.data_root, paths.exec_root, paths.pidfile, paths.socket, paths.config, paths.log):
        assert path.parent == paths.root
    assert paths.host == "unix:///tmp/ch09-node-x/docker.sock"


def test_the_engine_shares_nothing_with_the_first_one() -> None:
    paths = NodePaths(Path("/n"))
    command = dockerd_command(paths, bridge="ch09nabc")
    pairs = dict(zip(command[1::2], command[2::2], strict=False))
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


def _node(tmp_path: Path, progress: list[dict[str, Any]] | None = None, layers: int = 0,
          reference: str = "127.0.0.1:5000/busybox:latest") -> ColdNode:
    """A node whose data root holds ``layers`` layers, whose registry serves ``reference`` with ``progress``."""
    paths = NodePaths(tmp_path)
    (paths.data_root / "overlay2" / "l").mkdir(parents=True)
    for i in range(layers):
        (paths.data_root / "overlay2" / f"layer{i}").mkdir()
    api = FakeAPIClient()
    api.offer(reference, size=1982410, progress=progress)
    return ColdNode(paths, None, fake_client(api))


def test_pull_measures_time_and_what_the_data_root_grew_by(tmp_path: Path) -> None:
    node = _node(tmp_path, [{"status": "Pull complete"}])
    result = node.pull("127.0.0.1:5000/busybox:latest")
    assert node.client.images.get("127.0.0.1:5000/busybox:latest").attrs["Size"] == 1982410
    assert result.size == 1982410 and result.seconds >= 0 and result.disk_added == 0


def test_a_node_holding_layers_refuses_to_pull(tmp_path: Path) -> None:
    node = _node(tmp_path, layers=2)
    assert node.layer_count() == 2
    with pytest.raises(ColdNodeError, match=r"not cold before pulling 127.0.0.1:5000/busybox:latest; wipe it first\."):
        node.pull("127.0.0.1:5000/busybox:latest")


def test_a_warm_pull_names_the_layers_the_engine_already_had(tmp_path: Path) -> None:
    # docker pull's progress stream, as dockerd 26 writes it for an image whose base layer the node holds.
    stream = [
        {"status": "Pulling from svc-b", "id": "latest"},
        {"status": "Already exists", "progressDetail": {}, "id": "5c3ba3f4d1a2"},
        {"status": "Pulling fs layer", "progressDetail": {}, "id": "9e1d2c3b4a59"},
        {"status": "Pull complete", "progressDetail": {}, "id": "9e1d2c3b4a59"},
        {"status": "Digest: sha256:" + "ab" * 32},
        {"status": "Status: Downloaded newer image for 127.0.0.1:5000/svc-b:latest"},
    ]
    node = _node(tmp_path, stream, layers=2, reference="127.0.0.1:5000/svc-b:latest")
    result = node.pull("127.0.0.1:5000/svc-b:latest", cold=False)
    assert result.reused == ("5c3ba3f4d1a2",)


def test_a_failed_pull_is_one_sentence(tmp_path: Path) -> None:
    node = _node(tmp_path, [{"errorDetail": {"message": "manifest unknown"}, "error": "manifest unknown"}],
                 reference="r:1/x:latest")
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


# -- image stores: what the CLI prints, containerd's content store, store_sizes ------------

LS_OUTPUT = """REPOSITORY               TAG       IMAGE ID       CREATED          SIZE
127.0.0.1:44975/golang   1.19      215267db32d6   24 minutes ago   1.25GB
"""
DF_OUTPUT = """TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE
Images          1         0         961.9MB   961.9MB (100%)
Containers      0         0         0B        0B
Local Volumes   0         0         0B        0B
Build Cache     0         0         0B        0B
"""


def test_cli_size_column_reads_the_column_under_its_header() -> None:
    assert cli_size_column(LS_OUTPUT, "SIZE") == "1.25GB"  # not "ago", though CREATED has spaces
    assert cli_size_column(DF_OUTPUT, "SIZE", "Images") == "961.9MB"
    assert cli_size_column(DF_OUTPUT, "SIZE", "Containers") == "0B"


@pytest.mark.parametrize("output, row, message", [
    ("", None, "printed no SIZE column"),
    ("REPOSITORY   TAG\n", None, "printed no SIZE column"),
    ("REPOSITORY   SIZE\n", None, "printed no data row"),
    (DF_OUTPUT, "Volumes", "printed no Volumes row"),
])
def test_cli_size_column_fails_in_one_sentence(output: str, row: str | None, message: str) -> None:
    with pytest.raises(ColdNodeError, match=message):
        cli_size_column(output, "SIZE", row)


def test_only_the_containerd_store_has_a_content_store(tmp_path: Path) -> None:
    assert content_folder(tmp_path, "overlay2") is None
    assert content_folder(tmp_path, "containerd") == (
        tmp_path / "containerd" / "daemon" / "io.containerd.content.v1.content" / "blobs")


def _containerd_node(tmp_path: Path, blobs: int = 0, snapshots: int = 0) -> ColdNode:
    paths = NodePaths(tmp_path)
    content = content_folder(paths.data_root, "containerd") / "sha256"  # type: ignore[operator]
    content.mkdir(parents=True)
    for i in range(blobs):
        (content / f"{i:064x}").write_bytes(b"blob")
    snapshot_root = store_folders(paths.data_root, "containerd")[0]
    snapshot_root.mkdir(parents=True)
    for i in range(snapshots):
        (snapshot_root / str(i + 1)).mkdir()
    api = FakeAPIClient()
    api.add_image("ch09/left:behind")
    fake_client(api).containers.create("ch09/left:behind", name="left-behind")
    node = ColdNode(paths, None, fake_client(api), image_store="containerd")
    node.docker = lambda *args, check=True: ""  # type: ignore[method-assign]  # builder prune
    return node


def test_blob_count_counts_containerds_blobs_and_nothing_on_overlay2(tmp_path: Path) -> None:
    assert _containerd_node(tmp_path / "c", blobs=3).blob_count() == 3
    assert _node(tmp_path / "o").blob_count() == 0


def test_wipe_waits_for_containerds_garbage_collector_to_remove_the_blobs(tmp_path: Path) -> None:
    import threading

    node = _containerd_node(tmp_path, blobs=2, snapshots=1)
    content = content_folder(node.paths.data_root, "containerd") / "sha256"  # type: ignore[operator]
    snapshots = store_folders(node.paths.data_root, "containerd")[0]

    def collect() -> None:  # what containerd's GC does a moment after the images go
        time.sleep(0.2)
        for path in snapshots.iterdir():
            path.rmdir()
        time.sleep(0.3)
        for path in content.iterdir():
            path.unlink()

    gc = threading.Thread(target=collect)
    gc.start()
    node.wipe(timeout=10)
    gc.join()
    assert node.blob_count() == 0 and node.layer_count() == 0
    assert not node.client.containers.list(all=True) and not node.client.images.list(all=True)


def test_wipe_fails_when_a_blob_outlives_the_timeout(tmp_path: Path) -> None:
    node = _containerd_node(tmp_path, blobs=1)
    with pytest.raises(ColdNodeError, match=r"still holds 0 layer\(s\) and 1 blob\(s\) after removing every image\."):
        node.wipe(timeout=0.3)


def _store_node(
    tmp_path: Path, image_store: str, driver_status: list[list[str]]
) -> tuple[ColdNode, list[tuple[str, ...]]]:
    calls: list[tuple[str, ...]] = []

    def docker(*args: str, check: bool = True) -> str:
        calls.append(args)
        printed = {("image", "ls"): LS_OUTPUT, ("system", "df"): DF_OUTPUT, ("image", "inspect"): "291298489\n",
                   ("info", "-f"): "[[driver-type io.containerd.snapshotter.v1]]\n"}
        return printed[args[:2]]

    # A containerd-store engine's three sizes of one image: ls counts content and snapshot, inspect the
    # unpacked layers, df the snapshots of every image.
    api = FakeAPIClient(driver="overlayfs" if driver_status else "overlay2", driver_status=driver_status)
    api.add_image("127.0.0.1:44975/golang:1.19", size=291298489, listed_size=1253194937)
    api.layers_size = 961896448
    node = ColdNode(NodePaths(tmp_path), None, fake_client(api), image_store=image_store)
    node.docker = docker  # type: ignore[method-assign]
    return node, calls


def test_store_sizes_keeps_the_clis_words_and_the_bytes_behind_them(tmp_path: Path) -> None:
    node, calls = _store_node(tmp_path, "containerd", [["driver-type", "io.containerd.snapshotter.v1"]])
    sizes = node.store_sizes("127.0.0.1:44975/golang:1.19")
    assert (sizes.ls_size, sizes.inspect_size, sizes.df_size) == (1253194937, 291298489, 961896448)
    assert sizes.image_store == "containerd" and sizes.data_root >= 0
    assert [command for command, _ in sizes.outputs] == [
        "docker info -f '{{ .DriverStatus }}'",
        "docker image ls 127.0.0.1:44975/golang:1.19",
        "docker image inspect -f '{{.Size}}' 127.0.0.1:44975/golang:1.19",
        "docker system df",
    ]
    # Each command shown is the command run, against this node.
    assert calls == [("info", "-f", "{{ .DriverStatus }}"), ("image", "ls", "127.0.0.1:44975/golang:1.19"),
                     ("image", "inspect", "-f", "{{.Size}}", "127.0.0.1:44975/golang:1.19"), ("system", "df")]
    assert sizes.output("docker system df") == DF_OUTPUT


def test_store_sizes_refuses_a_node_whose_engine_uses_another_store(tmp_path: Path) -> None:
    node, _ = _store_node(tmp_path, "containerd", [])
    with pytest.raises(ColdNodeError, match="started with the containerd image store but docker info reports overlay2"):
        node.store_sizes("r/x:1")


def test_the_node_s_dockerd_gets_no_proxy_and_no_docker_host(tmp_path: Path, temp_root: Path, monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy:3128")
    monkeypatch.setenv("no_proxy", "localhost")
    monkeypatch.setenv("DOCKER_HOST", "unix:///the/first/engine.sock")
    seen = tmp_path / "env.txt"
    fake = _fake_dockerd(tmp_path, f"env > {seen}\necho 'level=error msg=\"failed: stop here\"'\nexit 1\n")
    with pytest.raises(ColdNodeError, match="stop here"):
        with cold_node(binary=fake, own_bridge=False):
            pass
    names = {line.split("=", 1)[0] for line in seen.read_text().splitlines() if "=" in line}
    assert "PATH" in names
    assert not {"HTTPS_PROXY", "no_proxy", "DOCKER_HOST"} & names
