"""Measure images the way a reader would check them with the docker CLI."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol, cast

from dockerlab.engine import resolve_api, resolve_client
from dockerlab.sizes import human_size


class _ImagesAPI(Protocol):
    def inspect_image(self, image: str) -> dict[str, Any]: ...
    def history(self, image: str) -> list[dict[str, Any]]: ...
    def images(self, name: str | None = None, quiet: bool = False, all: bool = False,
               filters: dict[str, Any] | None = None) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class ImageStats:
    """What ``docker image inspect`` says of one image."""

    tag: str
    id: str
    size: int
    layers: int
    digests: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def human(self) -> str:
        """The size as ``docker image ls`` prints it."""
        return human_size(self.size)

    @property
    def short_id(self) -> str:
        """The 12-character ID ``docker image ls`` prints."""
        return self.id.split(":", 1)[-1][:12]

    def label(self, key: str, default: str = "") -> str:
        return dict(self.labels).get(key, default)


def _api(client: Any | None) -> _ImagesAPI:
    # docker-py is untyped; the protocol names the part of its low-level API used here.
    return cast(_ImagesAPI, resolve_api(client))


def image_stats(tag: str, client: Any | None = None) -> ImageStats:
    """Return size (bytes), ID and layer count of ``tag``; the size is the one ``docker image ls`` prints.

    On the overlay2 store that is ``docker image inspect``'s ``Size`` (the unpacked layers). On
    the containerd store ``docker image ls`` adds the compressed blobs kept in the content store
    to the unpacked snapshots, and ``inspect`` reports something else again; the listed figure
    is what a reader sees, so it is the one taken.

    >>> image_stats("ch09/hello:latest").human  # doctest: +SKIP
    '1.82MB'
    """
    api = _api(client)
    info = api.inspect_image(tag)
    labels = (info.get("Config") or {}).get("Labels") or {}
    listed = [entry for entry in api.images(filters={"reference": tag}) if entry.get("Id") == info["Id"]]
    return ImageStats(
        tag=tag,
        id=info["Id"],
        size=int(listed[0]["Size"]) if listed else int(info["Size"]),
        layers=len((info.get("RootFS") or {}).get("Layers") or []),
        digests=tuple(info.get("RepoDigests") or ()),
        labels=tuple(sorted(labels.items())),
    )


@dataclass(frozen=True)
class LayerRow:
    """One line of ``docker image history``."""

    created_by: str
    size: int
    empty: bool

    @property
    def human(self) -> str:
        return human_size(self.size)


def _short_instruction(created_by: str) -> str:
    """One history record as the Dockerfile instruction a reader wrote.

    Both builders' records are read: the classic builder's ``/bin/sh -c #(nop) COPY file:… in /``
    and ``|2 A=1 B=2 /bin/sh -c cmd``, and BuildKit's ``RUN |1 A=1 /bin/sh -c cmd # buildkit``.

    >>> _short_instruction("RUN |1 BASE=debian /bin/sh -c apt-get update # buildkit")
    'RUN apt-get update'
    >>> _short_instruction("RUN --mount=type=cache,target=/var/cache/apt /bin/sh -c apt-get update # buildkit")
    'RUN --mount=type=cache,target=/var/cache/apt apt-get update'
    >>> _short_instruction("COPY --chmod=755 app /app # buildkit")
    'COPY --chmod=755 app /app'
    """
    text = created_by.strip()
    text = text.removesuffix("# buildkit").strip()
    if text.startswith("RUN "):
        # BuildKit: "RUN [--mount=… ][|N A=1 … ]/bin/sh -c cmd"; keep the flags, drop the build args.
        body = text[len("RUN "):]
        flags = []
        while body.startswith("--"):
            flag, _, body = body.partition(" ")
            flags.append(flag)
        if body.startswith("|") and "/bin/sh -c " in body:
            body = body[body.index("/bin/sh -c "):]
        body = body.removeprefix("/bin/sh -c ")
        return " ".join(["RUN", *flags, *body.split()])
    if text.startswith("|") and "/bin/sh -c " in text:
        # A RUN that sees build args: the legacy builder records "|2 A=1 B=2 /bin/sh -c cmd".
        text = text[text.index("/bin/sh -c "):]
    for prefix in ("/bin/sh -c #(nop) ", "/bin/sh -c #(nop)", "|"):
        if text.startswith(prefix):
            text = text[len(prefix):].strip()
    if text.startswith("/bin/sh -c "):
        text = "RUN " + text[len("/bin/sh -c "):]
    # Content digests of ADD/COPY sources are 64 hex digits; 12 identify them, as docker's short IDs do.
    text = re.sub(r"\b(file|dir|multi):([0-9a-f]{12})[0-9a-f]{52}\b", r"\1:\2…", text)
    return " ".join(text.split())


def layer_rows(tag: str, client: Any | None = None, *, book_labels: bool = False) -> list[LayerRow]:
    """Return the image's history, oldest first, as ``docker image history`` shows it (newest first there).

    A row is *empty* when the instruction changed only metadata (``CMD``, ``ENV`` ...)
    and so added no filesystem layer. The ``LABEL`` steps the classic builder adds for the
    book's labels (for cleanup) are left out unless ``book_labels`` is true; BuildKit sets
    those labels without a history record.
    """
    api = _api(client)
    info = api.inspect_image(tag)
    n_layers = len((info.get("RootFS") or {}).get("Layers") or [])
    history = list(reversed(api.history(tag)))
    entries = [(_short_instruction(e.get("CreatedBy") or ""), int(e.get("Size") or 0)) for e in history]
    # The engine reports each layer's own size and 0 for a metadata-only record, but a layer may
    # be 0 bytes too (an empty RUN, a WORKDIR that made a folder). The records that may be layers
    # are known, and RootFS says how many layers there are: 0-byte candidates are layers, in
    # order, until the count is reached.
    sized = sum(1 for _, size in entries if size > 0)
    spare = max(n_layers - sized, 0)
    rows: list[LayerRow] = []
    for created_by, size in entries:
        is_layer = size > 0
        if not is_layer and spare and _adds_layer(created_by):
            is_layer, spare = True, spare - 1
        rows.append(LayerRow(created_by=created_by, size=size, empty=not is_layer))
    if not book_labels:
        rows = [r for r in rows if not (r.empty and r.created_by.startswith(BOOK_LABEL_PREFIX))]
    return rows


#: History rows of the labels dockerlab adds at build time (``LABEL org.ch09book....``).
BOOK_LABEL_PREFIX = "LABEL org.ch09book."


#: Instructions whose record may carry a filesystem layer (BuildKit's WORKDIR makes the folder in one).
_LAYER_INSTRUCTIONS = ("RUN ", "ADD ", "COPY ", "WORKDIR ")


def _adds_layer(instruction: str) -> bool:
    return instruction.upper().startswith(_LAYER_INSTRUCTIONS)


def image_store_name(client: Any | None = None) -> str:
    """``containerd`` when the engine keeps images in containerd's store, else its graph driver (``overlay2``).

    >>> class Info:
    ...     def info(self):
    ...         return {"Driver": "overlayfs", "DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]]}
    >>> image_store_name(Info())
    'containerd'
    """
    client = resolve_client(client)
    info = client.info()
    status = {pair[0]: pair[1] for pair in info.get("DriverStatus") or [] if len(pair) == 2}
    if status.get("driver-type") == "io.containerd.snapshotter.v1":
        return "containerd"
    return str(info.get("Driver") or "unknown")
