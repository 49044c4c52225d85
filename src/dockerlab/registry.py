"""A real, private container registry for the book: Docker Distribution on loopback.

Debian's ``docker-registry`` package ships Docker Distribution 2.8 (``/usr/bin/docker-registry``);
its packaged config turns on htpasswd auth, so the book runs it with its own minimal config:
no auth, filesystem storage in a temporary folder, listening on one private address.
:func:`local_registry` starts it and always stops it (and removes its storage):

>>> with local_registry() as registry:  # doctest: +SKIP
...     pushed = push_image("busybox:latest", registry)
...     pushed.manifest.transfer_size
2163148

The engine trusts plain-HTTP registries on ``127.0.0.0/8`` by default, so a push to
``127.0.0.1:PORT/...`` needs no engine configuration. :func:`recompress` copies a pushed image
inside the registry with its layers recompressed (``skopeo copy --dest-compress-format zstd``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from dockerlab import references, runstate
from dockerlab.engine import resolve_api, stream_error
from dockerlab.errors import RegistryError, RegistryUnavailable

#: Docker Distribution 2.8 from Debian's docker-registry package.
REGISTRY_BINARY = "/usr/bin/docker-registry"
#: Media types of a single-platform image manifest (Docker schema 2 and OCI), asked for in this order.
MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
)
_LIST_TYPES = (
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
)


#: How a layer blob is compressed, by its media type (Docker schema 2 and OCI names).
LAYER_COMPRESSION = {
    "application/vnd.docker.image.rootfs.diff.tar.gzip": "gzip",
    "application/vnd.oci.image.layer.v1.tar+gzip": "gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd": "zstd",
    "application/vnd.oci.image.layer.v1.tar": "uncompressed",
}
#: The OCI layer media type for each compression (zstd exists only in OCI manifests).
LAYER_TYPES = {
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}

#: Layer compressions skopeo can write (``--dest-compress-format``).
Compression = Literal["gzip", "zstd"]

SKOPEO = "skopeo"
#: Where containers/image keeps its blob info cache when run as root
#: (when not root: ``$XDG_DATA_HOME/containers/cache``).
SYSTEM_BLOB_INFO_CACHE = Path("/var/lib/containers/cache")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now (the kernel picks it).

    >>> 1024 <= free_port() <= 65535
    True
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def registry_config(address: str, storage: Path) -> dict[str, Any]:
    """The registry's whole configuration: plain HTTP on ``address``, blobs under ``storage``, no auth.

    >>> registry_config("127.0.0.1:5000", Path("/tmp/r"))["http"]["addr"]
    '127.0.0.1:5000'
    """
    return {
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(storage)},
            "delete": {"enabled": True},
            # The registry would otherwise scan for stale uploads in the background.
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "http": {"addr": address, "headers": {"X-Content-Type-Options": ["nosniff"]}},
        "health": {"storagedriver": {"enabled": False}},
    }


def split_reference(reference: str) -> tuple[str, str]:
    """Split an image reference into repository and tag (``latest`` when absent); a registry port is no tag.

    >>> split_reference("127.0.0.1:5000/ch09/hello"), split_reference("golang:1.19")
    (('127.0.0.1:5000/ch09/hello', 'latest'), ('golang', '1.19'))
    """
    if "@" in reference:
        raise RegistryError(f"{reference} is pinned by digest; the book pushes and pulls tags only.")
    return references.split_reference(reference)


@dataclass(frozen=True)
class Blob:
    """One blob a manifest points at: a layer (compressed, as stored and sent) or the image config."""

    digest: str
    size: int
    media_type: str


def layer_compression(media_type: str) -> str:
    """How a layer with ``media_type`` is compressed: ``gzip``, ``zstd``, ``uncompressed`` or ``unknown``.

    >>> layer_compression("application/vnd.oci.image.layer.v1.tar+zstd")
    'zstd'
    """
    return LAYER_COMPRESSION.get(media_type, "unknown")


@dataclass(frozen=True)
class Manifest:
    """An image manifest as the registry serves it after a push."""

    media_type: str
    config: Blob
    layers: tuple[Blob, ...]
    #: Bytes of the manifest document itself, when it was read as bytes (a pull downloads it too).
    size: int | None = None
    #: The manifest's content digest (SHA-256 of those bytes): what ``IMAGE@sha256:…`` pins.
    digest: str | None = None

    @property
    def transfer_size(self) -> int:
        """Bytes of all layers as stored in the registry: what a cold node downloads (compressed)."""
        return sum(layer.size for layer in self.layers)

    @property
    def layer_sizes(self) -> list[int]:
        """Compressed size of each layer, base first."""
        return [layer.size for layer in self.layers]

    @property
    def layer_media_types(self) -> list[str]:
        """Media type of each layer, base first."""
        return [layer.media_type for layer in self.layers]

    @property
    def compression(self) -> str:
        """The one compression of every layer (``gzip``, ``zstd`` ...), or ``mixed``.

        >>> Manifest("m", Blob("sha256:c", 1, "c"), (Blob("sha256:a", 2, LAYER_TYPES["zstd"]),)).compression
        'zstd'
        """
        found = {layer_compression(t) for t in self.layer_media_types}
        return found.pop() if len(found) == 1 else "mixed"

    @property
    def content_size(self) -> int:
        """Bytes of everything a pull downloads: manifest, config and layers (needs ``size``)."""
        if self.size is None:
            raise RegistryError("the manifest was not read as bytes, so its own size is unknown.")
        return self.size + self.config.size + self.transfer_size


def _blob(entry: Any, what: str) -> Blob:
    try:
        size = int(entry["size"])
        digest = str(entry["digest"])
    except (KeyError, TypeError, ValueError):
        raise RegistryError(f"the manifest's {what} has no valid digest and size.") from None
    if size < 0 or not digest.startswith("sha256:"):
        raise RegistryError(f"the manifest's {what} has an invalid digest or size ({digest}, {size}).")
    return Blob(digest=digest, size=size, media_type=str(entry.get("mediaType", "")))


def parse_manifest(data: bytes | str | dict[str, Any], media_type: str = "") -> Manifest:
    """Read an image manifest (Docker schema 2 or OCI); a list or index is refused with one sentence.

    >>> m = parse_manifest({"schemaVersion": 2, "config": {"digest": "sha256:c", "size": 5},
    ...                     "layers": [{"digest": "sha256:a", "size": 10}, {"digest": "sha256:b", "size": 20}]})
    >>> m.transfer_size, m.layer_sizes
    (30, [10, 20])
    >>> parse_manifest(b'{"schemaVersion": 2, "config": {"digest": "sha256:c", "size": 5}, "layers": []}').digest[:15]
    'sha256:666bac7e'
    """
    size = digest = None
    if isinstance(data, (bytes, str)):
        raw = data.encode() if isinstance(data, str) else data
        size, digest = len(raw), "sha256:" + hashlib.sha256(raw).hexdigest()
        try:
            doc = json.loads(data)
        except ValueError:
            raise RegistryError("the registry's manifest is not valid JSON.") from None
    else:
        doc = data
    if not isinstance(doc, dict):
        raise RegistryError("the registry's manifest is not a JSON object.")
    kind = str(doc.get("mediaType") or media_type)
    if kind in _LIST_TYPES or "manifests" in doc:
        raise RegistryError("expected a single-platform image manifest, got a manifest list.")
    if doc.get("schemaVersion") != 2:
        raise RegistryError(f"expected a schema 2 image manifest, got schemaVersion {doc.get('schemaVersion')!r}.")
    layers = doc.get("layers")
    if not isinstance(layers, list):
        raise RegistryError("the manifest lists no layers.")
    return Manifest(
        media_type=kind,
        config=_blob(doc.get("config"), "config"),
        layers=tuple(_blob(layer, f"layer {i}") for i, layer in enumerate(layers)),
        size=size,
        digest=digest,
    )


# urllib honours *_proxy variables; the registry is private, so never go through a proxy.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str, headers: dict[str, str] | None = None, timeout: float = 10.0) -> tuple[int, bytes, str]:
    request = urllib.request.Request(url, headers=headers or {})
    with _OPENER.open(request, timeout=timeout) as response:
        return int(response.status), response.read(), str(response.headers.get("Content-Type", ""))


@dataclass
class Registry:
    """A running registry: where it listens, where it stores blobs, and its process."""

    address: str
    storage: Path
    process: subprocess.Popen[bytes]
    netns: str | None = None

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def reference(self, image: str) -> str:
        """``image`` (e.g. ``busybox:latest``) as a reference in this registry.

        >>> Registry("127.0.0.1:5000", Path("/x"), None).reference("busybox")  # type: ignore[arg-type]
        '127.0.0.1:5000/busybox:latest'
        """
        repository, tag = split_reference(image)
        return f"{self.address}/{repository}:{tag}"

    def answers(self, timeout: float = 2.0) -> bool:
        """True when ``GET /v2/`` answers 200 (the registry API's version check)."""
        try:
            return _get(f"{self.url}/v2/", timeout=timeout)[0] == 200
        except (OSError, urllib.error.URLError):
            return False

    def manifest(self, repository: str, tag: str = "latest") -> Manifest:
        """The image manifest of ``repository:tag`` as this registry serves it."""
        try:
            status, body, kind = _get(f"{self.url}/v2/{repository}/manifests/{tag}",
                                      headers={"Accept": ", ".join(MANIFEST_TYPES)})
        except urllib.error.HTTPError as err:
            raise RegistryError(f"the registry at {self.address} has no manifest for {repository}:{tag} "
                                f"(HTTP {err.code}).") from None
        except (OSError, urllib.error.URLError) as err:
            raise RegistryUnavailable(f"the registry at {self.address} did not answer ({err}).") from None
        return parse_manifest(body, kind.split(";")[0].strip())

    def repositories(self) -> list[str]:
        """The repositories this registry holds (``GET /v2/_catalog``)."""
        body = _get(f"{self.url}/v2/_catalog")[1]
        return list(json.loads(body).get("repositories") or [])


def _exit_reason(log: Path) -> str:
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1][-300:] if lines else "no log"


