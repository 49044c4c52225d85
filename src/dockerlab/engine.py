"""The connection to the Docker engine."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import docker
from docker.errors import APIError, DockerException

from dockerlab.errors import EngineUnavailable

#: Timeout (seconds) for one API call; builds stream and may take minutes.
API_TIMEOUT = 1800


@functools.cache
def docker_client(base_url: str | None = None) -> docker.DockerClient:
    """Return a client for the engine that ``docker info`` would reach (``DOCKER_HOST`` honoured).

    >>> docker_client().ping()  # doctest: +SKIP
    True
    """
    try:
        if base_url is None:
            client = docker.from_env(timeout=API_TIMEOUT)
        else:
            client = docker.DockerClient(base_url=base_url, timeout=API_TIMEOUT)
        client.ping()
    except DockerException as err:
        raise EngineUnavailable(
            "No Docker engine answers; run `scripts/ensure-docker` (or `make engine`) to start one, "
            f"or set DOCKER_HOST to a running engine ({err.__class__.__name__})."
        ) from None
    return client


def resolve_client(client: Any | None = None) -> Any:
    """``client`` itself, or the default engine's client (:func:`docker_client`) when it is None.

    Every helper that takes ``client=None`` resolves it here, so a caller may pass another
    engine's client (a cold node's) or a fake one in tests.

    >>> fake = object()
    >>> resolve_client(fake) is fake
    True
    """
    return docker_client() if client is None else client


def resolve_api(client: Any | None = None) -> Any:
    """The low-level API (``docker.APIClient``) of ``client``, which may be a ``DockerClient``,
    an ``APIClient`` itself, or None for the default engine.

    >>> class Client:
    ...     api = "the low-level API"
    >>> resolve_api(Client()), resolve_api("an APIClient")
    ('the low-level API', 'an APIClient')
    """
    client = resolve_client(client)
    return getattr(client, "api", client)


def remove_quietly(obj: Any, **options: Any) -> bool:
    """``obj.remove(**options)`` for a container, network or other engine object; False instead of an error
    when the engine refuses or the object is already gone (docker-py's ``NotFound`` is an ``APIError``).

    For clean-up paths, where an object may vanish between listing and removal.

    >>> from docker.errors import NotFound
    >>> class Gone:
    ...     def remove(self, **options):
    ...         raise NotFound("No such container")
    >>> remove_quietly(Gone(), force=True)
    False
    """
    try:
        obj.remove(**options)
    except APIError:
        return False
    return True


def stream_error(chunks: Iterable[dict[str, Any]]) -> str | None:
    """docker's own error message in a build, push or pull progress stream; None when there is none.

    >>> stream_error([{"status": "Pushing"}, {"errorDetail": {"message": "denied"}, "error": "denied"}])
    'denied'
    """
    for chunk in chunks:
        detail = chunk.get("errorDetail")
        if detail:
            return str(detail.get("message", detail)).strip() if isinstance(detail, dict) else str(detail).strip()
        if "error" in chunk:
            return str(chunk["error"]).strip()
    return None
