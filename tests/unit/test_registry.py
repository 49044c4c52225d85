"""dockerlab.registry without a daemon: config, port choice, references, manifests, errors.

A tiny HTTP server in a thread stands in for the registry's API where one is needed.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from dockerlab.errors import RegistryUnavailable
from dockerlab.registry import (
    MANIFEST_TYPES,
    Registry,
    RegistryError,
    free_port,
    local_registry,
    parse_manifest,
    push_error,
    push_image,
    registry_command,
    registry_config,
    split_reference,
    wait_until_answers,
)

LAYER_A = "sha256:" + "a" * 64
LAYER_B = "sha256:" + "b" * 64
CONFIG = "sha256:" + "c" * 64
SCHEMA2 = {
    "schemaVersion": 2,
    "mediaType": MANIFEST_TYPES[0],
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1457, "digest": CONFIG},
    "layers": [
        {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 29144775, "digest": LAYER_A},
        {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 132, "digest": LAYER_B},
    ],
}


# -- configuration and port ---------------------------------------------------


def test_free_port_can_be_bound_on_loopback() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_config_listens_on_the_given_address_stores_in_the_folder_and_has_no_auth(tmp_path: Path) -> None:
    config = registry_config("127.0.0.1:5123", tmp_path / "blobs")
    assert config["http"]["addr"] == "127.0.0.1:5123"
    assert config["storage"]["filesystem"]["rootdirectory"] == str(tmp_path / "blobs")
    assert "auth" not in config
    assert "tls" not in config["http"]
    # What the registry reads back from the YAML file is the same document.
    assert yaml.safe_load(yaml.safe_dump(config)) == config


def test_command_runs_in_a_namespace_only_when_asked() -> None:
    assert registry_command(Path("/c.yml")) == ["/usr/bin/docker-registry", "serve", "/c.yml"]
    assert registry_command(Path("/c.yml"), "ns")[:4] == ["ip", "netns", "exec", "ns"]


# -- references -----------------------------------------------------------------


@pytest.mark.parametrize(
    "reference, expected",
    [
        ("busybox", ("busybox", "latest")),
        ("golang:1.19", ("golang", "1.19")),
        ("ch09/hello:latest", ("ch09/hello", "latest")),
        ("127.0.0.1:5000/ch09/hello", ("127.0.0.1:5000/ch09/hello", "latest")),
        ("127.0.0.1:5000/debian:bookworm-slim", ("127.0.0.1:5000/debian", "bookworm-slim")),
    ],
)
def test_split_reference_never_takes_a_registry_port_for_a_tag(reference: str, expected: tuple[str, str]) -> None:
    assert split_reference(reference) == expected


def test_digest_references_are_refused_in_one_sentence() -> None:
    with pytest.raises(RegistryError, match="pinned by digest"):
        split_reference("busybox@sha256:" + "0" * 64)


def test_registry_reference_names_the_registry_and_the_tag() -> None:
    registry = Registry("10.209.0.2:5000", Path("/x"), None)  # type: ignore[arg-type]
    assert registry.reference("ch09/hello:latest") == "10.209.0.2:5000/ch09/hello:latest"
    assert registry.reference("busybox") == "10.209.0.2:5000/busybox:latest"


# -- manifests ------------------------------------------------------------------


def test_schema2_manifest_gives_the_compressed_layer_sizes() -> None:
    manifest = parse_manifest(json.dumps(SCHEMA2).encode())
    assert manifest.layer_sizes == [29144775, 132]
    assert manifest.transfer_size == 29144907
    assert manifest.config.size == 1457
    assert manifest.layers[0].digest == LAYER_A


def test_oci_manifest_is_read_too() -> None:
    oci = {**SCHEMA2, "mediaType": MANIFEST_TYPES[1]}
    assert parse_manifest(oci).media_type == MANIFEST_TYPES[1]


def test_media_type_may_come_from_the_http_header() -> None:
    doc = {k: v for k, v in SCHEMA2.items() if k != "mediaType"}
    assert parse_manifest(doc, MANIFEST_TYPES[0]).media_type == MANIFEST_TYPES[0]


@pytest.mark.parametrize(
    "doc, message",
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "not a JSON object"),
        ({"schemaVersion": 2, "manifests": []}, "got a manifest list"),
        ({"schemaVersion": 1, "fsLayers": []}, "schemaVersion 1"),
        ({"schemaVersion": 2, "config": SCHEMA2["config"]}, "lists no layers"),
        ({**SCHEMA2, "layers": [{"digest": LAYER_A}]}, "layer 0 has no valid digest and size"),
        ({**SCHEMA2, "layers": [{"digest": "md5:x", "size": 3}]}, "invalid digest or size"),
    ],
)
def test_bad_manifests_fail_in_one_sentence(doc: Any, message: str) -> None:
    with pytest.raises(RegistryError, match=message) as err:
        parse_manifest(doc)
    assert str(err.value).count(". ") == 0 and str(err.value).endswith(".")


# -- a fake registry API over HTTP ----------------------------------------------


class _FakeRegistryHandler(BaseHTTPRequestHandler):
    manifests: dict[str, dict[str, Any]] = {}
    seen_accept: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path == "/v2/":
            self._send(200, b"{}", "application/json")
        elif self.path in self.manifests:
            self.seen_accept.append(self.headers.get("Accept", ""))
            self._send(200, json.dumps(self.manifests[self.path]).encode(), MANIFEST_TYPES[0])
        else:
            self._send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', "application/json")

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_registry() -> Iterator[Registry]:
    _FakeRegistryHandler.manifests = {"/v2/busybox/manifests/latest": SCHEMA2}
    _FakeRegistryHandler.seen_accept = []
    server = HTTPServer(("127.0.0.1", 0), _FakeRegistryHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        yield Registry(f"127.0.0.1:{server.server_address[1]}", Path("/unused"), idle)
    finally:
        server.shutdown()
        server.server_close()
        idle.kill()
        idle.wait()


def test_manifest_is_asked_for_as_a_single_platform_image(fake_registry: Registry) -> None:
    manifest = fake_registry.manifest("busybox", "latest")
    assert manifest.transfer_size == 29144907
    assert MANIFEST_TYPES[0] in _FakeRegistryHandler.seen_accept[0]


def test_a_missing_manifest_is_one_sentence(fake_registry: Registry) -> None:
    with pytest.raises(RegistryError, match=r"has no manifest for nothing:here \(HTTP 404\)\."):
        fake_registry.manifest("nothing", "here")


def test_wait_returns_once_v2_answers(fake_registry: Registry) -> None:
    wait_until_answers(fake_registry, timeout=5)


def test_wait_gives_up_with_the_address_and_the_time() -> None:
    port = free_port()
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with pytest.raises(RegistryUnavailable) as err:
            wait_until_answers(Registry(f"127.0.0.1:{port}", Path("/x"), idle), timeout=0.3)
    finally:
        idle.kill()
        idle.wait()
    assert str(err.value) == f"registry did not answer on 127.0.0.1:{port} within 0.3s."


def test_wait_reports_a_registry_that_exited(tmp_path: Path) -> None:
    log = tmp_path / "registry.log"
    log.write_text("configuration error: listen tcp 127.0.0.1:1: bind: permission denied\n")
    dead = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    dead.wait()
    with pytest.raises(RegistryUnavailable, match=r"exited with status 3 before answering: configuration error"):
        wait_until_answers(Registry("127.0.0.1:1", Path("/x"), dead), timeout=5, log=log)


def test_local_registry_without_the_binary_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(RegistryUnavailable, match="install Debian's docker-registry package"):
        with local_registry(binary=str(tmp_path / "docker-registry")):
            pass


def test_local_registry_stops_a_binary_that_never_answers_and_removes_its_storage(tmp_path: Path,
                                                                                  monkeypatch) -> None:
    fake = tmp_path / "docker-registry"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp_root))
    with pytest.raises(RegistryUnavailable, match=r"^registry did not answer on 127\.0\.0\.1:\d+ within 0\.5s\.$"):
        with local_registry(binary=str(fake), timeout=0.5):
            pass
    assert list(temp_root.iterdir()) == []


# -- push -----------------------------------------------------------------------


class _PushAPI:
    def __init__(self, stream: list[dict[str, Any]]) -> None:
        self.stream = stream
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def tag(self, *args: Any) -> bool:
        self.calls.append(("tag", args))
        return True

    def push(self, repository: str, tag: str, stream: bool, decode: bool):
        self.calls.append(("push", (repository, tag)))
        return iter(self.stream)

    def remove_image(self, image: str, noprune: bool = False) -> None:
        self.calls.append(("remove_image", (image,)))


def test_push_error_finds_dockers_message() -> None:
    assert push_error([{"status": "Pushing"}]) is None
    assert push_error([{"error": "unauthorized"}]) == "unauthorized"
    assert push_error([{"errorDetail": {"message": "blob upload unknown"}}]) == "blob upload unknown"


def test_push_tags_pushes_reads_the_manifest_and_untags(fake_registry: Registry) -> None:
    api = _PushAPI([{"status": "Pushed"}, {"status": "latest: digest: sha256:x size: 528"}])
    result = push_image("busybox", fake_registry, client=api)
    target = f"{fake_registry.address}/busybox"
    assert api.calls[0] == ("tag", ("busybox", target, "latest"))
    assert api.calls[1] == ("push", (target, "latest"))
    assert api.calls[-1] == ("remove_image", (f"{target}:latest",))
    assert result.reference == f"{target}:latest"
    assert result.manifest.layer_sizes == [29144775, 132]
    assert result.seconds >= 0


def test_a_failed_push_is_one_sentence_and_still_untags(fake_registry: Registry) -> None:
    api = _PushAPI([{"errorDetail": {"message": "connection refused"}, "error": "connection refused"}])
    with pytest.raises(RegistryError, match=r"^docker push of busybox:latest to 127\.0\.0\.1:\d+ failed: connection refused$"):
        push_image("busybox:latest", fake_registry, client=api)
    assert api.calls[-1][0] == "remove_image"
