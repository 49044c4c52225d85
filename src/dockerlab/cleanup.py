"""Remove what the book and its tests created on the engine, and nothing else (see :mod:`dockerlab.ownership`).

* containers and networks: those carrying :data:`~dockerlab.ownership.OWNER_LABEL`, which only the
  book sets (a reader's container inherits its image's labels, never this one);
* images: the IDs the checkout recorded as it built them (tagged or dangling), and images tagged in
  the ``ch09/`` namespace that were built from an example; bootstrapped bases and the lab image
  (:data:`~dockerlab.privileged.LAB_IMAGE`) only with ``--all``;
* build cache: the cache mounts the book's Dockerfiles named (``id=ch09-…``), one record at a time.

No engine-wide prune: a reader's dangling images and build cache stay as they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docker.errors import APIError, NotFound

from dockerlab.bases import KNOWN_BASES, SOURCE_LABEL
from dockerlab.engine import remove_quietly, resolve_client
from dockerlab.ownership import OWNER_LABEL, PROJECT, forget_images, is_book_example_image, recorded_images


def _is_our_base(tags: list[str], labels: dict[str, str]) -> bool:
    """A base the book bootstrapped, or the lab containers' image (kept like a base: both take minutes to make).

    >>> _is_our_base(["ch09/lab-node:latest"], {"org.ch09book.lab": "image"})
    True
    """
    from dockerlab.privileged import LAB_IMAGE, PURPOSE_LABEL

    if labels.get(PURPOSE_LABEL) == "image" and LAB_IMAGE in tags:
        return True
    return labels.get(SOURCE_LABEL) == "bootstrapped" and any(t in KNOWN_BASES for t in tags)


def book_images(client: Any | None = None, *, root: Path | None = None, bases: bool = True) -> list[Any]:
    """The images on the engine that the book made (docker-py ``Image`` objects), newest first.

    An image is the book's when the checkout recorded its ID as it built it, or when it is
    tagged in the ``ch09/`` namespace and was built from an example; ``bases`` adds the base
    images the book bootstrapped (by name: their labels are inherited by every image built on them).
    """
    client = resolve_client(client)
    if root is None:
        from dockerlab.examples import project_root

        root = project_root()
    recorded = {r.id for r in recorded_images(root)}
    # A classic build's step images are recorded by the short ID its log printed (12 hex digits).
    short = tuple(r for r in recorded if not r.startswith("sha256:"))
    found = []
    for image in sorted(client.images.list(all=True), key=lambda i: i.attrs.get("Created", ""), reverse=True):
        tags, labels = list(image.tags), dict(image.labels or {})
        if _is_our_base(tags, labels):
            if bases:
                found.append(image)
        elif (image.id in recorded or image.id.removeprefix("sha256:").startswith(short)
              or is_book_example_image(tags, labels)):
            found.append(image)
    return found


def remove_project_objects(client: Any | None = None, *, keep_bases: bool = True,
                           root: Path | None = None) -> dict[str, list[str]]:
    """Remove the book's containers, networks, images and cache mounts; keep bases unless ``keep_bases`` is false."""
    client = resolve_client(client)
    if root is None:
        from dockerlab.examples import project_root

        root = project_root()
    selector = {"label": f"{OWNER_LABEL}={PROJECT}"}
    removed: dict[str, list[str]] = {"containers": [], "networks": [], "images": [], "cache mounts": []}
    # Objects may vanish between listing and removal (a test finishing): that is fine.
    for container in client.containers.list(all=True, filters=selector):
        if remove_quietly(container, force=True):
            removed["containers"].append(container.name)
    for network in client.networks.list(filters=selector):
        if remove_quietly(network):
            removed["networks"].append(network.name)
    recorded = {r.id for r in recorded_images(root)}
    gone: set[str] = set()
    # Newest first, so an image goes before the images it was built on.
    for image in book_images(client, root=root, bases=not keep_bases):
        tags = list(image.tags)
        try:
            client.images.remove(image.id, force=True, noprune=True)
            removed["images"].extend(tags or [image.short_id])
            gone.add(image.id)
        except NotFound:
            gone.add(image.id)
        except APIError:
            pass  # still used by a container that is not ours: leave it
    forget_images(root, gone | {i for i in recorded if not _exists(client, i)})
    from dockerlab.buildcache import BOOK_CACHE_ID_PREFIX, book_cache_mounts, remove_book_cache_mounts

    removed["cache mounts"] = book_cache_mounts(client.df().get("BuildCache") or [])
    remove_book_cache_mounts(BOOK_CACHE_ID_PREFIX, client)
    return removed


def _exists(client: Any, image_id: str) -> bool:
    try:
        client.images.get(image_id)
        return True
    except (NotFound, APIError):
        return False
