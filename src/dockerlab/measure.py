"""Measure images the way a reader would check them with the docker CLI."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from dockerlab.sizes import human_size


class _ImagesAPI(Protocol):
    def inspect_image(self, image: str) -> dict[str, Any]: ...
    def history(self, image: str) -> list[dict[str, Any]]: ...


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
    if client is None:
        from dockerlab.engine import docker_client

        client = docker_client()
    return getattr(client, "api", client)


def image_stats(tag: str, client: Any | None = None) -> ImageStats:
    """Return size (bytes), ID and layer count of ``tag``.

    >>> image_stats("ch09/hello:latest").human  # doctest: +SKIP
    '1.82MB'
    """
    info = _api(client).inspect_image(tag)
    labels = (info.get("Config") or {}).get("Labels") or {}
    return ImageStats(
        tag=tag,
        id=info["Id"],
        size=int(info["Size"]),
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
    text = created_by.strip()
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
    and so added no filesystem layer. The ``LABEL`` steps the book adds to every image it
    builds (for cleanup) are left out unless ``book_labels`` is true.
    """
    api = _api(client)
    info = api.inspect_image(tag)
    n_layers = len((info.get("RootFS") or {}).get("Layers") or [])
    rows: list[LayerRow] = []
    history = list(reversed(api.history(tag)))
    # The engine marks metadata-only steps with size 0; a real layer may also be 0 B,
    # so count from the bottom: the first n_layers non-metadata instructions are layers.
    for entry in history:
        created_by = _short_instruction(entry.get("CreatedBy") or "")
        is_meta = int(entry.get("Size") or 0) == 0 and not _adds_layer(created_by)
        rows.append(LayerRow(created_by=created_by, size=int(entry.get("Size") or 0), empty=is_meta))
    if sum(not r.empty for r in rows) != n_layers:
        # Fall back to size alone when the heuristics disagree with RootFS.
        rows = [LayerRow(r.created_by, r.size, r.size == 0) for r in rows]
    if not book_labels:
        rows = [r for r in rows if not (r.empty and r.created_by.startswith(BOOK_LABEL_PREFIX))]
    return rows


#: History rows of the labels dockerlab adds at build time (``LABEL org.ch09book....``).
BOOK_LABEL_PREFIX = "LABEL org.ch09book."


_LAYER_INSTRUCTIONS = ("RUN ", "ADD ", "COPY ")


def _adds_layer(instruction: str) -> bool:
    upper = instruction.upper()
    return upper.startswith(_LAYER_INSTRUCTIONS) or upper.startswith("ADD FILE:") or upper.startswith("COPY FILE:")
