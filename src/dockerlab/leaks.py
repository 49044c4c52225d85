"""Where a secret ended up in an image: every layer and the config of ``docker image save``, searched byte for byte.

A build step that needs a token can leave it in the image in three places a reader can get at
without any special tool: the image config (``docker image history`` shows the build arguments
each ``RUN`` saw, ``docker image inspect`` shows ``ENV``), and the layers (a file deleted in a
later step is still in the layer that added it). :func:`find_bytes` saves the image and looks in
all of them; an empty answer means the bytes are nowhere in what ``docker image save`` (or a push)
hands out.

>>> [f.where for f in find_bytes("ch09/bk-secret:arg", token)]  # doctest: +SKIP
['설정 history[6].created_by']

:func:`basic_auth_server` is the other half of the demonstration: a private HTTP file server (BusyBox
``httpd`` with basic authentication) on the engine's bridge network, so a build step has a real
reason to need the token.
"""

from __future__ import annotations

import io
import json
import socket
import tarfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from dockerlab.engine import resolve_client
from dockerlab.errors import DockerLabError
from dockerlab.layers import layers_of, open_layer, saved_image

#: Bytes read from a layer file at a time; a match across two reads is still found.
CHUNK = 1 << 20


@dataclass(frozen=True)
class Finding:
    """One place the needle was found: in the image config (a JSON path) or in a layer (a file path).

    >>> Finding("layer", "tmp/token", 2).where
    '레이어 3: tmp/token'
    >>> Finding("config", "config.Env[1]").where
    '설정 config.Env[1]'
    """

    part: Literal["config", "layer"]
    location: str  # JSON path in the config (``history[6].created_by``) or a path inside the layer tar
    layer: int | None = None  # index of the layer, base first (0); None for the config

    @property
    def where(self) -> str:
        """The place in the book's words: ``설정 <JSON path>`` or ``레이어 <n, from 1>: <path>``."""
        if self.part == "config":
            return f"설정 {self.location}"
        return f"레이어 {(self.layer or 0) + 1}: {self.location}"


def _as_bytes(needle: str | bytes) -> bytes:
    data = needle.encode() if isinstance(needle, str) else bytes(needle)
    if not data:
        raise ValueError("an empty needle is found everywhere; search for something")
    return data


def find_in_config(config: Any, needle: str | bytes, path: str = "") -> list[Finding]:
    """Every string in the config JSON that contains ``needle``, as JSON paths, in document order.

    >>> [f.location for f in find_in_config({"config": {"Env": ["A=1", "T=s3cret"]}}, "s3cret")]
    ['config.Env[1]']
    """
    text = _as_bytes(needle).decode("utf-8", "surrogateescape")
    found: list[Finding] = []
    if isinstance(config, dict):
        for key, value in config.items():
            where = f"{path}.{key}" if path else str(key)
            if text in str(key):
                found.append(Finding("config", where))
            found += find_in_config(value, needle, where)
    elif isinstance(config, list):
        for i, value in enumerate(config):
            found += find_in_config(value, needle, f"{path}[{i}]")
    elif isinstance(config, str) and text in config:
        found.append(Finding("config", path))
    return found


def _stream_contains(stream: io.BufferedIOBase | Any, needle: bytes, chunk: int = CHUNK) -> bool:
    """Whether ``needle`` occurs in ``stream``, reading ``chunk`` bytes at a time (matches across reads count)."""
    tail = b""
    while data := stream.read(chunk):
        window = tail + data
        if needle in window:
            return True
        tail = window[-(len(needle) - 1):] if len(needle) > 1 else b""
    return False


def find_in_layer(layer: tarfile.TarFile, needle: str | bytes, index: int, chunk: int = CHUNK) -> list[Finding]:
    """Every entry of one layer tar whose name, link target or content contains ``needle``."""
    data = _as_bytes(needle)
    text = data.decode("utf-8", "surrogateescape")
    found = []
    for member in layer:
        hit = text in member.name or (member.issym() or member.islnk()) and text in member.linkname
        hit = hit or any(text in str(v) for v in (member.pax_headers or {}).values())
        if not hit and member.isfile():
            content = layer.extractfile(member)
            hit = content is not None and _stream_contains(content, data, chunk)
        if hit:
            found.append(Finding("layer", member.name, index))
    return found