def wait_until_answers(registry: Registry, timeout: float, log: Path | None = None) -> None:
    """Poll ``GET /v2/`` until it answers; raise :class:`RegistryUnavailable` in one sentence otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if registry.process.poll() is not None:
            reason = _exit_reason(log) if log else "no log"
            raise RegistryUnavailable(f"the registry for {registry.address} exited with status "
                                      f"{registry.process.returncode} before answering: {reason}")
        if registry.answers(timeout=1.0):
            return
        time.sleep(0.05)
    raise RegistryUnavailable(f"registry did not answer on {registry.address} within {timeout:g}s.")


def stop_process(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL: how a registry or an engine is stopped."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace)


def registry_command(config: Path, netns: str | None = None, binary: str = REGISTRY_BINARY) -> list[str]:
    """The command that serves ``config``, inside network namespace ``netns`` when one is given.

    >>> registry_command(Path("/c.yml"), "ns1")
    ['ip', 'netns', 'exec', 'ns1', '/usr/bin/docker-registry', 'serve', '/c.yml']
    """
    command = [binary, "serve", str(config)]
    if not netns:
        return command
    from dockerlab.netshape import in_netns

    # In a lab container when the namespace was made in one (a reader who is not root).
    return in_netns(netns, command)


@contextmanager
def local_registry(
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    storage: Path | None = None,
    netns: str | None = None,
    timeout: float = 15.0,
    binary: str = REGISTRY_BINARY,
) -> Iterator[Registry]:
    """Run Docker Distribution on ``host:port`` (a free port by default) until the block ends.

    ``storage`` lets a second registry serve the same blobs (e.g. one inside a shaped network
    namespace ``netns``); a storage folder this function made is removed on exit, one it was
    given is left to its owner. The process is always stopped, also when the block fails.
    """
    if not Path(binary).is_file():
        raise RegistryUnavailable(f"{binary} is missing; install Debian's docker-registry package.")
    if port is None:
        port = 5000 if netns else free_port(host)
    address = f"{host}:{port}"
    work = Path(tempfile.mkdtemp(prefix="ch09-registry-"))
    # Written down as they start, so a killed run's registry and folder are swept (dockerlab.runstate).
    folder_record = runstate.register("folder", str(work))
    process_record = runstate.register("process", "", hint=str(work / "config.yml"))
    own_storage = storage is None
    blobs = work / "storage" if storage is None else storage
    blobs.mkdir(parents=True, exist_ok=True)
    config = work / "config.yml"
    config.write_text(yaml.safe_dump(registry_config(address, blobs), sort_keys=False))
    log = work / "registry.log"
    process: subprocess.Popen[bytes] | None = None
    try:
        env = runstate.proxy_free_env(drop_prefixes=("REGISTRY_",))
        with open(log, "wb") as out:
            process = subprocess.Popen(registry_command(config, netns, binary), stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        process_record = runstate.update(process_record, str(process.pid))
        registry = Registry(address=address, storage=blobs, process=process, netns=netns)
        wait_until_answers(registry, timeout, log)
        yield registry
    finally:
        if netns:
            from dockerlab.netshape import stop_in_netns

            stop_in_netns(netns, str(config))  # a server a lab container runs (a reader who is not root)
        if process is not None:
            stop_process(process)
        runstate.release(process_record)
        shutil.rmtree(work, ignore_errors=True)
        if own_storage:
            shutil.rmtree(blobs, ignore_errors=True)
        runstate.release(folder_record)


@dataclass(frozen=True)
class PushResult:
    """One ``docker push``: what was pushed where, how long it took, and the manifest the registry kept."""

    source: str
    reference: str
    seconds: float
    manifest: Manifest


#: Kept under its old name: the error in a push (or pull) progress stream.
push_error = stream_error


def push_image(image: str, registry: Registry, *, client: Any | None = None) -> PushResult:
    """``docker tag IMAGE REGISTRY/IMAGE && docker push REGISTRY/IMAGE``, timed; the extra tag is removed again.

    The push time covers what ``docker push`` does: compressing each layer with gzip and
    uploading it. The manifest is read back from the registry afterwards.
    """
    api = resolve_api(client)
    repository, tag = split_reference(image)
    target = f"{registry.address}/{repository}"
    api.tag(image, target, tag)
    try:
        started = time.perf_counter()
        chunks = list(api.push(target, tag=tag, stream=True, decode=True))
        seconds = time.perf_counter() - started
        error = push_error(chunks)
        if error:
            raise RegistryError(f"docker push of {image} to {registry.address} failed: {error}")
        return PushResult(source=image, reference=f"{target}:{tag}", seconds=seconds,
                          manifest=registry.manifest(repository, tag))
    finally:
        try:
            api.remove_image(f"{target}:{tag}", noprune=True)
        except Exception:  # noqa: BLE001 - the tag may never have been made
            pass


# -- recompressing an image in the registry (skopeo) ------------------------------


def recompress_command(source: str, target: str, compression: Compression, *, level: int | None = None) -> list[str]:
    """The ``skopeo copy`` that copies ``source`` to ``target`` (both plain-HTTP registry references) and
    recompresses every layer with ``compression``; the manifest becomes OCI (zstd has no Docker schema 2 type).

    >>> recompress_command("127.0.0.1:5000/golang:1.19", "127.0.0.1:5000/golang-zstd:1.19", "zstd")[2:]
    ... # doctest: +NORMALIZE_WHITESPACE
    ['--src-tls-verify=false', '--dest-tls-verify=false', '--format', 'oci', '--dest-compress-format', 'zstd',
     'docker://127.0.0.1:5000/golang:1.19', 'docker://127.0.0.1:5000/golang-zstd:1.19']
    """
    if compression not in LAYER_TYPES:
        raise RegistryError(f"skopeo cannot write {compression!r} layers here: use 'gzip' or 'zstd'.")
    command = [SKOPEO, "copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--format", "oci",
               "--dest-compress-format", compression]
    if level is not None:
        command += ["--dest-compress-level", str(level)]
    return command + [f"docker://{source}", f"docker://{target}"]


def with_private_blob_cache(command: Sequence[str], euid: int | None = None) -> list[str]:
    """``command`` run so that containers/image sees an empty blob info cache of its own.

    The cache remembers which compressed blobs hold which layer, in which registry. With it, a
    second ``skopeo copy --dest-compress-format zstd`` from the same registry mounts the known
    gzip blob into the new repository instead of recompressing (skopeo 1.9 has no option against
    that). As root, a private mount namespace hides the system cache behind an empty tmpfs that
    vanishes with the process (the cache folder is created first if skopeo never ran, as skopeo
    itself would); otherwise ``$XDG_DATA_HOME`` points the cache elsewhere (see :func:`recompress`).

    >>> with_private_blob_cache(["skopeo", "copy"], euid=0)[:5]
    ['unshare', '--mount', '--propagation', 'private', '--']
    """
    if (os.geteuid() if euid is None else euid) != 0:
        return list(command)
    cache = str(SYSTEM_BLOB_INFO_CACHE)
    script = f'mkdir -p {cache} && mount -t tmpfs -o mode=0700,size=64m ch09-blob-info-cache {cache} && exec "$@"'
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", *command]


@dataclass(frozen=True)
class Recompressed:
    """An image copied inside the registry with its layers recompressed, and the manifest the registry kept."""

    source: str
    #: The copy's name inside the registry (``golang-zstd:1.19``), for ``Registry.reference``.
    image: str
    reference: str
    seconds: float
    manifest: Manifest
    #: The ``skopeo copy`` command as a reader would type it.
    command: tuple[str, ...]


def recompress(registry: Registry, image: str, compression: Compression = "zstd", *,
               level: int | None = None, timeout: float = 1800.0) -> Recompressed:
    """Copy ``image`` (already pushed to ``registry``) to ``<repository>-<compression>`` in the same
    registry with every layer recompressed by ``skopeo copy``, timed; check the new manifest.

    ``level=None`` leaves the level to skopeo (containers/image's default for the format). The target
    repository must be new: skopeo reuses a blob the destination repository already holds, whatever
    its compression (a copy that kept gzip layers is refused with one sentence).

    >>> recompress(registry, "golang:1.19", "zstd").manifest.compression  # doctest: +SKIP
    'zstd'
    """
    if shutil.which(SKOPEO) is None:
        raise RegistryError(f"{SKOPEO} is not installed; install Debian's skopeo package.")
    repository, tag = split_reference(image)
    target_image = f"{repository}-{compression}:{tag}"
    command = recompress_command(registry.reference(image), registry.reference(target_image), compression, level=level)
    env = runstate.proxy_free_env()
    private = Path(tempfile.mkdtemp(prefix="ch09-skopeo-"))
    env["XDG_DATA_HOME"] = str(private)  # the blob info cache of a non-root skopeo
    try:
        started = time.perf_counter()
        proc = subprocess.run(with_private_blob_cache(command), capture_output=True, text=True, env=env,
                              timeout=timeout, stdin=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
    except subprocess.TimeoutExpired:
        raise RegistryError(f"skopeo copy of {image} did not finish within {timeout:g}s.") from None
    finally:
        shutil.rmtree(private, ignore_errors=True)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()] or [f"status {proc.returncode}"]
        raise RegistryError(f"skopeo copy of {image} to {compression} failed: {lines[-1][-300:]}")
    manifest = registry.manifest(*split_reference(target_image))
    if manifest.compression != compression:
        raise RegistryError(f"skopeo copied {image} but its layers are {manifest.compression}, not {compression}.")
    return Recompressed(source=registry.reference(image), image=target_image,
                        reference=registry.reference(target_image), seconds=seconds, manifest=manifest,
                        command=tuple(command))
