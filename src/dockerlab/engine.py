"""The connection to the Docker engine."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import docker
from docker.errors import DockerException

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
