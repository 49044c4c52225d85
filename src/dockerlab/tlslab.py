"""A private TLS lab: a certificate authority of our own and an HTTPS server on a closed docker network.

It makes the scratch "no CA certificates" pitfall real without the internet: a client in
``FROM scratch`` calls a server whose certificate was signed by a CA made here, first with
no CA bundle in the image, then with one.

* :func:`make_lab_certs` writes a CA and a server certificate for one host name (``openssl``);
* :func:`ca_bundle` writes the file a client image copies to ``/etc/ssl/certs/``;
* :func:`https_server` starts the server image on a new *internal* network (no route out),
  and removes the container and the network when the block ends.

>>> certs = make_lab_certs(Path("/tmp/tls"), "secure.ch09.test")  # doctest: +SKIP
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docker.errors import APIError

from dockerlab.engine import remove_quietly, resolve_client
from dockerlab.errors import TlsLabError
from dockerlab.ownership import container_labels

#: Where Go's crypto/x509 (and Debian, and distroless) looks first for the CA bundle on Linux.
CA_BUNDLE_PATH = "/etc/ssl/certs/ca-certificates.crt"
#: Debian's bundle of public CAs on the host (package ca-certificates), when installed.
SYSTEM_BUNDLE = Path(CA_BUNDLE_PATH)
#: The server's port inside its container, and where it reads its certificate.
SERVER_PORT = 8443
SERVER_TLS_DIR = "tls"
CA_NAME = "CH09 lab CA"


@dataclass(frozen=True)
class LabCerts:
    """The files of one lab: the CA certificate (what clients must trust) and the server's key pair."""

    folder: Path
    hostname: str
    ca_cert: Path
    server_cert: Path
    server_key: Path


