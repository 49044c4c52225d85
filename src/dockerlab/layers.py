"""Read an image's layers as ``docker image save`` writes them.

Used for what the engine does not report directly: the compressed (transfer) size of each
layer, and what files each layer adds, changes or deletes.
"""

from __future__ import annotations

import json
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from dockerlab.engine import resolve_api

#: gzip level docker uses when it pushes a layer (Go's compress/gzip default).
PUSH_GZIP_LEVEL = 6


@dataclass(frozen=True)
class SavedLayer:
    """One layer of a saved image: its index (0 = base) and the path of its tar inside the archive."""

    index: int
    path: str


@contextmanager
def saved_image(tag: str, client: Any | None = None) -> Iterator[tuple[tarfile.TarFile, list[SavedLayer]]]:
    """Save ``tag`` to a temporary file (``docker image save``) and yield the archive and its layers, base first.

    >>> with saved_image("ch09/hello:latest") as (archive, layers):  # doctest: +SKIP
    ...     len(layers)
    1
    """
    api = resolve_api(client)
    with tempfile.TemporaryDirectory(prefix="ch09-save-") as tmp:
        path = Path(tmp) / "image.tar"
        with open(path, "wb") as out:
            for chunk in api.get_image(tag):
                out.write(chunk)
        with tarfile.open(path) as archive:
            yield archive, layers_of(archive)


def layers_of(archive: tarfile.TarFile) -> list[SavedLayer]:
    """The layer tar paths listed by ``manifest.json`` (legacy and OCI layouts alike), base first."""
    member = archive.extractfile("manifest.json")
    if member is None:
        raise ValueError("the saved image has no manifest.json")
    manifest = json.load(member)
    return [SavedLayer(i, p) for i, p in enumerate(manifest[0]["Layers"])]


def open_layer(archive: tarfile.TarFile, layer: SavedLayer) -> tarfile.TarFile:
    """Open one layer's tar (uncompressed, as saved)."""
    member = archive.extractfile(layer.path)
    if member is None:
        raise ValueError(f"layer {layer.path} is missing from the saved image")
    return tarfile.open(fileobj=member, mode="r|*")


def gzip_size(stream: IO[bytes], level: int = PUSH_GZIP_LEVEL, chunk: int = 1 << 20) -> int:
    """Bytes of ``stream`` once gzip-compressed at ``level``, without keeping the output.

    >>> import io; gzip_size(io.BytesIO(b"a" * 1000)) < 100
    True
    """
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: gzip header and trailer
    total = 0
    while data := stream.read(chunk):
        total += len(compressor.compress(data))
    return total + len(compressor.flush())


def compressed_layer_sizes(tag: str, client: Any | None = None, level: int = PUSH_GZIP_LEVEL) -> list[int]:
    """Gzip size of each layer tar, base first: an estimate of what ``docker push`` sends.

    The registry's own figure (the manifest's layer sizes after a real push) is exact;
    this one needs no registry and differs from it by the compressor's details only.
    """
    with saved_image(tag, client) as (archive, layers):
        sizes = []
        for layer in layers:
            member = archive.extractfile(layer.path)
            if member is None:
                raise ValueError(f"layer {layer.path} is missing from the saved image")
            sizes.append(gzip_size(member, level))
        return sizes


def compressed_size(tag: str, client: Any | None = None) -> int:
    """Sum of :func:`compressed_layer_sizes`: the estimated transfer size of the whole image."""
    return sum(compressed_layer_sizes(tag, client))


@dataclass(frozen=True)
class ContentBytes:
    """What an image's layer tars hold: bytes of regular files, and the lengths of symbolic link targets."""

    files: int
    symlinks: int

    @property
    def total(self) -> int:
        return self.files + self.symlinks


def content_bytes(tag: str, client: Any | None = None) -> ContentBytes:
    """Sum the regular files (a hard link's later names count 0) and symlink target lengths of every layer.

    An engine's image size is one of these sums: a layer that arrived as a tar (a pull, the classic
    builder) counts both, while on Engine 26's overlay2 store a layer BuildKit made counts the
    files only (measured in the book, pages 01 and 04-9).
    """
    files = links = 0
    with saved_image(tag, client) as (archive, layers):
        for layer in layers:
            for entry in open_layer(archive, layer):
                if entry.isreg():
                    files += entry.size
                elif entry.issym():
                    links += len(entry.linkname.encode("utf-8", "surrogateescape"))  # bytes, not characters
    return ContentBytes(files, links)
