"""dockerlab.service without a daemon: URLs, probes, the health wait and the container's lifecycle."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from dockerlab.errors import DockerLabError
from dockerlab.ownership import container_labels
from dockerlab.service import (
    Probe,
    ServiceNotReady,
    internal_tls,
    join_url,
    probe,
    published_url,
    serving,
    wait_until_healthy,
)

from .fakes import FakeAPIClient, Program, fake_client

# --------------------------------------------------------------------------- URLs


def test_join_url_never_doubles_or_drops_the_slash() -> None:
    assert join_url("http://127.0.0.1:5000", "/healthz") == "http://127.0.0.1:5000/healthz"
    assert join_url("http://127.0.0.1:5000/", "healthz") == "http://127.0.0.1:5000/healthz"
    assert join_url("http://127.0.0.1:5000/", "/api/info") == "http://127.0.0.1:5000/api/info"


def test_published_url_uses_the_loopback_binding_only() -> None:
    ports = {"8080/tcp": [{"HostIp": "0.0.0.0", "HostPort": "1111"}, {"HostIp": "127.0.0.1", "HostPort": "49153"}]}
    assert published_url(ports, 8080) == "http://127.0.0.1:49153"
    assert published_url(ports, 8080, scheme="https") == "https://127.0.0.1:49153"


@pytest.mark.parametrize("ports", [{}, {"8080/tcp": None}, {"8080/tcp": [{"HostIp": "0.0.0.0", "HostPort": "1"}]},
                                   {"9090/tcp": [{"HostIp": "127.0.0.1", "HostPort": "2"}]}])
def test_published_url_refuses_a_port_not_on_loopback(ports: dict[str, Any]) -> None:
    with pytest.raises(DockerLabError, match=r"^port 8080/tcp of the service is not published on 127\.0\.0\.1\.$"):
        published_url(ports, 8080)


def test_probe_body_text_is_compact_sorted_json() -> None:
    assert Probe("/x", 200, {"b": 1, "a": "가"}).body_text == '{"a": "가", "b": 1}'
    assert Probe("/x", 404, "not found\n").body_text == "not found"


# --------------------------------------------------------------------------- the health wait


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_wait_returns_the_first_healthy_answer() -> None:
    answers = iter([ConnectionRefusedError("refused"), Probe("/healthz", 503, {}),
                    Probe("/healthz", 200, {"status": "ok"})])
    calls: list[tuple[str, str]] = []

    def fetch(url: str, path: str) -> Probe:
        calls.append((url, path))
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    clock = FakeClock()
    result = wait_until_healthy("http://127.0.0.1:1", fetch=fetch, clock=clock, sleep=clock.sleep)
    assert result.body == {"status": "ok"}
    assert calls == [("http://127.0.0.1:1", "/healthz")] * 3


def test_wait_gives_up_after_the_timeout_with_one_sentence() -> None:
    clock = FakeClock()

    def fetch(url: str, path: str) -> Probe:
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    with pytest.raises(ServiceNotReady) as err:
        wait_until_healthy("http://127.0.0.1:49153", timeout=5, interval=0.5, fetch=fetch, clock=clock,
                           sleep=clock.sleep, what="a container of ch09/webapi:scratch")
    message = str(err.value)
    assert message == ("a container of ch09/webapi:scratch did not answer GET /healthz on http://127.0.0.1:49153 "
                       "with 200 within 5 s (last: [Errno 111] Connection refused).")
    assert message.count(". ") == 0 and "\n" not in message
    assert 5 <= clock.now <= 5.5  # bounded: it stopped right after the deadline


def test_wait_names_the_last_status_when_the_service_answers_badly() -> None:
    clock = FakeClock()
    with pytest.raises(ServiceNotReady, match=r"within 1 s \(last: HTTP 503\)\.$"):
        wait_until_healthy("http://h", timeout=1, fetch=lambda u, p: Probe(p, 503, {}), clock=clock, sleep=clock.sleep)


def test_wait_fails_at_once_when_the_container_exited() -> None:
    clock = FakeClock()

    def fetch(url: str, path: str) -> Probe:
        raise ConnectionResetError("reset")

    with pytest.raises(ServiceNotReady, match=r"^x exited before answering GET /healthz: exec /webapi: no such file"):
        wait_until_healthy("http://h", fetch=fetch, exited=lambda: "exec /webapi: no such file or directory",
                           clock=clock, sleep=clock.sleep, what="x")
    assert clock.now == 0.0


# --------------------------------------------------------------------------- probe() against a real local server


@pytest.fixture
def local_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if self.path == "/healthz":
                body, status, kind = json.dumps({"status": "ok"}).encode(), 200, "application/json"
            elif self.path == "/text":
                body, status, kind = b"plain", 200, "text/plain"
            else:
                body, status, kind = json.dumps({"error": "no"}).encode(), 502, "application/json"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_probe_reads_json_text_and_error_statuses(local_server: str) -> None:
    assert probe(local_server, "/healthz") == Probe("/healthz", 200, {"status": "ok"})
    assert probe(local_server, "/text") == Probe("/text", 200, "plain")
    assert probe(local_server, "/api/fetch") == Probe("/api/fetch", 502, {"error": "no"})


def test_probe_raises_oserror_when_nothing_listens() -> None:
    with pytest.raises(OSError):
        probe("http://127.0.0.1:9", "/healthz", timeout=1)


# --------------------------------------------------------------------------- serving() with a fake client


def _engine_of_crashing_service() -> FakeAPIClient:
    """A fake engine whose ch09/x exits at once, saying why."""
    api = FakeAPIClient()
    api.add_image("ch09/x", program=Program(1, b"exec /webapi: no such file or directory\n"))
    return api


def test_serving_removes_a_container_that_exited_and_says_why() -> None:
    api = _engine_of_crashing_service()
    with pytest.raises(ServiceNotReady,
                       match=r"^a container of ch09/x exited before answering GET /healthz: exec /webapi"):
        with serving("ch09/x", client=fake_client(api), timeout=5):
            pytest.fail("the body must not run")
    assert api.created() and not api.container_store


def test_serving_publishes_on_loopback_hardened_and_labelled() -> None:
    api = _engine_of_crashing_service()
    client = fake_client(api)
    client.networks.create("ch09-net")
    with pytest.raises(ServiceNotReady):
        with serving("ch09/x", client=client, network="ch09-net", aliases=["upstream"], environment={"A": "1"}):
            pass
    created = api.created()[0]
    host = created["HostConfig"]
    assert created["ExposedPorts"] == {"8080/tcp": {}}
    assert host["PortBindings"] == {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert created["Labels"] == container_labels()
    assert created["Env"] == ["A=1"]
    assert host["NetworkMode"] == "ch09-net"
    assert created["NetworkingConfig"]["EndpointsConfig"]["ch09-net"]["Aliases"] == ["upstream"]


# --------------------------------------------------------------------------- TLS material


def test_internal_tls_signs_a_server_certificate_for_the_names_and_loopback(tmp_path: Path) -> None:
    files = internal_tls(tmp_path / "tls", ("upstream",))
    verify = subprocess.run(["openssl", "verify", "-CAfile", str(files.ca_cert), str(files.server_cert)],
                            capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr
    text = subprocess.run(["openssl", "x509", "-noout", "-text", "-in", str(files.server_cert)],
                          capture_output=True, text=True, check=True).stdout
    assert "DNS:upstream" in text and "IP Address:127.0.0.1" in text
    assert files.server_key.stat().st_mode & 0o004  # readable by the unprivileged server
    again = internal_tls(tmp_path / "tls", ("upstream",))
    assert again.server_cert.read_bytes() == files.server_cert.read_bytes()  # reused while valid
    other = internal_tls(tmp_path / "other", ("upstream",))
    assert other.ca_cert.read_bytes() != files.ca_cert.read_bytes()  # a new key ...
    assert other.ca_cert.stat().st_size == files.ca_cert.stat().st_size  # ... of the same length