def _openssl(args: Sequence[str], what: str, cwd: Path) -> str:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise TlsLabError(f"cannot {what}: `openssl` is not installed (apt-get install openssl).")
    proc = subprocess.run([openssl, *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = " / ".join((proc.stderr or proc.stdout).strip().splitlines()[-2:])
        raise TlsLabError(f"cannot {what}: openssl {args[0]} failed: {tail}")
    return proc.stdout


def make_lab_certs(folder: Path, hostname: str, *, extra_names: Sequence[str] = (), ips: Sequence[str] = (),
                   days: int = 7, reuse: bool = True) -> LabCerts:
    """Write a CA and a server certificate for ``hostname`` (signed by that CA) into ``folder``.

    The server certificate names ``hostname``, ``extra_names`` and ``ips`` in subjectAltName, as Go
    requires. Ed25519 keys and fixed serial numbers give certificates of the same length every
    time, so images that carry the CA have the same size in every build. With ``reuse``, a lab
    already in ``folder`` for the same host, still valid for a day, is kept (same bytes).

    >>> make_lab_certs(Path("/tmp/tls"), "secure.ch09.test").ca_cert.name  # doctest: +SKIP
    'ca.crt'
    """
    for name in (hostname, *extra_names):
        if not name or "/" in name or " " in name:
            raise TlsLabError(f"cannot make a certificate for {name!r}: give a plain host name.")
    existing = LabCerts(folder, hostname, folder / "ca.crt", folder / "server.crt", folder / "server.key")
    if reuse and _still_good(existing):
        return existing
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*"):
        if old.is_file():
            old.unlink()
    key = ["-newkey", "ed25519", "-nodes"]
    _openssl(
        ["req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.crt", "-days", str(days), "-set_serial", "1",
         "-subj", f"/CN={CA_NAME}",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        "make the lab CA", folder,
    )
    _openssl(["req", "-new", *key, "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={hostname}"],
             "make the server key", folder)
    san = ",".join([f"DNS:{n}" for n in (hostname, *extra_names)] + [f"IP:{ip}" for ip in ips])
    (folder / "server.ext").write_text(
        f"subjectAltName={san}\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
    )
    _openssl(
        ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
         "-set_serial", "2", "-days", str(days), "-extfile", "server.ext", "-out", "server.crt"],
        "sign the server certificate", folder,
    )
    for leftover in ("server.csr", "server.ext"):
        (folder / leftover).unlink()
    return LabCerts(folder, hostname, folder / "ca.crt", folder / "server.crt", folder / "server.key")


def _still_good(certs: LabCerts, seconds: int = 86_400) -> bool:
    """True when the lab's files exist, chain to its CA, name its host and stay valid for ``seconds``."""
    if not all(p.is_file() for p in (certs.ca_cert, certs.server_cert, certs.server_key)):
        return False
    try:
        for cert in (certs.ca_cert, certs.server_cert):
            _openssl(["x509", "-in", str(cert), "-noout", "-checkend", str(seconds)], "check the validity",
                     certs.folder)
        # The SAN line reads "DNS:upstream, DNS:localhost, IP Address:..."; split on commas, not spaces.
        names = {part.strip() for part in describe_cert(certs.server_cert).replace("\n", ",").split(",")}
        named = f"DNS:{certs.hostname}" in names
    except TlsLabError:
        return False
    return named and verify_cert(certs)


def describe_cert(cert: Path) -> str:
    """``openssl x509 -noout -subject -issuer -ext subjectAltName``: who a certificate is for and who signed it."""
    return _openssl(["x509", "-in", str(cert), "-noout", "-subject", "-issuer", "-ext", "subjectAltName"],
                    "read the certificate", cert.parent).strip()


def verify_cert(certs: LabCerts) -> bool:
    """True when ``openssl verify`` accepts the server certificate against the lab CA alone."""
    try:
        _openssl(["verify", "-CAfile", str(certs.ca_cert), str(certs.server_cert)], "verify", certs.folder)
    except TlsLabError:
        return False
    return True


def ca_bundle(dest: Path, certs: LabCerts, *, system_bundle: Path | None = SYSTEM_BUNDLE) -> Path:
    """Write the CA bundle a client image copies: the host's public CAs (when present) plus the lab CA.

    That is what an image needs in practice: the distribution's bundle, with a private CA appended
    when the servers it calls use one.
    """
    parts = []
    if system_bundle is not None and system_bundle.is_file():
        parts.append(system_bundle.read_text())
    parts.append(certs.ca_cert.read_text())
    dest.write_text("".join(p if p.endswith("\n") else p + "\n" for p in parts))
    return dest


def count_certificates(bundle: Path) -> int:
    """Number of PEM certificates in a bundle.

    >>> import tempfile; p = Path(tempfile.mkdtemp()) / "b"; _ = p.write_text("-----BEGIN CERTIFICATE-----\\n")
    >>> count_certificates(p)
    1
    """
    return bundle.read_text().count("-----BEGIN CERTIFICATE-----")


def server_files_tar(certs: LabCerts) -> bytes:
    """A tar holding ``tls/server.crt`` and ``tls/server.key``, for ``put_archive`` into the server container."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        folder = tarfile.TarInfo(SERVER_TLS_DIR)
        folder.type, folder.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(folder)
        for path, mode in ((certs.server_cert, 0o644), (certs.server_key, 0o600)):
            data = path.read_bytes()
            info = tarfile.TarInfo(f"{SERVER_TLS_DIR}/{path.name}")
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@dataclass(frozen=True)
class HttpsServer:
    """A running lab server: its URL as clients on ``network`` reach it."""

    url: str
    network: str
    container: str
    hostname: str


def _wait_for_log(container: Any, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        container.reload()
        logs = container.logs().decode("utf-8", "replace")
        if text in logs:
            return
        if container.status == "exited":
            raise TlsLabError(f"the HTTPS server exited before it listened: {logs.strip()[-300:]}")
        time.sleep(0.2)
    raise TlsLabError(f"the HTTPS server did not say {text!r} within {timeout:.0f} s.")


@contextmanager
def https_server(image: str, certs: LabCerts, *, client: Any | None = None,
                 ready_text: str = "listening", timeout: float = 20.0) -> Iterator[HttpsServer]:
    """Run ``image`` (an HTTPS server on :data:`SERVER_PORT` reading ``/tls``) on a new internal network.

    The network is labelled, ``internal`` (containers on it reach each other, nothing else),
    and named uniquely; the server answers to ``certs.hostname`` there. Both are removed when
    the block ends, also after an error.

    >>> with https_server("ch09/https-server:latest", certs) as server:  # doctest: +SKIP
    ...     try_run("ch09/https-get:ca", [server.url], network=server.network).output
    """
    client = resolve_client(client)
    suffix = uuid.uuid4().hex[:8]
    labels = container_labels()
    try:
        network = client.networks.create(f"ch09-tls-{suffix}", driver="bridge", internal=True, labels=labels)
    except APIError as err:
        raise TlsLabError(f"cannot create the lab network: {err.explanation or err}") from None
    try:
        endpoint = client.api.create_endpoint_config(aliases=[certs.hostname])
        container = client.containers.create(
            image, name=f"ch09-tls-server-{suffix}", labels=labels, network=network.name,
            networking_config={network.name: endpoint}, cap_drop=["ALL"], security_opt=["no-new-privileges"],
        )
        try:
            container.put_archive("/", server_files_tar(certs))
            container.start()
            _wait_for_log(container, ready_text, timeout)
            yield HttpsServer(f"https://{certs.hostname}:{SERVER_PORT}/", network.name, container.name, certs.hostname)
        finally:
            remove_quietly(container, force=True)
    finally:
        remove_quietly(network)
