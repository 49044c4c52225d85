"""dockerlab.registry without a daemon: config, port choice, references, manifests, errors.

A tiny HTTP server in a thread stands in for the registry's API where one is needed.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from dockerlab.errors import RegistryUnavailable
from dockerlab.registry import (
    LAYER_TYPES,
    MANIFEST_TYPES,
    SYSTEM_BLOB_INFO_CACHE,
    Blob,
    Manifest,
    Registry,
    RegistryError,
    free_port,
    layer_compression,
    local_registry,
    parse_manifest,
    push_error,
    push_image,
    recompress,
    recompress_command,
    registry_command,
    registry_config,
    split_reference,
    wait_until_answers,
    with_private_blob_cache,
)

from .fakes import FakeAPIClient

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


def test_a_manifest_read_as_bytes_knows_its_own_size_and_everything_a_pull_downloads() -> None:
    body = json.dumps(SCHEMA2).encode()
    manifest = parse_manifest(body)
    assert manifest.size == len(body)
    assert manifest.content_size == len(body) + 1457 + 29144907
    with pytest.raises(RegistryError, match="its own size is unknown"):
        parse_manifest(SCHEMA2).content_size  # noqa: B018 - a dict has no byte length


def test_a_manifest_read_as_bytes_knows_the_digest_that_pins_it() -> None:
    # The registry's Docker-Content-Digest is the SHA-256 of the exact bytes it serves, spacing included.
    compact = json.dumps(SCHEMA2, separators=(",", ":")).encode()
    spaced = json.dumps(SCHEMA2, indent=3).encode()
    assert parse_manifest(compact).digest == "sha256:" + hashlib.sha256(compact).hexdigest()
    assert parse_manifest(compact).digest != parse_manifest(spaced).digest
    assert parse_manifest(SCHEMA2).digest is None  # a dict is no longer the bytes that were served


@pytest.mark.parametrize(
    "media_type, compression",
    [
        ("application/vnd.docker.image.rootfs.diff.tar.gzip", "gzip"),
        ("application/vnd.oci.image.layer.v1.tar+gzip", "gzip"),
        ("application/vnd.oci.image.layer.v1.tar+zstd", "zstd"),
        ("application/vnd.oci.image.layer.v1.tar", "uncompressed"),
        ("application/vnd.oci.image.layer.v1.tar+zstd+encrypted", "unknown"),
    ],
)
def test_layer_compression_reads_the_media_type(media_type: str, compression: str) -> None:
    assert layer_compression(media_type) == compression


def _layers(*kinds: str) -> Manifest:
    config = Blob(CONFIG, 10, "application/vnd.oci.image.config.v1+json")
    return Manifest(MANIFEST_TYPES[1], config, tuple(Blob(LAYER_A, 5, kind) for kind in kinds))


def test_a_manifest_has_one_compression_or_is_mixed() -> None:
    assert parse_manifest(SCHEMA2).compression == "gzip"
    assert _layers(LAYER_TYPES["zstd"], LAYER_TYPES["zstd"]).compression == "zstd"
    assert _layers(LAYER_TYPES["zstd"], LAYER_TYPES["gzip"]).compression == "mixed"
    assert _layers(LAYER_TYPES["zstd"]).layer_media_types == ["application/vnd.oci.image.layer.v1.tar+zstd"]


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


def _engine_pushing(stream: list[dict[str, Any]]) -> FakeAPIClient:
    """A fake engine holding busybox:latest, whose pushes stream ``stream``."""
    api = FakeAPIClient()
    api.add_image("busybox:latest")
    api.push_stream = stream
    return api


def test_push_error_finds_dockers_message() -> None:
    assert push_error([{"status": "Pushing"}]) is None
    assert push_error([{"error": "unauthorized"}]) == "unauthorized"
    assert push_error([{"errorDetail": {"message": "blob upload unknown"}}]) == "blob upload unknown"


def test_push_tags_pushes_reads_the_manifest_and_untags(fake_registry: Registry) -> None:
    api = _engine_pushing([{"status": "Pushed"}, {"status": "latest: digest: sha256:x size: 528"}])
    result = push_image("busybox", fake_registry, client=api)
    target = f"{fake_registry.address}/busybox"
    assert api.calls[0] == ("tag", {"image": "busybox", "repository": target, "tag": "latest"})
    assert api.calls[1] == ("push", {"repository": target, "tag": "latest"})
    assert api.calls[-1] == ("remove_image", {"image": f"{target}:latest", "force": False})
    assert api.inspect_image("busybox")["RepoTags"] == ["busybox:latest"]  # the push tag is gone, the image kept
    assert result.reference == f"{target}:latest"
    assert result.manifest.layer_sizes == [29144775, 132]
    assert result.seconds >= 0


def test_a_failed_push_is_one_sentence_and_still_untags(fake_registry: Registry) -> None:
    api = _engine_pushing([{"errorDetail": {"message": "connection refused"}, "error": "connection refused"}])
    with pytest.raises(RegistryError,
                       match=r"^docker push of busybox:latest to 127\.0\.0\.1:\d+ failed: connection refused$"):
        push_image("busybox:latest", fake_registry, client=api)
    assert api.calls[-1][0] == "remove_image"
    assert api.inspect_image("busybox")["RepoTags"] == ["busybox:latest"]


# -- recompress (skopeo) ----------------------------------------------------------


def test_recompress_command_copies_between_plain_http_references_into_an_oci_manifest() -> None:
    command = recompress_command("127.0.0.1:5000/golang:1.19", "127.0.0.1:5000/golang-zstd:1.19", "zstd")
    assert command[:2] == ["skopeo", "copy"]
    assert "--src-tls-verify=false" in command and "--dest-tls-verify=false" in command
    assert command[command.index("--format") + 1] == "oci"  # zstd layers exist only in OCI manifests
    assert command[command.index("--dest-compress-format") + 1] == "zstd"
    assert "--dest-compress-level" not in command  # skopeo's default level unless asked
    assert command[-2:] == ["docker://127.0.0.1:5000/golang:1.19", "docker://127.0.0.1:5000/golang-zstd:1.19"]


def test_recompress_command_takes_a_level_and_refuses_unknown_formats() -> None:
    command = recompress_command("r/a:1", "r/a-zstd:1", "zstd", level=19)
    assert command[command.index("--dest-compress-level") + 1] == "19"
    with pytest.raises(RegistryError, match="cannot write 'brotli' layers"):
        recompress_command("r/a:1", "r/b:1", "brotli")  # type: ignore[arg-type]


def test_as_root_skopeo_runs_with_an_empty_tmpfs_over_the_system_blob_info_cache() -> None:
    command = ["skopeo", "copy", "docker://a", "docker://b"]
    wrapped = with_private_blob_cache(command, euid=0)
    assert wrapped[:5] == ["unshare", "--mount", "--propagation", "private", "--"]
    script = wrapped[wrapped.index("-c") + 1]
    assert "mount -t tmpfs" in script and script.rstrip().endswith('exec "$@"')
    assert str(SYSTEM_BLOB_INFO_CACHE) in script
    # The command itself is passed as arguments, untouched (no shell quoting to get wrong).
    assert wrapped[-len(command):] == command
    assert with_private_blob_cache(command, euid=1000) == command


_FAKE_SKOPEO = """#!{python}
import json, os, sys
with open(os.environ["FAKE_SKOPEO_LOG"], "w") as log:
    json.dump({{"argv": sys.argv[1:], "xdg": os.environ.get("XDG_DATA_HOME"),
               "xdg_exists": os.path.isdir(os.environ.get("XDG_DATA_HOME", "/nonexistent")),
               "proxies": sorted(k for k in os.environ if k.lower().endswith("_proxy"))}}, log)
