"""Two cold builds (no cache) of an unchanged example give images of the same size."""

import pytest

from dockerlab import build_example
from dockerlab.bases import add_rootfs_tarball
from dockerlab.gobuild import go_build
from tests.conftest import ROOT


def _hello(context):
    go_build(context, ["-trimpath", "hello.go"], "hello")


@pytest.mark.parametrize(("example", "prepare"), [("hello", _hello), ("rootfs-base", add_rootfs_tarball)])
def test_two_cold_builds_have_the_same_size(example, prepare, tracked) -> None:
    tags = [tracked.image(f"ch09/test-repro-{example}-{i}:latest") for i in (1, 2)]
    first, second = (build_example(example, tag, prepare=prepare, nocache=True, root=ROOT) for tag in tags)
    assert first.stats.size == second.stats.size
    assert first.stats.layers == second.stats.layers
