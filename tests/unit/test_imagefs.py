"""Reading an image's files through the archive API, with a fake engine holding small filesystems."""

from __future__ import annotations

import io
import tarfile
from typing import Any

import pytest
from docker.errors import NotFound

from dockerlab.imagefs import BaseFeatures, ImageFsError, base_features, read_image_file, static_runtime
from dockerlab.ownership import container_labels

GO_BINARY = b"\x7fELF...\xff Go buildinf:..."
GLIBC_STATIC = b"\x7fELF...GLIBC_TUNABLES..."
MODE_SYMLINK = 1 << 27  # Go's os.ModeSymlink, as the engine reports it


def _tar(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class FakeFsContainer:
    """A created container of an image whose files are ``{path: bytes}`` or ``{path: ("link", target)}``."""

    def __init__(self, client: FakeFsClient, tag: str) -> None:
        self.client = client
        self.files = client.images[tag]["files"]
        self.attrs = {"Image": tag}
        self.removed = False

    def get_archive(self, path: str) -> tuple[Any, dict[str, Any]]:
        self.client.reads.append(path)
        if path not in self.files:
            raise NotFound(f"Could not find the file {path} in container")
        entry = self.files[path]
        name = path.rsplit("/", 1)[-1]
        if isinstance(entry, tuple):
            return iter([_tar(name, b"")]), {"name": name, "mode": MODE_SYMLINK | 0o777, "linkTarget": entry[1]}
        return iter([_tar(name, entry)]), {"name": name, "mode": 0o755, "linkTarget": ""}

    def remove(self, force: bool = False) -> None:
        self.removed = True


class FakeFsContainers:
    def __init__(self, client: FakeFsClient) -> None:
        self.client = client
        self.made: list[FakeFsContainer] = []
        self.kwargs: list[dict[str, Any]] = []

    def create(self, tag: str, command: Any = None, **kwargs: Any) -> FakeFsContainer:
        self.kwargs.append({"command": command, **kwargs})
        self.made.append(FakeFsContainer(self.client, tag))
        return self.made[-1]


class FakeFsAPI:
    def __init__(self, client: FakeFsClient) -> None:
        self.client = client

    def inspect_image(self, tag: str) -> dict[str, Any]:
        return {"Config": self.client.images[tag]["config"]}


class FakeFsClient:
    def __init__(self, images: dict[str, dict[str, Any]]) -> None:
        self.images = images
        self.reads: list[str] = []
        self.containers = FakeFsContainers(self)
        self.api = FakeFsAPI(self)


IMAGES = {
    "hello": {"config": {"Cmd": ["/hello"]}, "files": {"/hello": GO_BINARY}},
    "busybox": {"config": {"Cmd": ["sh"]}, "files": {"/bin/sh": GLIBC_STATIC, "/bin/busybox": GLIBC_STATIC}},
    "debian": {
        "config": {"Cmd": ["bash"]},
        "files": {
            "/bin/sh": ("link", "dash"),
            "/bin/dash": b"\x7fELF dynamic",
            "/usr/bin/apt-get": b"\x7fELF",
            "/lib/x86_64-linux-gnu/libc.so.6": b"\x7fELF libc",
        },
    },
    "alpine-like": {
        "config": {"Cmd": ["/bin/sh"]},
        "files": {"/bin/sh": ("link", "/bin/busybox"), "/bin/busybox": b"x", "/sbin/apk": b"x",
                  "/lib/ld-musl-x86_64.so.1": b"x"},
    },
}


def test_static_runtime_tells_go_glibc_musl_and_unknown_apart() -> None:
    assert static_runtime(GO_BINARY) == "go"
    assert static_runtime(GLIBC_STATIC) == "glibc"
    assert static_runtime(b"...musl libc...") == "musl"
    assert static_runtime(b"\x7fELF plain") == "unknown"


def test_a_scratch_image_has_no_shell_no_package_manager_and_a_go_runtime() -> None:
    client = FakeFsClient(IMAGES)
    assert base_features("hello", client) == BaseFeatures("hello", None, None, None, "none", "/hello")


def test_busybox_has_a_shell_and_glibc_linked_into_it() -> None:
    features = base_features("busybox", FakeFsClient(IMAGES))
    assert (features.shell, features.package_manager, features.libc, features.linkage) == (
        "/bin/sh", None, "glibc", "static")
    assert features.probe == "/bin/sh"  # CMD ["sh"] resolved on the PATH folders


def test_debian_and_alpine_have_a_shared_libc_and_their_package_manager() -> None:
    client = FakeFsClient(IMAGES)
    debian = base_features("debian", client)
    assert (debian.shell, debian.package_manager, debian.libc, debian.linkage) == ("/bin/sh", "apt", "glibc", "shared")
    alpine = base_features("alpine-like", client)
    assert (alpine.package_manager, alpine.libc, alpine.probe) == ("apk", "musl", "/lib/ld-musl-x86_64.so.1")


def test_containers_are_created_labelled_without_network_and_always_removed() -> None:
    client = FakeFsClient(IMAGES)
    base_features("hello", client)
    base_features("debian", client)
    assert all(c.removed for c in client.containers.made)
    assert all(k["labels"] == container_labels() and k["network_disabled"] for k in client.containers.kwargs)


def test_read_image_file_follows_relative_and_absolute_links() -> None:
    client = FakeFsClient(IMAGES)
    assert read_image_file("debian", "/bin/sh", client) == b"\x7fELF dynamic"
    assert client.reads[-2:] == ["/bin/sh", "/bin/dash"]
    assert read_image_file("alpine-like", "/bin/sh", client) == b"x"


def test_a_missing_file_or_a_link_loop_fails_in_one_sentence() -> None:
    images = {"loop": {"config": {}, "files": {"/a": ("link", "/b"), "/b": ("link", "/a")}}}
    client = FakeFsClient({**IMAGES, **images})
    with pytest.raises(ImageFsError, match="hello has no /bin/sh"):
        read_image_file("hello", "/bin/sh", client)
    with pytest.raises(ImageFsError, match="chain of more than 8 symbolic links"):
        read_image_file("loop", "/a", client)