sys.stderr.write("Getting image source signatures\\n" + os.environ.get("FAKE_SKOPEO_ERR", ""))
sys.exit(int(os.environ.get("FAKE_SKOPEO_STATUS", "0")))
"""


@pytest.fixture
def fake_skopeo(tmp_path: Path, monkeypatch) -> Path:
    """A stand-in ``skopeo`` first on PATH that records how it was called; run as if not root (no unshare)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "skopeo"
    script.write_text(_FAKE_SKOPEO.format(python=sys.executable))
    script.chmod(0o755)
    log = tmp_path / "skopeo.json"
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SKOPEO_LOG", str(log))
    monkeypatch.setattr("dockerlab.registry.os.geteuid", lambda: 1000)
    return log


def _zstd_copy_served(kind: str) -> None:
    layers = [{**layer, "mediaType": LAYER_TYPES[kind]} for layer in SCHEMA2["layers"]]
    _FakeRegistryHandler.manifests["/v2/ch09/hello-zstd/manifests/latest"] = {
        **SCHEMA2, "mediaType": MANIFEST_TYPES[1], "layers": layers}


def test_recompress_runs_skopeo_with_a_private_cache_and_returns_the_copys_manifest(
        fake_registry: Registry, fake_skopeo: Path) -> None:
    _zstd_copy_served("zstd")
    result = recompress(fake_registry, "ch09/hello:latest", "zstd")
    called = json.loads(fake_skopeo.read_text())
    assert called["argv"][-2:] == [f"docker://{fake_registry.address}/ch09/hello:latest",
                                   f"docker://{fake_registry.address}/ch09/hello-zstd:latest"]
    assert list(result.command[1:]) == called["argv"]
    # Not root: containers/image keeps its blob info cache under XDG_DATA_HOME, a fresh folder removed afterwards.
    assert called["xdg_exists"] and not Path(called["xdg"]).exists()
    assert result.image == "ch09/hello-zstd:latest"
    assert result.reference == f"{fake_registry.address}/ch09/hello-zstd:latest"
    assert result.manifest.compression == "zstd" and result.seconds >= 0


