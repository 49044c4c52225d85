"""Run an image as a long-lived service and probe it over HTTP(S) on loopback.

A service container is published on ``127.0.0.1`` only, runs with no capabilities, no new
privileges and (by default) a read-only root filesystem, carries the project label, and is
always removed when the ``with`` block ends -- also when it never became healthy.

>>> with serving("ch09/webapi:scratch") as url:  # doctest: +SKIP
...     probe(url, "/healthz")
Probe(path='/healthz', status=200, body={'status': 'ok'})
"""

from __future__ import annotations

import functools
import json
import shutil
import ssl
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dockerlab.engine import remove_quietly, resolve_client
from dockerlab.errors import DockerLabError, ServiceNotReady
from dockerlab.examples import work_dir
from dockerlab.ownership import container_labels
from dockerlab.tlslab import LabCerts, make_lab_certs

#: Seconds a service may take to answer its health check before the run fails.
HEALTH_TIMEOUT = 30.0
#: Seconds one HTTP request may take.
REQUEST_TIMEOUT = 10.0


@dataclass(frozen=True)
class Probe:
    """One HTTP answer: the status code and the body (parsed JSON when it is JSON, else text)."""

    path: str
    status: int
    body: Any

    @property
    def body_text(self) -> str:
        """The body as one line of compact JSON (or the text as it came)."""
        if isinstance(self.body, str):
            return self.body.strip()
        return json.dumps(self.body, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def join_url(base_url: str, path: str) -> str:
    """Join a base URL and an absolute path without doubling the slash.

    >>> join_url("http://127.0.0.1:49153/", "/healthz")
    'http://127.0.0.1:49153/healthz'
    """
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def published_url(ports: Mapping[str, Any], container_port: int, scheme: str = "http") -> str:
    """The base URL of ``container_port`` as published on 127.0.0.1 (from ``NetworkSettings.Ports``).

    >>> published_url({"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "49153"}]}, 8080)
    'http://127.0.0.1:49153'
    """
    for binding in ports.get(f"{container_port}/tcp") or []:
        if binding.get("HostIp") == "127.0.0.1" and binding.get("HostPort"):
            return f"{scheme}://127.0.0.1:{binding['HostPort']}"
    raise DockerLabError(f"port {container_port}/tcp of the service is not published on 127.0.0.1.")


def probe(base_url: str, path: str, *, cafile: Path | None = None, timeout: float = REQUEST_TIMEOUT) -> Probe:
    """GET ``path`` from the service and return its status and body; error statuses are answers too.

    ``cafile`` is the CA that signed an HTTPS service's certificate. Raises ``OSError``
    (``URLError``) when nothing answers at all.
    """
    context = ssl.create_default_context(cafile=str(cafile)) if cafile else None
    request = urllib.request.Request(join_url(base_url, path), headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    text = raw.decode("utf-8", "replace")
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = text
    return Probe(path=path, status=status, body=body)


def wait_until_healthy(
    base_url: str,
    *,
    path: str = "/healthz",
    timeout: float = HEALTH_TIMEOUT,
    interval: float = 0.2,
    fetch: Callable[[str, str], Probe] = lambda url, path: probe(url, path, timeout=2.0),
    exited: Callable[[], str | None] = lambda: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    what: str = "the service",
) -> Probe:
    """Poll ``GET path`` until it answers 200; raise :class:`ServiceNotReady` after ``timeout`` seconds.

    ``exited()`` returns None while the container runs, else why it stopped (its last log
    lines), so a crashed service fails at once instead of after the timeout.
    """
    start = clock()
    last = "no answer yet"
    while True:
        try:
            answer = fetch(base_url, path)
            if answer.status == 200:
                return answer
            last = f"HTTP {answer.status}"
        except OSError as err:
            last = str(getattr(err, "reason", None) or err)
        stopped = exited()
        if stopped is not None:
            raise ServiceNotReady(f"{what} exited before answering GET {path}: {stopped}")
        if clock() - start >= timeout:
            raise ServiceNotReady(
                f"{what} did not answer GET {path} on {base_url} with 200 within {timeout:g} s (last: {last})."
            )
        sleep(interval)


@contextmanager
def labelled_network(purpose: str, *, client: Any | None = None) -> Iterator[str]:
    """A private bridge network for a few containers (removed at the end); yields its name.

    >>> with labelled_network("webapi") as net:  # doctest: +SKIP
    ...     net.startswith("ch09-webapi-")
    True
    """
    client = resolve_client(client)
    name = f"ch09-{purpose}-{uuid.uuid4().hex[:8]}"
    network = client.networks.create(name, driver="bridge", labels=container_labels())
    try:
        yield name
    finally:
        remove_quietly(network)


@contextmanager
def serving(
    tag: str,
    *,
    port: int = 8080,
    environment: Mapping[str, str] | None = None,
    scheme: str = "http",
    cafile: Path | None = None,
    network: str | None = None,
    aliases: list[str] | None = None,
    read_only: bool = True,
    timeout: float = HEALTH_TIMEOUT,
    health_path: str = "/healthz",
    client: Any | None = None,
    **kwargs: Any,
) -> Iterator[str]:
    """Run ``tag`` detached with ``port`` published on 127.0.0.1, wait for ``health_path``, yield the base URL.

    Like ``docker container run -d --read-only --cap-drop ALL -p 127.0.0.1::PORT TAG``; the
    container is removed when the block ends. ``network``/``aliases`` attach it to a
    network made with :func:`labelled_network`.
    """
    client = resolve_client(client)
    kwargs.setdefault("cap_drop", ["ALL"])
    kwargs.setdefault("security_opt", ["no-new-privileges"])
    labels = container_labels(kwargs.pop("labels", None))
    if network is not None:
        kwargs["network"] = network
        if aliases:
            kwargs["networking_config"] = {network: client.api.create_endpoint_config(aliases=list(aliases))}
    container = client.containers.create(
        tag,
        ports={f"{port}/tcp": ("127.0.0.1", None)},
        environment=dict(environment or {}),
        read_only=read_only,
        labels=labels,
        **kwargs,
    )
    try:
        container.start()
        container.reload()
        url = published_url(container.attrs["NetworkSettings"]["Ports"] or {}, port, scheme)

        def exited() -> str | None:
            container.reload()
            if container.status in ("exited", "dead"):
                logs = container.logs().decode("utf-8", "replace").strip().splitlines()
                return " / ".join(logs[-3:]) or f"status {container.status}"
            return None

        wait_until_healthy(url, path=health_path, timeout=timeout, exited=exited, what=f"a container of {tag}",
                           fetch=lambda u, p: probe(u, p, cafile=cafile, timeout=2.0))
        yield url
    finally:
        remove_quietly(container, force=True)


@contextmanager
def https_upstream(
    tag: str,
    tls: TlsFiles,
    network: str,
    *,
    alias: str = "upstream",
    port: int = 8443,
    client: Any | None = None,
) -> Iterator[str]:
    """Run the webapi image ``tag`` in its HTTPS mode as an internal API on ``network``; yield its URL there.

    Containers on ``network`` reach it as ``https://upstream:8443``; only the server's
    certificate and key are mounted (read-only), never the CA's key.

    >>> with (labelled_network("webapi") as net,  # doctest: +SKIP
    ...       https_upstream("ch09/webapi:scratch", tls, net) as api):
    ...     api
    'https://upstream:8443'
    """
    mounts = {
        str(tls.server_cert): {"bind": "/tls/server.crt", "mode": "ro"},
        str(tls.server_key): {"bind": "/tls/server.key", "mode": "ro"},
    }
    environment = {"PORT": str(port), "TLS_CERT_FILE": "/tls/server.crt", "TLS_KEY_FILE": "/tls/server.key"}
    with serving(tag, port=port, scheme="https", cafile=tls.ca_cert, network=network, aliases=[alias],
                 environment=environment, volumes=mounts, client=client):
        yield f"https://{alias}:{port}"


#: The TLS material :func:`internal_tls` returns (a CA, and a server certificate it signed).
TlsFiles = LabCerts


def internal_tls(folder: Path, names: tuple[str, ...] = ("upstream",), *, days: int = 30) -> LabCerts:
    """Make (or reuse, while valid for another day) a private CA and a server certificate for ``names``.

    The certificate also names ``127.0.0.1`` so the host can probe the server through its
    published port. The CA stands in for a company's internal CA; nothing here is trusted
    outside the images the book builds.
    """
    files = make_lab_certs(folder, names[0], extra_names=names[1:], ips=("127.0.0.1",), days=days)
    # The server runs as an unprivileged user without capabilities and must read its key;
    # the key is a throwaway used on loopback and private networks only.
    files.server_key.chmod(0o644)
    return files


#: Where the webapi Dockerfiles expect the internal CA in their build context (``COPY internal-ca.crt ...``).
INTERNAL_CA_FILE = "internal-ca.crt"
#: The folder under ``_build/work`` that holds the book's internal CA and server certificate.
INTERNAL_TLS_DIR = "webapi-tls"


def add_internal_ca(context: Path, tls: LabCerts | None = None) -> Path:
    """Copy the internal CA's certificate into a staged build context, where the webapi Dockerfiles expect it.

    Made for ``build_example(..., prepare=add_internal_ca)``; ``tls`` defaults to the book's
    :func:`internal_tls` under ``_build/work/webapi-tls``. Only the certificate goes into the
    context, never the CA's key. Returns the copied file.

    >>> add_internal_ca(stage_context("webapi")).name  # doctest: +SKIP
    'internal-ca.crt'
    """
    if tls is None:
        tls = _book_tls(work_dir(INTERNAL_TLS_DIR))
    return Path(shutil.copy(tls.ca_cert, Path(context) / INTERNAL_CA_FILE))


@functools.cache
def _book_tls(folder: Path) -> LabCerts:
    """The book's internal CA, made (or checked) once per process: every build of a page then gets the same CA,
    so the ``COPY internal-ca.crt`` step (and the ``update-ca-certificates`` after it) can come from the cache."""
    return internal_tls(folder)
