"""Remove what the book and its tests created, found by the project label."""

from __future__ import annotations

from typing import Any

from docker.errors import APIError, NotFound

from dockerlab.bases import KNOWN_BASES
from dockerlab.examples import PROJECT, PROJECT_LABEL


def remove_project_objects(client: Any | None = None, *, keep_bases: bool = True) -> dict[str, list[str]]:
    """Remove labelled containers, networks and images; keep the base images (:data:`KNOWN_BASES`) unless
    ``keep_bases`` is false."""
    if client is None:
        from dockerlab.engine import docker_client

        client = docker_client()
    selector = {"label": f"{PROJECT_LABEL}={PROJECT}"}
    removed: dict[str, list[str]] = {"containers": [], "networks": [], "images": []}
    # Objects may vanish between listing and removal (a test finishing): that is fine.
    for container in client.containers.list(all=True, filters=selector):
        try:
            container.remove(force=True)
            removed["containers"].append(container.name)
        except (APIError, NotFound):
            pass
    for network in client.networks.list(filters=selector):
        try:
            network.remove()
            removed["networks"].append(network.name)
        except (APIError, NotFound):
            pass
    # Bases are kept by name: labels are inherited, so every image built FROM a bootstrapped
    # base carries the base's labels too.
    bases = set(KNOWN_BASES) if keep_bases else set()
    for image in client.images.list(filters=selector):
        if bases.intersection(image.tags):
            continue
        for tag in image.tags or [image.id]:
            try:
                client.images.remove(tag, force=True)
                removed["images"].append(tag)
            except (APIError, NotFound):
                pass
    client.images.prune(filters={"dangling": True})
    # Cache mounts the book's Dockerfiles named (id=ch09-...); never the reader's build cache.
    from dockerlab.buildcache import BOOK_CACHE_ID_PREFIX, book_cache_mounts, remove_book_cache_mounts

    mounts = book_cache_mounts(client.df().get("BuildCache") or [])
    remove_book_cache_mounts(BOOK_CACHE_ID_PREFIX, client)
    removed["cache mounts"] = mounts
    return removed
