"""The TLS lab without a daemon: real certificates (openssl), a fake engine for the server's lifecycle."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import pytest

from dockerlab.ownership import container_labels
from dockerlab.tlslab import (
    LabCerts,
    TlsLabError,
    ca_bundle,
    count_certificates,
    describe_cert,
    https_server,
    make_lab_certs,
    server_files_tar,
    verify_cert,
)

from .fakes import FakeAPIClient, Program, fake_client

HOST = "secure.ch09.test"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> LabCerts:
    return make_lab_certs(tmp_path_factory.mktemp("tls"), HOST)


def _text(cert: Path) -> str:
    return subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout


def test_the_lab_writes_a_ca_and_a_server_certificate_signed_by_it(certs: LabCerts) -> None:
    assert {p.name for p in certs.folder.iterdir()} >= {"ca.crt", "ca.key", "server.crt", "server.key"}
    assert not (certs.folder / "server.csr").exists()
    assert verify_cert(certs)
    ca = _text(certs.ca_cert)
    assert "CA:TRUE" in ca and "Certificate Sign" in ca
    server = _text(certs.server_cert)
    assert "CA:FALSE" in server and "TLS Web Server Authentication" in server


def test_the_server_certificate_names_the_host_in_subject_alt_name(certs: LabCerts) -> None:
    described = describe_cert(certs.server_cert)
    assert f"DNS:{HOST}" in described
    assert "issuer=CN = CH09 lab CA" in described
    assert f"subject=CN = {HOST}" in described


def test_a_certificate_from_another_lab_does_not_verify(certs: LabCerts, tmp_path: Path) -> None:
    other = make_lab_certs(tmp_path / "other", HOST)
    mixed = LabCerts(certs.folder, HOST, other.ca_cert, certs.server_cert, certs.server_key)
    assert not verify_cert(mixed)


def test_a_valid_lab_is_reused_and_another_host_or_reuse_false_makes_a_new_one(tmp_path: Path) -> None:
    first = make_lab_certs(tmp_path, HOST)
    ca = first.ca_cert.read_bytes()
    assert make_lab_certs(tmp_path, HOST).ca_cert.read_bytes() == ca
    assert make_lab_certs(tmp_path, HOST, reuse=False).ca_cert.read_bytes() != ca
    other = make_lab_certs(tmp_path, "other.ch09.test")
    assert "DNS:other.ch09.test" in describe_cert(other.server_cert) and verify_cert(other)


def test_a_lab_with_several_names_and_ips_is_reused_too(tmp_path: Path) -> None:
    # openssl prints the names as "DNS:upstream, DNS:localhost, IP Address:127.0.0.1": the first one ends in a comma.
    first = make_lab_certs(tmp_path, HOST, extra_names=["localhost"], ips=["127.0.0.1"])
    again = make_lab_certs(tmp_path, HOST, extra_names=["localhost"], ips=["127.0.0.1"])
    assert again.ca_cert.read_bytes() == first.ca_cert.read_bytes()


def test_a_lab_that_expires_within_a_day_is_replaced(tmp_path: Path) -> None:
    short = make_lab_certs(tmp_path, HOST, days=1, reuse=False)  # valid for exactly one day: not enough
    ca = short.ca_cert.read_bytes()
    assert make_lab_certs(tmp_path, HOST).ca_cert.read_bytes() != ca


def test_a_bad_host_name_is_refused_in_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(TlsLabError, match="plain host name"):
        make_lab_certs(tmp_path, "not a host")


def test_the_bundle_is_the_system_cas_plus_the_lab_ca_last(certs: LabCerts, tmp_path: Path) -> None:
    system = tmp_path / "system.crt"
    system.write_text(certs.server_cert.read_text() + certs.server_cert.read_text().rstrip("\n"))
    bundle = ca_bundle(tmp_path / "bundle.crt", certs, system_bundle=system)
    assert count_certificates(bundle) == 3
    assert bundle.read_text().endswith(certs.ca_cert.read_text())


def test_without_a_system_bundle_only_the_lab_ca_is_trusted(certs: LabCerts, tmp_path: Path) -> None:
    bundle = ca_bundle(tmp_path / "bundle.crt", certs, system_bundle=tmp_path / "missing.crt")
    assert count_certificates(bundle) == 1
    assert bundle.read_text() == certs.ca_cert.read_text()


def test_the_server_files_tar_holds_the_key_pair_with_a_private_key_mode(certs: LabCerts) -> None:
    with tarfile.open(fileobj=io.BytesIO(server_files_tar(certs))) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert members["tls"].isdir()
        assert members["tls/server.key"].mode == 0o600
        assert tar.extractfile("tls/server.crt").read() == certs.server_cert.read_bytes()  # type: ignore[union-attr]


# --------------------------------------------------------------------------- the server's lifecycle, faked


LISTENING = b"2025/01/01 listening on :8443\n"


def _engine(image: str, program: Program) -> FakeAPIClient:
    """A fake engine holding ``image``, an HTTPS server that does what ``program`` says."""
    api = FakeAPIClient()
    api.add_image(image, program=program)
    return api


def test_the_server_runs_on_a_new_internal_labelled_network_and_both_go_away(certs: LabCerts) -> None:
    api = _engine("ch09/https-server:latest", Program(exit_code=None, output=LISTENING))
    with https_server("ch09/https-server:latest", certs, client=fake_client(api)) as server:
        (network,) = api.network_store.values()
        assert network["Internal"] is True
        assert network["Labels"] == container_labels()
        created = api.created()[0]
        assert created["HostConfig"]["NetworkMode"] == network["Name"] == server.network
        assert created["NetworkingConfig"]["EndpointsConfig"][network["Name"]]["Aliases"] == [HOST]
        assert created["Labels"] == container_labels()
        assert created["HostConfig"]["CapDrop"] == ["ALL"]
        (container,) = api.container_store.values()
        assert container.archives[0][0] == "/" and container.status == "running"
        assert container.name == server.container
        assert server.url == f"https://{HOST}:8443/"
    assert not api.container_store and not api.network_store


def test_an_error_inside_the_block_still_removes_the_server_and_network(certs: LabCerts) -> None:
    api = _engine("img", Program(exit_code=None, output=LISTENING))
    with pytest.raises(RuntimeError):
        with https_server("img", certs, client=fake_client(api)):
            raise RuntimeError("the lesson failed")
    assert not api.container_store and not api.network_store


def test_a_server_that_dies_before_listening_fails_in_one_sentence_and_is_cleaned_up(certs: LabCerts) -> None:
    api = _engine("img", Program(1, b"open /tls/server.crt: no such file or directory\n"))
    with pytest.raises(TlsLabError, match="exited before it listened: open /tls/server.crt"):
        with https_server("img", certs, client=fake_client(api)):
            pytest.fail("the block must not run")
    assert api.created() and not api.container_store and not api.network_store


def test_each_lab_gets_its_own_network_name(certs: LabCerts) -> None:
    api = _engine("img", Program(exit_code=None, output=LISTENING))
    for _ in range(2):
        with https_server("img", certs, client=fake_client(api)):
            pass
    first, second = [args["name"] for method, args in api.calls if method == "create_network"]
    assert first != second and first.startswith("ch09-tls-")