def find_in_archive(archive: tarfile.TarFile, needle: str | bytes, chunk: int = CHUNK) -> list[Finding]:
    """Search a ``docker image save`` archive: the image config first, then every layer, base first."""
    member = archive.extractfile("manifest.json")
    if member is None:
        raise ValueError("the saved image has no manifest.json")
    config_path = json.load(member)[0]["Config"]
    config_file = archive.extractfile(config_path)
    if config_file is None:
        raise ValueError(f"the saved image has no config {config_path}")
    found = find_in_config(json.load(config_file), needle)
    for layer in layers_of(archive):
        with open_layer(archive, layer) as tar:
            found += find_in_layer(tar, needle, layer.index, chunk)
    return found


def find_bytes(tag: str, needle: str | bytes, client: Any | None = None) -> list[Finding]:
    """Save ``tag`` (``docker image save``) and return every place ``needle`` occurs: config strings, layer files.

    >>> find_bytes("ch09/bk-secret:mount", token)  # doctest: +SKIP
    []
    """
    _as_bytes(needle)
    with saved_image(tag, client) as (archive, _):
        return find_in_archive(archive, needle)


# --------------------------------------------------------------------------- a private file server


def _server_files(user: str, password: str, files: Mapping[str, bytes]) -> bytes:
    """A tar to unpack at ``/``: ``/www/<name>`` for each file and BusyBox httpd's ``/etc/httpd.conf``.

    >>> names = tarfile.open(fileobj=io.BytesIO(_server_files("u", "p", {"f.txt": b"x"}))).getnames()
    >>> names
    ['www', 'www/f.txt', 'etc/httpd.conf']
    """
    if ":" in user or ":" in password or "\n" in user + password:
        raise ValueError("BusyBox httpd's config separates user and password with ':'; use neither ':' nor newlines")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        folder = tarfile.TarInfo("www")
        folder.type, folder.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(folder)
        # "/:user:password" protects every path with basic authentication (plain-text password).
        entries = [(f"www/{name}", data, 0o644) for name, data in files.items()]
        entries.append(("etc/httpd.conf", f"/:{user}:{password}\n".encode(), 0o600))
        for name, data, mode in entries:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def _wait_for_port(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError as err:
            if time.monotonic() > deadline:
                raise DockerLabError(f"the private file server on {host}:{port} did not answer: {err}") from None
            time.sleep(0.1)


@contextmanager
def basic_auth_server(
    user: str,
    password: str,
    files: Mapping[str, bytes],
    *,
    image: str = "busybox:latest",
    port: int = 8080,
    client: Any | None = None,
    timeout: float = 20.0,
) -> Iterator[str]:
    """Serve ``files`` over HTTP with basic authentication from a labelled container; yield its ``IP:port``.

    The address is the container's IP on the engine's default bridge, which build steps can reach
    (``wget http://user:password@IP:port/name``). The container is removed on exit.

    >>> with basic_auth_server("ch09", token, {"private.txt": b"data"}) as address:  # doctest: +SKIP
    ...     address
    '172.17.0.3:8080'
    """
    from dockerlab.ownership import container_labels

    client = resolve_client(client)
    container = client.containers.create(
        image, ["httpd", "-f", "-p", str(port), "-h", "/www", "-c", "/etc/httpd.conf"],
        labels=container_labels(), cap_drop=["ALL"], security_opt=["no-new-privileges"],
    )
    try:
        container.put_archive("/", _server_files(user, password, files))
        container.start()
        container.reload()
        address = (container.attrs.get("NetworkSettings") or {}).get("IPAddress") or ""
        if not address:
            raise DockerLabError("the private file server got no IP address on the default bridge network.")
        _wait_for_port(address, port, timeout)
        yield f"{address}:{port}"
    finally:
        container.remove(force=True)
