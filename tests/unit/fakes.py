"""A fake Docker client for unit tests (no daemon), in the spirit of docker-py's fake_api_client."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from docker.errors import APIError, ImageNotFound


class FakeAPI:
    """The low-level API surface dockerlab uses, answering from dictionaries."""

    def __init__(self, images: dict[str, dict[str, Any]] | None = None,
                 histories: dict[str, list[dict[str, Any]]] | None = None,
                 build_stream: Iterable[dict[str, Any]] = (), pull_error: str | None = None) -> None:
        self.image_db = images or {}
        self.histories = histories or {}
        self.build_stream = list(build_stream)
        self.pull_error = pull_error
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def inspect_image(self, tag: str) -> dict[str, Any]:
        if tag not in self.image_db:
            raise ImageNotFound(f"No such image: {tag}")
        return self.image_db[tag]

    def images(self, name: str | None = None, quiet: bool = False, all: bool = False,
               filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Like ``GET /images/json``: one entry per image ID, with its tags and ``docker image ls``'s Size."""
        reference = (filters or {}).get("reference") or name
        entries = []
        for tag, info in self.image_db.items():
            if reference is None or tag == reference or (":" not in reference and tag == f"{reference}:latest"):
                entries.append({"Id": info["Id"], "RepoTags": [tag], "Size": info["Size"]})
        return entries

    def history(self, tag: str) -> list[dict[str, Any]]:
        return self.histories[tag]

    def build(self, **kwargs: Any):
        self.calls.append(("build", kwargs))
        tag = kwargs.get("tag")
        if not any("error" in c for c in self.build_stream) and tag:
            self.image_db.setdefault(tag, image_info(1234, layers=1))
        return iter(self.build_stream)

    def pull(self, repo: str, tag: str = "latest", **kwargs: Any):
        self.calls.append(("pull", {"repo": repo, "tag": tag}))
        if self.pull_error:
            raise APIError(self.pull_error)
        self.image_db[f"{repo}:{tag}"] = image_info(999, layers=1, digests=[f"{repo}@sha256:" + "a" * 64])
        return iter([{"status": "Downloaded"}])

    def tag(self, source: str, repo: str, tag: str) -> bool:
        self.calls.append(("tag", {"source": source, "repo": repo, "tag": tag}))
        self.image_db[f"{repo}:{tag}"] = self.image_db[source]
        return True


class FakeContainer:
    def __init__(self, status: int = 0, logs: bytes = b"hello, scratch!\n") -> None:
        self.status = status
        self._logs = logs
        self.removed = False
        self.started = False

    def start(self) -> None:
        self.started = True

    def wait(self, timeout: int | None = None) -> dict[str, Any]:
        return {"StatusCode": self.status}

    def logs(self, **kwargs: Any) -> bytes:
        return self._logs

    def remove(self, force: bool = False) -> None:
        self.removed = True


class FakeContainers:
    def __init__(self, container: FakeContainer) -> None:
        self.container = container
        self.create_kwargs: dict[str, Any] = {}

    def create(self, image: str, command: Any = None, **kwargs: Any) -> FakeContainer:
        self.create_kwargs = {"image": image, "command": command, **kwargs}
        return self.container


class FakeClient:
    def __init__(self, api: FakeAPI | None = None, container: FakeContainer | None = None) -> None:
        self.api = api or FakeAPI()
        self.containers = FakeContainers(container or FakeContainer())

    def info(self) -> dict[str, Any]:
        """``docker info`` of an engine with the overlay2 image store."""
        return {"Driver": "overlay2", "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"]]}


def image_info(size: int, layers: int = 1, digests: list[str] | None = None,
               labels: dict[str, str] | None = None) -> dict[str, Any]:
    """What `docker image inspect` returns, reduced to the fields dockerlab reads."""
    return {
        "Id": "sha256:" + "0123456789ab" * 5 + "0123",
        "Size": size,
        "RootFS": {"Type": "layers", "Layers": [f"sha256:{i:064x}" for i in range(layers)]},
        "RepoDigests": digests or [],
        "Config": {"Labels": labels or {}},
    }
