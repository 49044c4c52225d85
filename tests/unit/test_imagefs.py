"""Reading an image's files through the archive API, with a fake engine holding small filesystems."""

from __future__ import annotations

from typing import Any

import pytest

from dockerlab.imagefs import BaseFeatures, ImageFsError, base_features, read_image_file, static_runtime
from dockerlab.ownership import container_labels

from .fakes import FakeAPIClient, Symlink, fake_client

GO_BINARY = b"\x7fELF...\xff Go buildinf:..."
GLIBC_STATIC = b"\x7fELF...GLIBC_TUNABLES..."


def _engine(images: dict[str, dict[str, Any]]) -> FakeAPIClient:
    """A fake engine holding each image ``{"config": ..., "files": {path: bytes or Symlink}}``."""
    api = FakeAPIClient()
    for tag, image in images.items():
        api.add_image(tag, config=image["config"], files=image["files"])
    return api


def _reads(api: FakeAPIClient) -> list[str]:
    """The paths asked of the archive API, in order."""
    return [args["path"] for method, args in api.calls if method == "get_archive"]


IMAGES = {
    "hello": {"config": {"Cmd": ["/hello"]}, "files": {"/hello": GO_BINARY}},
    "busybox": {"config": {"Cmd": ["sh"]}, "files": {"/bin/sh": GLIBC_STATIC, "/bin/busybox": GLIBC_STATIC}},
    "debian": {
        "config": {"Cmd": ["bash"]},
        "files": {
            "/bin/sh": Symlink("dash"),
            "/bin/dash": b"\x7fELF dynamic",
            "/usr/bin/apt-get": b"\x7fELF",
            "/lib/x86_64-linux-gnu/libc.so.6": b"\x7fELF libc",
        },
    },
    "alpine-like": {
        "config": {"Cmd": ["/bin/sh"]},
        "files": {"/bin/sh": Symlink("/bin/busybox"), "/bin/busybox": b"x", "/sbin/apk": b"x",
                  "/lib/ld-musl-x86_64.so.1": b"x"},
    },
}


def test_static_runtime_tells_go_glibc_musl_and_unknown_apart() -> None:
    assert static_runtime(GO_BINARY) == "go"
    assert static_runtime(GLIBC_STATIC) == "glibc"
    assert static_runtime(b"...musl libc...") == "musl"
    assert static_runtime(b"\x7fELF plain") == "unknown"


def test_a_scratch_image_has_no_shell_no_package_manager_and_a_go_runtime() -> None:
    client = fake_client(_engine(IMAGES))
    assert base_features("hello", client) == BaseFeatures("hello", None, None, None, "none", "/hello")


def test_busybox_has_a_shell_and_glibc_linked_into_it() -> None:
    features = base_features("busybox", fake_client(_engine(IMAGES)))
    assert (features.shell, features.package_manager, features.libc, features.linkage) == (
        "/bin/sh", None, "glibc", "static")
    assert features.probe == "/bin/sh"  # CMD ["sh"] resolved on the PATH folders


def test_debian_and_alpine_have_a_shared_libc_and_their_package_manager() -> None:
    client = fake_client(_engine(IMAGES))
    debian = base_features("debian", client)
    assert (debian.shell, debian.package_manager, debian.libc, debian.linkage) == ("/bin/sh", "apt", "glibc", "shared")
    alpine = base_features("alpine-like", client)
    assert (alpine.package_manager, alpine.libc, alpine.probe) == ("apk", "musl", "/lib/ld-musl-x86_64.so.1")


def test_containers_are_created_labelled_without_network_and_always_removed() -> None:
    api = _engine(IMAGES)
    base_features("hello", fake_client(api))
    base_features("debian", fake_client(api))
    assert api.created() and not api.container_store
    assert all(c["Labels"] == container_labels() and c["NetworkDisabled"] for c in api.created())


def test_read_image_file_follows_relative_and_absolute_links() -> None:
    api = _engine(IMAGES)
    client = fake_client(api)
    assert read_image_file("debian", "/bin/sh", client) == b"\x7fELF dynamic"
    assert _reads(api)[-2:] == ["/bin/sh", "/bin/dash"]
    assert read_image_file("alpine-like", "/bin/sh", client) == b"x"


def test_a_missing_file_or_a_link_loop_fails_in_one_sentence() -> None:
    images = {"loop": {"config": {}, "files": {"/a": Symlink("/b"), "/b": Symlink("/a")}}}
    client = fake_client(_engine({**IMAGES, **images}))
    with pytest.raises(ImageFsError, match="hello has no /bin/sh"):
        read_image_file("hello", "/bin/sh", client)
    with pytest.raises(ImageFsError, match="chain of more than 8 symbolic links"):
        read_image_file("loop", "/a", client)
