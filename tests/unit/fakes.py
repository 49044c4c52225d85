"""One fake Docker engine for unit tests: a real ``docker.DockerClient`` whose low-level API answers from memory.

As docker-py's own ``tests/unit/fake_api_client.py`` does, the fake sits *under* docker-py's high-level
models: :class:`FakeAPIClient` is a ``docker.APIClient`` whose calls that would reach the engine are
overridden, with docker-py's own signatures, to answer from an in-memory engine. Everything above them
is docker-py's code, so in a unit test

- ``client.images.get``, ``client.containers.create/run``, ``Container.status`` and ``Container.reload``
  behave as in production (``status`` is ``"created"``, ``"running"`` or ``"exited"``);
- a keyword argument docker-py does not know raises ``TypeError``, as it would against a real engine;
- errors are docker-py's own: they are made from an HTTP status and the engine's message by
  ``docker.errors.create_api_error_from_http_exception``, so a 404 about an image is ``ImageNotFound``,
  one about a container ``NotFound``, and a 409 an ``APIError`` with ``explanation`` set.

Nothing connects anywhere: the client is made with an explicit API version (no negotiation) and a
socket path that does not exist.

>>> client = fake_client()
>>> image_id = client.api.add_image("ch09/hello:latest", program=Program(output=b"hello\\n"))
>>> client.containers.run("ch09/hello:latest", remove=True)
b'hello\\n'
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import itertools
import json
import socket
import tarfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import docker
import requests
from docker.constants import DEFAULT_DATA_CHUNK_SIZE
from docker.errors import APIError, create_api_error_from_http_exception
from docker.utils import parse_repository_tag

#: The API version the fake speaks; given to docker-py so that it never asks an engine.
API_VERSION = "1.45"
#: Where the fake client "connects": nothing listens there, and nothing tries to.
NOWHERE = "unix:///nonexistent/fake-docker-engine.sock"
#: ``mode`` bit of a symbolic link in the archive API's stat header (Go's ``os.ModeSymlink``).
MODE_SYMLINK = 1 << 27


def engine_error(status: int, message: str) -> APIError:
    """The error docker-py raises when the engine answers ``status`` with ``{"message": message}``."""
    response = requests.Response()
    response.status_code = status
    response.reason = {404: "Not Found", 409: "Conflict", 403: "Forbidden"}.get(status, "Server Error")
    response.url = "http+docker://localhost/fake"
    response._content = json.dumps({"message": message}).encode()
    try:
        response.raise_for_status()
    except requests.HTTPError as err:
        try:
            create_api_error_from_http_exception(err)
        except APIError as api_error:
            return api_error
    raise AssertionError(f"status {status} is not an error")


@dataclass(frozen=True)
class Symlink:
    """A symbolic link in a fake image's filesystem."""

    target: str


@dataclass
class Program:
    """What a container of an image does when it is started."""

    #: Its exit status; None: it keeps running until it is removed with ``force``.
    exit_code: int | None = 0
    #: What it prints (stdout and stderr together, as ``docker logs`` shows them).
    output: bytes = b""
    #: The engine refuses to start it (HTTP 500 with this message), e.g. an unknown user.
    start_error: str | None = None


@dataclass
class FakeImage:
    """An image in the fake engine: what ``docker image inspect`` says, and what the engine can do with it."""

    info: dict[str, Any]
    history: list[dict[str, Any]]
    files: dict[str, bytes | Symlink] = field(default_factory=dict)
    program: Program = field(default_factory=Program)
    #: What ``docker image save`` writes (``APIClient.get_image``).
    saved: bytes = b""
    #: ``docker image ls``'s size; on the containerd image store it differs from inspect's.
    listed_size: int | None = None

    @property
    def id(self) -> str:
        return str(self.info["Id"])

    @property
    def tags(self) -> list[str]:
        return list(self.info["RepoTags"])


@dataclass
class FakeContainer:
    """A container in the fake engine: its ``docker container inspect`` and what it was given."""

    attrs: dict[str, Any]
    program: Program
    #: ``(path, tar bytes)`` of each ``put_archive``.
    archives: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.attrs["Id"])

    @property
    def name(self) -> str:
        return str(self.attrs["Name"]).lstrip("/")

    @property
    def status(self) -> str:
        return str(self.attrs["State"]["Status"])


def _digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _normal_tag(reference: str) -> str:
    """``name`` is ``name:latest``, as the engine reads it."""
    repository, tag = parse_repository_tag(reference)
    if tag and tag.startswith("sha256:"):  # repo@sha256:...
        return reference
    return f"{repository}:{tag or 'latest'}"