def test_a_copy_that_kept_gzip_layers_is_refused(fake_registry: Registry, fake_skopeo: Path) -> None:
    _zstd_copy_served("gzip")
    with pytest.raises(RegistryError, match=r"^skopeo copied ch09/hello:latest but its layers are gzip, not zstd\.$"):
        recompress(fake_registry, "ch09/hello:latest", "zstd")


def test_a_failed_skopeo_is_one_sentence_with_its_last_line(fake_registry: Registry, fake_skopeo: Path,
                                                            monkeypatch) -> None:
    monkeypatch.setenv("FAKE_SKOPEO_STATUS", "1")
    monkeypatch.setenv("FAKE_SKOPEO_ERR", 'time="x" level=fatal msg="writing blob: connection refused"\n')
    with pytest.raises(RegistryError, match=r'^skopeo copy of golang:1.19 to zstd failed: .*connection refused"$'):
        recompress(fake_registry, "golang:1.19", "zstd")


def test_recompress_without_skopeo_is_one_sentence(fake_registry: Registry, monkeypatch) -> None:
    monkeypatch.setattr("dockerlab.registry.shutil.which", lambda name: None)
    with pytest.raises(RegistryError, match="install Debian's skopeo package"):
        recompress(fake_registry, "busybox", "zstd")


def test_the_registry_process_gets_no_proxy_and_no_registry_settings(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("http_proxy", "http://proxy:3128")
    monkeypatch.setenv("NO_PROXY", "localhost")
    monkeypatch.setenv("REGISTRY_HTTP_ADDR", "0.0.0.0:80")  # would override the config file's address
    seen = tmp_path / "env.json"
    fake = tmp_path / "docker-registry"
    fake.write_text(f"#!{sys.executable}\nimport json, os\njson.dump(dict(os.environ), open({str(seen)!r}, 'w'))\n"
                    "raise SystemExit(3)\n")
    fake.chmod(0o755)
    with pytest.raises(RegistryUnavailable, match="exited with status 3"):
        with local_registry(binary=str(fake), timeout=5.0):
            pass
    env = json.loads(seen.read_text())
    assert "PATH" in env
    assert not {"http_proxy", "NO_PROXY", "REGISTRY_HTTP_ADDR"} & set(env)


def test_skopeo_gets_no_proxy(fake_registry: Registry, fake_skopeo: Path, monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy:3128")
    monkeypatch.setenv("all_proxy", "socks5://proxy:1080")
    _zstd_copy_served("zstd")
    recompress(fake_registry, "ch09/hello:latest", "zstd")
    assert json.loads(fake_skopeo.read_text())["proxies"] == []
