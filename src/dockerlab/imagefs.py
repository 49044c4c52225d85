"""Look inside an image's filesystem without running it, so it works for ``scratch`` images too.

The engine's archive API reads paths from a *created* (never started) container; an image
with no shell, or no command at all, can be inspected the same way as Debian.

>>> base_features("busybox:latest")  # doctest: +SKIP
BaseFeatures(shell='/bin/sh', package_manager=None, libc='glibc', linkage='static', ...)
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from docker.errors import NotFound

from dockerlab.engine import remove_quietly, resolve_client
from dockerlab.errors import ImageFsError
from dockerlab.ownership import container_labels

#: Where each shell / package manager / C library lives in the images the book compares (amd64).
SHELLS: tuple[str, ...] = ("/bin/sh", "/bin/bash", "/bin/ash")
PACKAGE_MANAGERS: dict[str, tuple[str, ...]] = {
    "apt": ("/usr/bin/apt-get",),
    "apk": ("/sbin/apk",),
}
SHARED_LIBCS: dict[str, tuple[str, ...]] = {
    "glibc": ("/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
    "musl": ("/lib/ld-musl-x86_64.so.1",),
}
#: Byte strings that identify what a static binary carries instead of a shared C library.
_GO_MARK = b"\xff Go buildinf:"
_GLIBC_MARKS = (b"GLIBC_TUNABLES", b"Fatal glibc error")
_MUSL_MARKS = (b"musl libc",)


@contextmanager
def created_container(tag: str, client: Any | None = None) -> Iterator[Any]:
    """A labelled container of ``tag`` that is created but never started, removed at the end."""
    client = resolve_client(client)
    # A command is required to create a container of an image without CMD; it never runs.
    container = client.containers.create(tag, ["/nonexistent"], labels=container_labels(),
                                         network_disabled=True)
    try:
        yield container
    finally:
        remove_quietly(container, force=True)


def _stat(container: Any, path: str) -> dict[str, Any] | None:
    """The archive API's stat of ``path`` (name, mode, linkTarget ...), or None when it does not exist."""
    try:
        stream, stat = container.get_archive(path)
    except NotFound:
        return None
    for _ in stream:  # drain the response, or the connection stays busy
        pass
    return cast("dict[str, Any]", stat)  # docker-py is untyped: the stat header is a JSON object


def read_image_file(tag: str, path: str, client: Any | None = None, *, max_links: int = 8) -> bytes:
    """The bytes of the regular file at ``path`` in ``tag``, following symbolic links."""
    with created_container(tag, client) as container:
        current = path
        for _ in range(max_links):
            try:
                stream, stat = container.get_archive(current)
            except NotFound:
                raise ImageFsError(f"{tag} has no {current}.") from None
            data = b"".join(stream)
            target = stat.get("linkTarget") or ""
            if target:  # a symbolic link: the archive holds the link, not what it points to
                current = target if target.startswith("/") else posixpath.join(posixpath.dirname(current), target)
                continue
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                member = tar.next()
                if member is None or not member.isfile():
                    raise ImageFsError(f"{current} in {tag} is not a regular file.")
                extracted = tar.extractfile(member)
                assert extracted is not None
                return extracted.read()
        raise ImageFsError(f"{path} in {tag} is a chain of more than {max_links} symbolic links.")


def static_runtime(binary: bytes) -> str:
    """What a statically linked binary carries in place of a shared C library: go, glibc, musl or unknown.

    >>> static_runtime(b"...\\xff Go buildinf:..."), static_runtime(b"...GLIBC_TUNABLES...")
    ('go', 'glibc')
    """
    if _GO_MARK in binary:
        return "go"
    if any(mark in binary for mark in _GLIBC_MARKS):
        return "glibc"
    if any(mark in binary for mark in _MUSL_MARKS):
        return "musl"
    return "unknown"


@dataclass(frozen=True)
class BaseFeatures:
    """What a base image offers a Dockerfile or a debugging session, as found in its filesystem."""

    tag: str
    shell: str | None  # the first of SHELLS present
    package_manager: str | None  # "apt", "apk" or None
    libc: str | None  # "glibc", "musl", or None when the image's program needs none (static Go)
    linkage: str  # "shared" (a libc .so other programs can use), "static" (inside one binary), "none"
    probe: str  # the file the libc answer comes from


def _entry_binary(container: Any, shell: str | None) -> str | None:
    config = container.client.api.inspect_image(container.attrs["Image"])["Config"] or {}
    argv = (config.get("Entrypoint") or []) + (config.get("Cmd") or [])
    first = argv[0] if argv else shell
    if not first:
        return None
    if first.startswith("/"):
        return first
    for folder in ("/bin", "/usr/bin", "/sbin", "/usr/sbin"):
        if _stat(container, f"{folder}/{first}") is not None:
            return f"{folder}/{first}"
    return None


def base_features(tag: str, client: Any | None = None) -> BaseFeatures:
    """Find ``tag``'s shell, package manager and C library by reading its filesystem (nothing is run).

    The C library is the shared one when the image has it; otherwise the image's own program
    (ENTRYPOINT/CMD) is read and classified with :func:`static_runtime`.
    """
    with created_container(tag, client) as container:
        shell = next((p for p in SHELLS if _stat(container, p) is not None), None)
        manager = next((name for name, paths in PACKAGE_MANAGERS.items()
                        if any(_stat(container, p) is not None for p in paths)), None)
        for libc, paths in SHARED_LIBCS.items():
            found = next((p for p in paths if _stat(container, p) is not None), None)
            if found:
                return BaseFeatures(tag, shell, manager, libc, "shared", found)
        binary = _entry_binary(container, shell)
    if binary is None:
        return BaseFeatures(tag, shell, manager, None, "none", "")
    runtime = static_runtime(read_image_file(tag, binary, client))
    if runtime == "go":
        return BaseFeatures(tag, shell, manager, None, "none", binary)
    return BaseFeatures(tag, shell, manager, None if runtime == "unknown" else runtime, "static", binary)