def _free_port() -> str:
    """A port nothing listens on now, as the engine picks one for ``-p 127.0.0.1::PORT`` (so a probe is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def _has_labels(labels: Mapping[str, str] | None, wanted: str | Sequence[str] | None) -> bool:
    """The engine's ``label`` filter: every ``key`` or ``key=value`` holds."""
    if not wanted:
        return True
    labels = labels or {}
    for item in [wanted] if isinstance(wanted, str) else wanted:
        key, _, value = item.partition("=")
        if key not in labels or ("=" in item and labels[key] != value):
            return False
    return True


class FakeAPIClient(docker.APIClient):  # type: ignore[misc]  # docker-py is untyped
    """A ``docker.APIClient`` that never connects: the engine calls dockerlab makes answer from memory.

    The overrides keep docker-py's signatures, so a wrong keyword argument fails as in production.
    ``calls`` records, per call, the method and the arguments that say what was asked.
    """

    def __init__(self, *, driver: str = "overlay2", driver_status: list[list[str]] | None = None) -> None:
        super().__init__(base_url=NOWHERE, version=API_VERSION)
        self.image_store: dict[str, FakeImage] = {}
        self.container_store: dict[str, FakeContainer] = {}
        self.network_store: dict[str, dict[str, Any]] = {}
        #: Images a registry would serve: ``pull`` copies them in.
        self.remote: dict[str, FakeImage] = {}
        #: The registry does not answer: every ``pull`` fails with HTTP 500 and this message.
        self.pull_error: str | None = None
        #: What ``push`` streams (docker-py decodes each JSON line).
        self.push_stream: list[dict[str, Any]] = [{"status": "Pushed"}]
        self.build_cache: list[dict[str, Any]] = []
        #: ``docker system df``'s LayersSize; the sum of the listed image sizes when None.
        self.layers_size: int | None = None
        self.driver = driver
        self.driver_status = driver_status if driver_status is not None else [
            ["Backing Filesystem", "extfs"], ["Supports d_type", "true"]]
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._refusals: dict[tuple[str, str], APIError] = {}
        self._pull_progress: dict[str, list[dict[str, Any]]] = {}
        self._serial = itertools.count(1)

    # ------------------------------------------------------------------ setting the engine up

    def add_image(self, *tags: str, size: int = 1234, layers: int = 1, labels: Mapping[str, str] | None = None,
                  digests: Sequence[str] = (), history: list[dict[str, Any]] | None = None,
                  files: Mapping[str, bytes | Symlink] | None = None, config: Mapping[str, Any] | None = None,
                  program: Program | None = None, saved: bytes = b"", listed_size: int | None = None,
                  image_id: str | None = None) -> str:
        """Put an image in the engine under ``tags`` (none: a dangling image); return its ID (``image_id`` if given).

        ``history`` is ``docker image history``'s answer, newest first; by default one row per layer.
        A tag another image held moves to this one, as with ``docker build -t``.
        """
        image = self._make_image(tags, size=size, layers=layers, labels=labels, digests=digests, history=history,
                                 files=files, config=config, program=program, saved=saved, listed_size=listed_size,
                                 image_id=image_id)
        self._store(image)
        return image.id

    def offer(self, reference: str, *, size: int = 999, layers: int = 1, labels: Mapping[str, str] | None = None,
              progress: list[dict[str, Any]] | None = None) -> None:
        """Make the registry of ``reference`` serve it: a later ``pull`` brings it in, with its digest.

        ``progress`` is the pull's progress stream; when one of its chunks has an ``error``, the pull
        fails there, as one that breaks off after the engine said 200 does, and brings nothing in.
        """
        tag = _normal_tag(reference)
        repository = tag.rsplit(":", 1)[0]
        digest = f"{repository}@sha256:{_digest('manifest', tag, size)}"
        self.remote[tag] = self._make_image((tag,), size=size, layers=layers, labels=labels, digests=[digest])
        if progress is not None:
            self._pull_progress[tag] = progress

    def _make_image(self, tags: Sequence[str], *, size: int = 1234, layers: int = 1,
                    labels: Mapping[str, str] | None = None, digests: Sequence[str] = (),
                    history: list[dict[str, Any]] | None = None, files: Mapping[str, bytes | Symlink] | None = None,
                    config: Mapping[str, Any] | None = None, program: Program | None = None, saved: bytes = b"",
                    listed_size: int | None = None, image_id: str | None = None) -> FakeImage:
        image_id = image_id or "sha256:" + _digest("image", next(self._serial), tuple(tags), size)
        diff_ids = [f"sha256:{_digest('layer', image_id, i)}" for i in range(layers)]
        info = {
            "Id": image_id,
            "RepoTags": [_normal_tag(t) for t in tags],
            "RepoDigests": list(digests),
            "Created": f"2026-01-01T{(n := next(self._serial)) // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z",
            "Size": size,
            "RootFS": {"Type": "layers", "Layers": diff_ids},
            "Config": {"Cmd": None, "Entrypoint": None, "Env": [], **(config or {}), "Labels": dict(labels or {})},
        }
        if history is None:
            history = [{"Id": "<missing>", "CreatedBy": f"/bin/sh -c #(nop) ADD file:{i} in / ",
                        "Size": size // max(layers, 1), "Comment": ""} for i in reversed(range(layers))]
        return FakeImage(info, history, dict(files or {}), program or Program(), saved, listed_size)

    def _store(self, image: FakeImage) -> None:
        for other in self.image_store.values():
            other.info["RepoTags"] = [t for t in other.info["RepoTags"] if t not in image.tags]
        self.image_store[image.id] = image

    def refuse(self, method: str, target: str, status: int, message: str) -> None:
        """Make the next ``method`` call on ``target`` (a container's or network's name or ID) fail as the engine
        would answer ``status`` and ``message``: something else got there first, as in a race."""
        self._refusals[(method, target)] = engine_error(status, message)

    def _refused(self, method: str, *targets: str) -> None:
        for target in targets:
            error = self._refusals.pop((method, target), None)
            if error is not None:
                raise error

    def created(self) -> list[dict[str, Any]]:
        """The body of each ``POST /containers/create`` so far: ``Image``, ``Cmd``, ``Labels``, ``HostConfig`` ..."""
        return [args["config"] for method, args in self.calls if method == "create_container"]

    # ------------------------------------------------------------------ looking things up

    def _image(self, reference: str) -> FakeImage:
        """The image ``reference`` names (tag, ``name`` for ``name:latest``, digest, ID or short ID)."""
        if reference in self.image_store:
            return self.image_store[reference]
        tag = _normal_tag(reference)
        for image in self.image_store.values():
            if tag in image.tags or reference in image.info["RepoDigests"]:
                return image
        hex_id = reference.removeprefix("sha256:")
        if len(hex_id) >= 12 and all(c in "0123456789abcdef" for c in hex_id):
            for image in self.image_store.values():
                if image.id.removeprefix("sha256:").startswith(hex_id):
                    return image
        raise engine_error(404, f"No such image: {reference}")

    def _container(self, reference: str) -> FakeContainer:
        for container in self.container_store.values():
            if reference in (container.id, container.name) or (
                    len(reference) >= 12 and container.id.startswith(reference)):
                return container
        raise engine_error(404, f"No such container: {reference}")

    def _network(self, reference: str) -> dict[str, Any]:
        for network in self.network_store.values():
            if reference in (network["Id"], network["Name"]):
                return network
        raise engine_error(404, f"network {reference} not found")

    def _users(self, image: FakeImage) -> int:
        return sum(1 for c in self.container_store.values() if c.attrs["Image"] == image.id)

    # ------------------------------------------------------------------ system

    def ping(self) -> bool:
        return True

    def version(self, api_version: bool = True) -> dict[str, Any]:
        return {"Version": "26.1.5", "ApiVersion": API_VERSION, "MinAPIVersion": "1.24", "Os": "linux",
                "Arch": "amd64", "Components": [{"Name": "Engine", "Version": "26.1.5"}]}

    def info(self) -> dict[str, Any]:
        return {"Driver": self.driver, "DriverStatus": self.driver_status, "Images": len(self.image_store),
                "Containers": len(self.container_store), "ServerVersion": "26.1.5", "OSType": "linux"}

    def df(self) -> dict[str, Any]:
        images = self.images()
        layers = self.layers_size if self.layers_size is not None else sum(i["Size"] for i in images)
        return {"LayersSize": layers, "Images": images, "Containers": self.containers(all=True), "Volumes": [],
                "BuildCache": self.build_cache}

    # ------------------------------------------------------------------ images

    def inspect_image(self, image: str) -> dict[str, Any]:
        return self._image(image).info

    def history(self, image: str) -> list[dict[str, Any]]:
        return self._image(image).history

    def images(self, name: str | None = None, quiet: bool = False, all: bool = False,  # noqa: A002
               filters: dict[str, Any] | None = None) -> list[Any]:
        """``GET /images/json``: one entry per image ID, ``docker image ls``'s Size."""
        filters = dict(filters or {})
        reference = filters.get("reference") or name
        entries = []
        for image in self.image_store.values():
            if reference is not None and not self._matches(image, reference):
                continue
            if not _has_labels(image.info["Config"]["Labels"], filters.get("label")):
                continue
            if filters.get("dangling") in (True, "true", "1") and image.tags:
                continue
            entries.append({"Id": image.id, "ParentId": "", "RepoTags": image.tags,
                            "RepoDigests": image.info["RepoDigests"], "Created": 1767225600,
                            "Size": image.listed_size if image.listed_size is not None else image.info["Size"],
                            "Labels": image.info["Config"]["Labels"], "Containers": self._users(image)})
        return [e["Id"] for e in entries] if quiet else entries

    @staticmethod
    def _matches(image: FakeImage, reference: str) -> bool:
        repository, tag = parse_repository_tag(reference)
        return any(fnmatch.fnmatchcase(t, f"{repository}:{tag or '*'}") for t in image.tags)

    def tag(self, image: str, repository: str, tag: str | None = None, force: bool = False) -> bool:
        self.calls.append(("tag", {"image": image, "repository": repository, "tag": tag}))
        found = self._image(image)
        name = f"{repository}:{tag or 'latest'}"
        for other in self.image_store.values():
            other.info["RepoTags"] = [t for t in other.info["RepoTags"] if t != name]
        found.info["RepoTags"].append(name)
        return True

    def remove_image(self, image: str, force: bool = False, noprune: bool = False) -> list[dict[str, str]]:
        """``docker image rm``: a tag of an image with others is untagged; an image a container uses stays."""
        self.calls.append(("remove_image", {"image": image, "force": force}))
        found = self._image(image)
        tag = _normal_tag(image)
        if tag in found.tags and len(found.tags) > 1:
            found.info["RepoTags"].remove(tag)
            return [{"Untagged": tag}]
        if self._users(found) and not force:
            raise engine_error(409, f"conflict: unable to delete {image} (must be forced) - image is being used "
                                    "by stopped container")
        if len(found.tags) > 1 and not force:
            raise engine_error(409, f"conflict: unable to delete {image} (must be forced) - image is referenced "
                                    "in multiple repositories")
        del self.image_store[found.id]
        return [*({"Untagged": t} for t in found.tags), {"Deleted": found.id}]

    def pull(self, repository: str, tag: str | None = None, stream: bool = False, auth_config: Any = None,
             decode: bool = False, platform: str | None = None, all_tags: bool = False) -> Any:
        repository, image_tag = parse_repository_tag(repository)
        tag = tag or image_tag or "latest"
        self.calls.append(("pull", {"repository": repository, "tag": tag}))
        if self.pull_error is not None:
            raise engine_error(500, self.pull_error)
        name = f"{repository}:{tag}"
        if name not in self.remote:
            raise engine_error(404, f"pull access denied for {repository}, repository does not exist or may "
                                    "require 'docker login'")
        offered = self.remote[name]
        progress = self._pull_progress.get(name) or [
            {"status": f"Pulling from {repository}", "id": tag},
            {"status": "Pull complete", "id": offered.info["RootFS"]["Layers"][0][7:19]},
            {"status": f"Digest: {offered.info['RepoDigests'][0].split('@')[1]}"},
            {"status": f"Status: Downloaded newer image for {name}"}]
        if not any("error" in chunk for chunk in progress):
            self._store(FakeImage(json.loads(json.dumps(offered.info)), list(offered.history)))
        return self._progress(progress, stream, decode)

    def push(self, repository: str, tag: str | None = None, stream: bool = False, auth_config: Any = None,
             decode: bool = False) -> Any:
        repository, image_tag = parse_repository_tag(repository)
        tag = tag or image_tag or "latest"
        self.calls.append(("push", {"repository": repository, "tag": tag}))
        self._image(f"{repository}:{tag}")
        return self._progress(self.push_stream, stream, decode)

    @staticmethod
    def _progress(chunks: list[dict[str, Any]], stream: bool, decode: bool) -> Any:
        """A progress stream as docker-py returns it: decoded dicts, JSON lines, or all of it as one string."""
        lines = [json.dumps(c) + "\r\n" for c in chunks]
        if not stream:
            return "".join(lines)
        return iter(list(chunks) if decode else [line.encode() for line in lines])

    def get_image(self, image: str, chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE) -> Iterator[bytes]:
        """``docker image save``: an unknown image fails at the call, the archive then comes in pieces."""
        saved = self._image(image).saved
        size = min(chunk_size or len(saved) or 1, 4096)
        return iter([saved[i:i + size] for i in range(0, len(saved), size)])

    # ------------------------------------------------------------------ containers

    def create_container_from_config(self, config: dict[str, Any], name: str | None = None,
                                     platform: str | None = None) -> dict[str, Any]:
        """``POST /containers/create`` with the body docker-py's ``create_container`` built."""
        self.calls.append(("create_container", {"config": config, "name": name}))
        image = self._image(config["Image"])
        name = name or f"fake_container_{next(self._serial)}"
        if any(c.name == name for c in self.container_store.values()):
            raise engine_error(409, f'Conflict. The container name "/{name}" is already in use')
        # What the engine fills in when the client leaves it out.
        host_config = {"NetworkMode": "bridge", "LogConfig": {"Type": "json-file", "Config": {}},
                       **(config.get("HostConfig") or {})}
        endpoints = dict((config.get("NetworkingConfig") or {}).get("EndpointsConfig") or {})
        mode = host_config.get("NetworkMode")
        if mode and mode not in ("default", "bridge", "host", "none") and mode not in endpoints:
            endpoints[mode] = {}
        for network in endpoints:
            self._network(network)
        image_config = image.info["Config"]
        container_id = _digest("container", next(self._serial))
        attrs = {
            "Id": container_id,
            "Name": "/" + name,
            "Image": image.id,
            "Config": {
                **{k: v for k, v in config.items() if k not in ("HostConfig", "NetworkingConfig")},
                "Cmd": config.get("Cmd") or image_config.get("Cmd"),
                "Env": [*(image_config.get("Env") or []), *(config.get("Env") or [])],
                "Labels": {**image_config["Labels"], **(config.get("Labels") or {})},
            },
            "HostConfig": host_config,
            "State": {"Status": "created", "Running": False, "ExitCode": 0, "Error": ""},
            "NetworkSettings": {"Ports": {},
                                "Networks": {n: {"Aliases": (e or {}).get("Aliases"), "NetworkID": n}
                                             for n, e in endpoints.items()}},
        }
        self.container_store[container_id] = FakeContainer(attrs, image.program)
        return {"Id": container_id, "Warnings": []}

    def inspect_container(self, container: str) -> dict[str, Any]:
        return self._container(container).attrs

    def containers(self, quiet: bool = False, all: bool = False, trunc: bool = False,  # noqa: A002
                   latest: bool = False, since: str | None = None, before: str | None = None, limit: int = -1,
                   size: bool = False, filters: dict[str, Any] | None = None) -> list[Any]:
        filters = dict(filters or {})
        found = [{"Id": c.id, "Names": ["/" + c.name], "Image": c.attrs["Config"]["Image"], "ImageID": c.attrs["Image"],
                  "State": c.status, "Labels": c.attrs["Config"]["Labels"]}
                 for c in self.container_store.values()
                 if (all or c.status == "running") and _has_labels(c.attrs["Config"]["Labels"], filters.get("label"))]
        return [{"Id": c["Id"]} for c in found] if quiet else found

    def start(self, container: str, *args: Any, **kwargs: Any) -> None:
        found = self._container(container)
        if found.program.start_error is not None:
            raise engine_error(500, found.program.start_error)
        state = found.attrs["State"]
        exit_code = found.program.exit_code
        state.update(Status="running" if exit_code is None else "exited", Running=exit_code is None,
                     ExitCode=exit_code or 0)
        ports = {}
        for port, bindings in (found.attrs["HostConfig"].get("PortBindings") or {}).items():
            ports[port] = [{"HostIp": b.get("HostIp") or "0.0.0.0", "HostPort": b.get("HostPort") or _free_port()}
                           for b in bindings]
        found.attrs["NetworkSettings"]["Ports"] = ports

    def wait(self, container: str, timeout: int | None = None, condition: str | None = None) -> dict[str, Any]:
        found = self._container(container)
        if found.status == "running":
            raise requests.exceptions.ReadTimeout(f"{found.name} is still running after {timeout} s")
        return {"StatusCode": found.attrs["State"]["ExitCode"], "Error": None}

    def logs(self, container: str, stdout: bool = True, stderr: bool = True, stream: bool = False,
             timestamps: bool = False, tail: str | int = "all", since: Any = None, follow: bool | None = None,
             until: Any = None) -> Any:
        found = self._container(container)
        output = found.program.output if found.status != "created" else b""
        return iter(output.splitlines(keepends=True)) if stream else output

    def remove_container(self, container: str, v: bool = False, link: bool = False, force: bool = False) -> None:
        found = self._container(container)
        self._refused("remove_container", found.id, found.name)
        if found.status == "running" and not force:
            raise engine_error(409, f"cannot remove container \"/{found.name}\": container is running: stop the "
                                    "container before removing or force remove")
        del self.container_store[found.id]

    def get_archive(self, container: str, path: str, chunk_size: int | None = DEFAULT_DATA_CHUNK_SIZE,
                    encode_stream: bool = False) -> tuple[Iterator[bytes], dict[str, Any]]:
        """``docker cp CONTAINER:PATH -``: a tar of the one file, and the stat header of ``path`` itself."""
        self.calls.append(("get_archive", {"container": container, "path": path}))
        found = self._container(container)
        files = self.image_store[found.attrs["Image"]].files
        if path not in files:
            raise engine_error(404, f"Could not find the file {path} in container {found.name}")
        entry = files[path]
        name = path.rsplit("/", 1)[-1]
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            info = tarfile.TarInfo(name)
            if isinstance(entry, Symlink):
                info.type, info.linkname = tarfile.SYMTYPE, entry.target
                tar.addfile(info)
            else:
                info.size, info.mode = len(entry), 0o755
                tar.addfile(info, io.BytesIO(entry))
        if isinstance(entry, Symlink):
            stat = {"name": name, "size": len(entry.target), "mode": MODE_SYMLINK | 0o777, "linkTarget": entry.target}
        else:
            stat = {"name": name, "size": len(entry), "mode": 0o755, "linkTarget": ""}
        return iter([buffer.getvalue()]), stat

    def put_archive(self, container: str, path: str, data: bytes) -> bool:
        self._container(container).archives.append((path, data))
        return True

    # ------------------------------------------------------------------ networks

    def create_network(self, name: str, driver: str | None = None, options: dict[str, Any] | None = None,
                       ipam: Any = None, check_duplicate: bool | None = None, internal: bool = False,
                       labels: dict[str, str] | None = None, enable_ipv6: bool = False,
                       attachable: bool | None = None, scope: str | None = None,
                       ingress: bool | None = None) -> dict[str, Any]:
        self.calls.append(("create_network", {"name": name, "driver": driver, "internal": internal}))
        if any(n["Name"] == name for n in self.network_store.values()):
            raise engine_error(409, f"network with name {name} already exists")
        network_id = _digest("network", next(self._serial))
        self.network_store[network_id] = {"Name": name, "Id": network_id, "Driver": driver or "bridge",
                                          "Internal": internal, "Labels": dict(labels or {}),
                                          "Options": dict(options or {}), "Containers": {}}
        return {"Id": network_id, "Warning": ""}

    def inspect_network(self, net_id: str, verbose: bool | None = None, scope: str | None = None) -> dict[str, Any]:
        return self._network(net_id)

    def networks(self, names: list[str] | None = None, ids: list[str] | None = None,
                 filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        filters = dict(filters or {})
        return [n for n in self.network_store.values()
                if (names is None or n["Name"] in names) and (ids is None or n["Id"] in ids)
                and _has_labels(n["Labels"], filters.get("label"))]

    def remove_network(self, net_id: str) -> None:
        network = self._network(net_id)
        self._refused("remove_network", network["Id"], network["Name"])
        if any(c.status == "running" and network["Name"] in c.attrs["NetworkSettings"]["Networks"]
               for c in self.container_store.values()):
            raise engine_error(403, f"error while removing network: network {network['Name']} id "
                                    f"{network['Id']} has active endpoints")
        del self.network_store[network["Id"]]


def fake_client(api: FakeAPIClient | None = None) -> docker.DockerClient:
    """A real ``docker.DockerClient`` whose ``api`` is ``api`` (a new, empty fake engine when None)."""
    client = docker.DockerClient(base_url=NOWHERE, version=API_VERSION)
    client.api = api if api is not None else FakeAPIClient()
    return client


def engine_of(client: docker.DockerClient) -> FakeAPIClient:
    """The fake engine behind ``client`` (typed, for tests that look at its state)."""
    assert isinstance(client.api, FakeAPIClient)
    return client.api
