"""The multi-stage webapi images answer HTTP on the real engine, and nothing is left behind."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from dockerlab import build_example, ensure_base
from dockerlab.build import logged_steps, step_output
from dockerlab.examples import PROJECT, PROJECT_LABEL, work_dir
from dockerlab.service import ServiceNotReady, https_upstream, internal_tls, labelled_network, probe, serving
from tests.conftest import ROOT

RUNTIMES = ("runtime-scratch", "runtime-busybox", "runtime-distroless")


@pytest.fixture(scope="module")
def tls():
    return internal_tls(work_dir("test-webapi-tls", ROOT))


def _build(tracked, tls, target: str, dockerfile: str = "Dockerfile", buildargs: dict[str, str] | None = None):
    for base in ("golang:1.19", "busybox:latest", "ch09/distroless-static:debian12"):
        ensure_base(base)
    tag = tracked.image(f"ch09/test-webapi:{target}")

    def add_ca(context: Path) -> None:
        shutil.copy(tls.ca_cert, context / "internal-ca.crt")

    return build_example("webapi", tag, dockerfile=dockerfile, target=target if dockerfile == "Dockerfile" else None,
                         prepare=add_ca, buildargs=buildargs, root=ROOT)


def _left_behind(engine, tags) -> list[str]:
    """Containers of the test's images and networks of the test, whatever their state (other helpers may run too)."""
    left = [c.name for tag in tags for c in engine.containers.list(all=True, filters={"ancestor": tag})]
    return left + [n.name for n in engine.networks.list(filters={"label": f"{PROJECT_LABEL}={PROJECT}"})
                   if n.name.startswith("ch09-test-webapi-")]


def test_every_runtime_answers_and_reaches_the_internal_https_api(engine, tracked, tls) -> None:
    built = {target: _build(tracked, tls, target) for target in (*RUNTIMES, "runtime-scratch-no-ca")}
    answers = {}
    with labelled_network("test-webapi", client=engine) as net:
        with https_upstream(built["runtime-scratch"].tag, tls, net) as api:
            assert api == "https://upstream:8443"
            for target, image in built.items():
                with serving(image.tag, network=net, environment={"UPSTREAM_URL": api + "/healthz"}) as url:
                    assert url.startswith("http://127.0.0.1:")
                    answers[target] = {p: probe(url, p) for p in ("/healthz", "/api/fetch", "/api/time", "/api/info")}
    for target in RUNTIMES:
        assert answers[target]["/healthz"].status == 200 and answers[target]["/healthz"].body == {"status": "ok"}
        fetched = answers[target]["/api/fetch"]
        assert fetched.status == 200 and fetched.body["body"] == {"status": "ok"}, fetched
        assert answers[target]["/api/info"].body["uid"] == 65532
    # Without a CA bundle the same binary answers, but cannot verify the upstream's certificate.
    bare = answers["runtime-scratch-no-ca"]["/api/fetch"]
    assert bare.status == 502 and "x509: certificate signed by unknown authority" in bare.body["error"]
    # tzdata and a passwd entry come only with the distroless-style base.
    assert answers["runtime-distroless"]["/api/time"].body == {"timezone": "Asia/Seoul", "utc_offset": 32400}
    assert answers["runtime-scratch"]["/api/time"].status == 500
    assert answers["runtime-distroless"]["/api/info"].body["user"] == "nonroot"
    # Nothing the test started is left: no container, no network.
    assert _left_behind(engine, [b.tag for b in built.values()]) == []


def test_final_images_are_at_most_one_percent_of_the_single_stage_image(tracked, tls) -> None:
    single = _build(tracked, tls, "single", dockerfile="Dockerfile.single")
    scratch = _build(tracked, tls, "runtime-scratch")
    assert scratch.stats.size <= 0.01 * single.stats.size, (scratch.stats.human, single.stats.human)


def test_the_test_stage_runs_go_test_and_a_runtime_build_skips_it(tracked, tls) -> None:
    tested = _build(tracked, tls, "test", buildargs={"TEST_RUN": uuid.uuid4().hex})
    assert any(line.startswith("--- PASS: TestFetchUntrustedUpstream") for line in step_output(tested.log))
    # BuildKit builds only the stages the target needs: no test runs for a runtime image.
    runtime = _build(tracked, tls, "runtime-scratch", buildargs={"TEST_RUN": uuid.uuid4().hex})
    assert not any("TestFetchUntrustedUpstream" in line for line in runtime.log)
    assert not any(step.stage == "test" for step in logged_steps(runtime.log))


def test_a_service_that_never_answers_is_removed_with_one_sentence(engine, tracked, tls) -> None:
    image = _build(tracked, tls, "runtime-scratch")
    with pytest.raises(ServiceNotReady, match=r"did not answer GET /nothing-here .* within 2 s \(last: HTTP 404\)\.$"):
        with serving(image.tag, health_path="/nothing-here", timeout=2):
            pytest.fail("the body must not run")
    assert _left_behind(engine, [image.tag]) == []


def test_distroless_style_base_has_certs_tzdata_nonroot_and_no_shell(engine) -> None:
    import io
    import tarfile

    from docker.errors import NotFound

    from dockerlab.bases import SOURCE_LABEL, base_provenance

    name = "ch09/distroless-static:debian12"
    ensure_base(name)
    assert base_provenance(name).origin == "bootstrapped"
    assert engine.images.get(name).labels[SOURCE_LABEL] == "bootstrapped"
    container = engine.containers.create(name, "none", labels={PROJECT_LABEL: PROJECT})
    try:
        def read(path: str) -> bytes:
            stream, _ = container.get_archive(path)
            with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
                member = tar.extractfile(tar.getmembers()[0])
                return member.read() if member else b""

        assert b"nonroot:x:65532:65532:" in read("/etc/passwd")
        assert b"-----BEGIN CERTIFICATE-----" in read("/etc/ssl/certs/ca-certificates.crt")
        assert read("/usr/share/zoneinfo/Asia/Seoul").startswith(b"TZif")
        for shell in ("/bin/sh", "/bin/bash", "/usr/bin/apt-get"):
            with pytest.raises(NotFound):
                container.get_archive(shell)
    finally:
        container.remove(force=True)
