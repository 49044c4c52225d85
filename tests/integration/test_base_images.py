"""Section 2 on the real engine: HTTPS in scratch fails without a CA bundle and works with one,
scratch's other gaps and their fixes, and reading base images' files. Nothing may be left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockerlab import build_example
from dockerlab.examples import PROJECT, PROJECT_LABEL
from dockerlab.gobuild import go_build
from dockerlab.hello import build_hello
from dockerlab.imagefs import base_features
from dockerlab.tlslab import LabCerts, TlsLabError, ca_bundle, https_server, make_lab_certs
from dockerlab.tryrun import try_run
from tests.conftest import ROOT

STATIC = {"CGO_ENABLED": "0"}


def _go_static(context: Path, output: str, *flags: str) -> None:
    go_build(context, ["-trimpath", *flags, "-o", output, "main.go"], output, env=STATIC)
SELECTOR = {"label": f"{PROJECT_LABEL}={PROJECT}"}


def _lab_objects(engine) -> tuple[list[str], list[str]]:
    """Names of the lab's containers and networks that exist now."""
    containers = [c.name for c in engine.containers.list(all=True, filters=SELECTOR) if c.name.startswith("ch09-tls-")]
    networks = [n.name for n in engine.networks.list(filters=SELECTOR) if n.name.startswith("ch09-tls-")]
    return containers, networks


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> LabCerts:
    return make_lab_certs(tmp_path_factory.mktemp("tls"), "secure.ch09.test")


@pytest.fixture
def tls_images(tracked, certs: LabCerts) -> dict[str, str]:
    """The lab server and the two clients, built under test tags that are removed afterwards."""
    def client_context(context: Path) -> None:
        _go_static(context, "https-get")
        ca_bundle(context / "ca-certificates.crt", certs)

    tags = {name: tracked.image(f"ch09/test-https-{name}:latest") for name in ("server", "no-ca", "with-ca")}
    build_example("https-server", tags["server"], root=ROOT,
                  prepare=lambda c: _go_static(c, "https-server"))
    build_example("https-get", tags["no-ca"], prepare=client_context, root=ROOT)
    build_example("https-get", tags["with-ca"], dockerfile="Dockerfile.with-ca", prepare=client_context, root=ROOT)
    return tags


def test_https_in_scratch_fails_without_a_ca_bundle_and_works_with_one(engine, tls_images, certs) -> None:
    before = _lab_objects(engine)
    with https_server(tls_images["server"], certs, client=engine) as server:
        assert engine.networks.get(server.network).attrs["Internal"] is True
        failed = try_run(tls_images["no-ca"], [server.url], network=server.network)
        worked = try_run(tls_images["with-ca"], [server.url], network=server.network)
    assert failed.status == 1
    assert failed.output.strip() == f'Get "{server.url}": x509: certificate signed by unknown authority'
    assert worked.ok and "200 OK" in worked.output and "hello over TLS (secure.ch09.test)" in worked.output
    assert _lab_objects(engine) == before  # no server container, no network left


def test_a_client_off_the_lab_network_cannot_reach_the_server(engine, tls_images, certs) -> None:
    with https_server(tls_images["server"], certs, client=engine) as server:
        outside = try_run(tls_images["with-ca"], [server.url], network_mode="none")
    assert not outside.ok and "secure.ch09.test" in outside.output


def test_the_lab_is_removed_after_an_error_in_the_block(engine, tls_images, certs) -> None:
    before = _lab_objects(engine)
    with pytest.raises(ZeroDivisionError):
        with https_server(tls_images["server"], certs, client=engine):
            1 / 0  # noqa: B018 - the error is the point
    assert _lab_objects(engine) == before


def test_a_server_that_exits_before_listening_fails_in_one_sentence_and_leaves_nothing(engine, certs) -> None:
    before = _lab_objects(engine)
    hello = build_hello()  # exits at once: never says "listening"
    with pytest.raises(TlsLabError, match="exited before it listened"):
        with https_server(hello.image.tag, certs, client=engine, timeout=10):
            pass
    assert _lab_objects(engine) == before


def test_scratch_gaps_fail_bare_and_pass_fixed(tracked) -> None:
    def both_binaries(context: Path) -> None:
        _go_static(context, "scratch-gaps")
        _go_static(context, "scratch-gaps-tzdata", "-tags", "timetzdata")

    bare = tracked.image("ch09/test-scratch-gaps:bare")
    fixed = tracked.image("ch09/test-scratch-gaps:fixed")
    build_example("scratch-gaps", bare, prepare=both_binaries, root=ROOT)
    build_example("scratch-gaps", fixed, dockerfile="Dockerfile.fixed", prepare=both_binaries, root=ROOT)

    bare_run = try_run(bare)
    assert bare_run.status == 1
    assert "tmp     FAIL  open /tmp/" in bare_run.output
    assert "user    FAIL  open /etc/passwd: no such file or directory" in bare_run.output
    assert "tzdata  FAIL  unknown time zone Asia/Seoul" in bare_run.output

    refused = try_run(bare, user="app")
    assert not refused.started and "unable to find user app" in refused.output

    fixed_run = try_run(fixed)
    assert fixed_run.ok, fixed_run.output
    assert 'user    ok    uid 10001 is "app"' in fixed_run.output
    assert "03:00 UTC = 12:00 KST" in fixed_run.output


def test_a_scratch_image_cannot_start_a_shell(engine) -> None:
    hello = build_hello()
    outcome = try_run(hello.image.tag, ["sh"])
    assert not outcome.started
    assert 'exec: "sh": executable file not found in $PATH' in outcome.output


def test_base_features_read_from_the_real_images(engine) -> None:
    hello = build_hello()
    assert base_features(hello.image.tag).linkage == "none"
    busybox = base_features("busybox:latest")
    assert busybox.shell == "/bin/sh" and busybox.package_manager is None and busybox.libc is not None
    slim = base_features("debian:bookworm-slim")
    assert (slim.shell, slim.package_manager, slim.libc, slim.linkage) == ("/bin/sh", "apt", "glibc", "shared")
