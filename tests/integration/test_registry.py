"""A real Docker Distribution registry on loopback (and one in a shaped namespace): push, read, leave nothing behind."""

from __future__ import annotations

import socket
import subprocess
import uuid
from pathlib import Path

import pytest

from dockerlab import ensure_base, image_stats, run_image
from dockerlab.build import docker_build
from dockerlab.examples import PROJECT, PROJECT_LABEL
from dockerlab.netshape import link_exists, netns_exists, shaped_netns
from dockerlab.registry import local_registry, push_image, recompress, split_reference


def _listening(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, int(port))) == 0


def _alive(pid: int) -> bool:
    return subprocess.run(["kill", "-0", str(pid)], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def busybox(engine) -> str:
    ensure_base("busybox:latest", client=engine)
    return "busybox:latest"


def test_push_stores_compressed_layers_and_the_registry_is_gone_afterwards(engine, busybox) -> None:
    with local_registry() as registry:
        assert registry.address.startswith("127.0.0.1:")
        pushed = push_image(busybox, registry, client=engine)
        assert registry.repositories() == ["busybox"]
        storage, pid, address = registry.storage, registry.process.pid, registry.address
        assert storage.is_dir() and _listening(address)
    engine_size = image_stats(busybox, engine).size
    assert len(pushed.manifest.layers) == image_stats(busybox, engine).layers
    assert 0 < pushed.manifest.transfer_size < engine_size  # gzip on the wire
    # Nothing left: no process, no listener, no storage, no extra tag on the engine.
    assert not _alive(pid)
    assert not _listening(address)
    assert not storage.exists()
    assert not [t for img in engine.images.list() for t in img.tags if t.startswith(address)]


def test_a_failing_block_still_stops_the_registry() -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with local_registry() as registry:
            pid, storage = registry.process.pid, registry.storage
            raise RuntimeError("boom")
    assert not _alive(pid) and not storage.exists()


def test_a_second_registry_in_a_shaped_namespace_serves_the_same_blobs(engine, busybox) -> None:
    with shaped_netns(rate_mbit=100) as link:
        assert "rate 100Mbit" in link.qdisc()
        with local_registry() as registry, \
                local_registry(storage=registry.storage, host=link.ns_ip, netns=link.netns) as shaped:
            assert shaped.address == f"{link.ns_ip}:5000"
            pushed = push_image(busybox, registry, client=engine)
            assert shaped.manifest("busybox", "latest") == pushed.manifest
            shaped_pid = shaped.process.pid
        assert not _alive(shaped_pid)
        names = link.plan
    assert not netns_exists(names.netns)
    assert not link_exists(names.host_if)
    assert names.netns not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


def test_a_zstd_copy_has_zstd_layers_and_the_books_engine_pulls_and_runs_it(engine, busybox, tracked,
                                                                            tmp_path: Path) -> None:
    # A layer of its own on busybox: pulling the zstd copy then really downloads and unpacks a zstd layer.
    token = uuid.uuid4().hex[:12]
    (tmp_path / "Dockerfile").write_text(f"FROM {busybox}\nRUN echo {token} > /probe\n")
    tag = tracked.image(f"ch09/zstd-probe:{token}")
    docker_build(tmp_path, tag, what="zstd probe", labels={PROJECT_LABEL: PROJECT})
    with local_registry() as registry:
        pushed = push_image(tag, registry, client=engine)
        engine.images.remove(tag)
        # A plain skopeo copy first, so skopeo's own blob info cache knows where the gzip blob is: a
        # recompressing copy with that cache would mount the gzip blob instead of writing zstd.
        subprocess.run(["skopeo", "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
                        f"docker://{registry.reference(tag)}", f"docker://{registry.address}/plain:{token}"],
                       check=True, capture_output=True)
        copy = recompress(registry, tag, "zstd")
        assert copy.image == f"ch09/zstd-probe-zstd:{token}"
        assert copy.manifest.media_type == "application/vnd.oci.image.manifest.v1+json"
        assert copy.manifest.layer_media_types == (
            ["application/vnd.oci.image.layer.v1.tar+zstd"] * len(pushed.manifest.layers))
        assert registry.manifest(*split_reference(copy.image)) == copy.manifest
        assert registry.manifest(*split_reference(tag)).compression == "gzip"  # the source is untouched
        repository, copy_tag = split_reference(copy.reference)
        engine.images.pull(repository, tag=copy_tag)
        tracked.image(copy.reference)
        assert run_image(copy.reference, ["cat", "/probe"]) == f"{token}\n"
        assert image_stats(copy.reference, engine).layers == len(pushed.manifest.layers)
