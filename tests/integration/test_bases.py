"""Base images exist with provenance, and the bootstrapped ones are built the official way."""

import pytest

from dockerlab import image_stats, layer_rows, run_image
from dockerlab.bases import KNOWN_BASES, ensure_base
from dockerlab.errors import BaseImageError


@pytest.mark.parametrize("name", KNOWN_BASES)
def test_every_base_exists_with_provenance(engine, name: str) -> None:
    base = ensure_base(name)
    assert base.origin in ("pulled", "bootstrapped")
    if base.origin == "bootstrapped":
        assert base.detail and base.packages
    else:
        assert "@sha256:" in base.detail


def test_debian_is_one_rootfs_layer_on_scratch(engine) -> None:
    rows = layer_rows("debian:bookworm")
    # "ADD file:… in /" (classic builder) or "ADD rootfs.tar /" (BuildKit): one root filesystem added to scratch.
    assert rows[0].created_by.startswith("ADD ") and not rows[0].empty
    assert image_stats("debian:bookworm").layers == 1


def test_slim_is_smaller_and_has_no_man_pages(engine) -> None:
    assert image_stats("debian:bookworm-slim").size < image_stats("debian:bookworm").size
    out = run_image("debian:bookworm-slim", ["sh", "-c", "ls /usr/share/man | wc -l; ls /usr/share/doc/apt"])
    count, *doc = out.split()
    assert count == "0" and doc == ["copyright"]


def test_busybox_applets_are_hard_links_to_one_binary(engine) -> None:
    out = run_image("busybox:latest",
                    ["sh", "-c", "ls -i /bin/busybox /bin/sh /bin/ls | awk '{print $1}' | sort -u | wc -l"])
    assert out.strip() == "1"
    assert image_stats("busybox:latest").layers == 1


def test_golang_builder_has_go(engine) -> None:
    assert run_image("golang:1.19", ["go", "version"]).startswith("go version go1.19")


def test_alpine_is_reported_unavailable_not_faked(engine) -> None:
    with pytest.raises(BaseImageError, match="alpine:3.20 is not available in this build"):
        ensure_base("alpine:3.20")
