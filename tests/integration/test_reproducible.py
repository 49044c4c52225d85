"""Two cold builds of an unchanged example, compared by digest on the real engines.

On the book's engine (overlay2 store, BuildKit's docker driver, ``--load``) the image ID is the
config digest: build times in the config make it differ unless ``SOURCE_DATE_EPOCH`` is set,
and file modification times in the layers make it differ even then (``rewrite-timestamp`` is
ignored there). On a node with the containerd image store, an OCI archive built with both is
the same byte for byte.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockerlab import build_example
from dockerlab.bases import add_rootfs_tarball
from dockerlab.coldnode import cold_node
from dockerlab.gobuild import go_build
from dockerlab.hello import compile_hello
from dockerlab.reproducible import (
    DIGEST,
    build_refusal,
    compare_archives,
    file_sha256,
    image_files,
    loaded_build,
    private_context,
    reproducible_build,
)
from tests.conftest import ROOT

EPOCH = 1_700_000_000


def _hello(context):
    go_build(context, ["-trimpath", "hello.go"], "hello")


@pytest.mark.parametrize(("example", "prepare"), [("hello", _hello), ("rootfs-base", add_rootfs_tarball)])
def test_two_cold_builds_have_the_same_size(example, prepare, tracked) -> None:
    tags = [tracked.image(f"ch09/test-repro-{example}-{i}:latest") for i in (1, 2)]
    first, second = (build_example(example, tag, prepare=prepare, nocache=True, root=ROOT) for tag in tags)
    assert first.stats.size == second.stats.size
    assert first.stats.layers == second.stats.layers


def _later(context: Path, seconds: int = 5) -> None:
    """Make the compiled hello look compiled ``seconds`` later (a second checkout, built later)."""
    binary = context / "hello"
    when = binary.stat().st_mtime + seconds
    os.utime(binary, (when, when))


@pytest.fixture
def hello_contexts(tmp_path):
    first = private_context("hello", tmp_path / "a", compile_hello)
    second = private_context("hello", tmp_path / "b", compile_hello)
    _later(second)
    assert (first / "hello").read_bytes() == (second / "hello").read_bytes()
    return first, second


def test_on_the_books_engine_only_the_config_times_differ_without_an_epoch(hello_contexts, tracked, tmp_path) -> None:
    tag = tracked.image("ch09/test-repro-hello:latest")
    first, second = (loaded_build(hello_contexts[0], tag, tmp_path / f"{n}.tar", example="hello", epoch=None)
                     for n in (1, 2))
    assert first.image_id != second.image_id
    diff = compare_archives(first.archive, second.archive)
    assert set(diff.config_fields) == {"created", "history"} and diff.layers == ()


def test_on_the_books_engine_an_epoch_makes_copy_only_images_equal(hello_contexts, tracked, tmp_path) -> None:
    tag = tracked.image("ch09/test-repro-hello:latest")
    first, second = (loaded_build(hello_contexts[0], tag, tmp_path / f"{n}.tar", example="hello", epoch=EPOCH,
                                  rewrite_timestamp=True) for n in (1, 2))
    assert DIGEST.match(first.image_id) and first.image_id == second.image_id
    assert compare_archives(first.archive, second.archive).same_config


def test_on_the_books_engine_rewrite_timestamp_is_ignored(hello_contexts, tracked, tmp_path) -> None:
    tag = tracked.image("ch09/test-repro-hello:latest")
    first, second = (loaded_build(ctx, tag, tmp_path / f"{n}.tar", example="hello", epoch=EPOCH, rewrite_timestamp=True)
                     for n, ctx in enumerate(hello_contexts, 1))
    assert first.image_id != second.image_id
    diff = compare_archives(first.archive, second.archive)
    assert [(c.layer, c.path, c.what) for c in diff.files] == [(1, "hello", "mtime")]
    # The binaries' own times, not the epoch.
    assert {f.mtime for f in image_files(first.archive)[0].values()} == {
        int((hello_contexts[0] / "hello").stat().st_mtime)}


def test_on_the_books_engine_the_docker_driver_refuses_oci_archives(hello_contexts, tmp_path) -> None:
    dest = tmp_path / "x.tar"
    refusal = build_refusal(hello_contexts[0], f"type=oci,dest={dest},rewrite-timestamp=true", epoch=EPOCH)
    assert refusal is not None and "not supported for the docker driver" in refusal
    assert not dest.exists() or dest.stat().st_size == 0


@pytest.fixture(scope="module")
def containerd_node():
    with cold_node(image_store="containerd") as node:
        yield node


def test_on_the_containerd_store_two_builds_give_one_digest(containerd_node, hello_contexts, tmp_path) -> None:
    host = containerd_node.paths.host
    first, second = (reproducible_build(ctx, tmp_path / f"{n}.tar", what="examples/hello", epoch=EPOCH, host=host)
                     for n, ctx in enumerate(hello_contexts, 1))
    assert DIGEST.match(first.digest) and first.digest == second.digest
    assert first.sha256 == second.sha256 == file_sha256(first.archive)
    assert {f.mtime for f in image_files(first.archive)[0].values()} == {float(EPOCH)}
    assert first.image.created == "2023-11-14T22:13:20Z"


def test_on_the_containerd_store_without_rewrite_the_mtime_still_differs(containerd_node, hello_contexts,
                                                                         tmp_path) -> None:
    host = containerd_node.paths.host
    first, second = (reproducible_build(ctx, tmp_path / f"{n}.tar", what="examples/hello", epoch=EPOCH, host=host,
                                        rewrite_timestamp=False) for n, ctx in enumerate(hello_contexts, 1))
    assert first.digest != second.digest
    diff = compare_archives(first.archive, second.archive)
    assert diff.config_fields == ("rootfs",)
    assert [(c.layer, c.path, c.what) for c in diff.files] == [(1, "hello", "mtime")]


def test_on_the_containerd_store_the_image_exporter_refuses_rewrite_timestamp(containerd_node, hello_contexts) -> None:
    refusal = build_refusal(hello_contexts[0], "type=image,name=ch09/test-repro-hello:node,rewrite-timestamp=true",
                            epoch=EPOCH, host=containerd_node.paths.host)
    assert refusal is not None and 'conflicts with "unpack"' in refusal
