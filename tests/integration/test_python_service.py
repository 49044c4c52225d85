"""The Python service (examples/pyservice) on the real engine: every variant answers HTTP, the sizes fall in the
order the page reads them, the runtime images carry no compiler, and the distroless-style Python base is whole."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator

import pytest
from docker.errors import NotFound

from dockerlab import BuiltImage, build_example, ensure_base, image_stats
from dockerlab.bases import SOURCE_LABEL, base_provenance
from dockerlab.examples import run_image, stage_context, try_run
from dockerlab.ownership import container_labels
from dockerlab.service import probe, serving
from dockerlab.wheelhouse import add_wheelhouse
from tests.conftest import ROOT, Tracker

PY_BASE = "ch09/distroless-python3:debian12"
#: variant -> (Dockerfile, build args, target), as chapters/04-4-python builds them.
VARIANTS: dict[str, tuple[str, dict[str, str] | None, str | None]] = {
    "single-bookworm": ("Dockerfile.single", {"BASE": "debian:bookworm"}, None),
    "single-slim": ("Dockerfile.single", {"BASE": "debian:bookworm-slim"}, None),
    "multistage-slim": ("Dockerfile", None, "runtime-slim"),
    "multistage-distroless": ("Dockerfile", None, "runtime-distroless"),
    "multistage-distroless-nopip": ("Dockerfile", None, "runtime-distroless-nopip"),
}
SINGLE = ("single-bookworm", "single-slim")
RUNTIMES = ("multistage-slim", "multistage-distroless", "multistage-distroless-nopip")
VENV_PYTHON = ["/opt/venv/bin/python"]


@pytest.fixture(scope="module")
def built(engine) -> Iterator[dict[str, BuiltImage]]:
    """The five variants, built once for this module under test tags and removed at its end."""
    for base in ("debian:bookworm", "debian:bookworm-slim", PY_BASE):
        ensure_base(base)
    tracker = Tracker(engine)
    try:
        images = {}
        for variant, (dockerfile, buildargs, target) in VARIANTS.items():
            tag = tracker.image(f"ch09/test-pyservice:{variant}")
            images[variant] = build_example("pyservice", tag, dockerfile=dockerfile, buildargs=buildargs,
                                            target=target, prepare=add_wheelhouse, root=ROOT)
        yield images
    finally:
        tracker.cleanup()


def test_every_variant_answers_over_http_with_the_same_python_and_extension(built) -> None:
    answers = {}
    for variant, image in built.items():
        with serving(image.tag) as url:
            answers[variant] = {p: probe(url, p) for p in ("/healthz", "/api/process", "/api/info", "/nothing")}
    for variant, got in answers.items():
        assert got["/healthz"].status == 200 and got["/healthz"].body == {"status": "ok"}, variant
        assert got["/api/process"].status == 200 and got["/api/process"].body["rss_bytes"] > 0, variant
        info = got["/api/info"].body
        assert info["python"].startswith("3.11.") and info["prefix"] == "/opt/venv", (variant, info)
        assert info["psutil"] == "7.2.2" and info["psutil_extension"].endswith("/psutil/_psutil_linux.abi3.so")
        assert got["/nothing"].status == 404
    users = {variant: (got["/api/process"].body["uid"], got["/api/process"].body["user"])
             for variant, got in answers.items()}
    assert users == {"single-bookworm": (0, "root"), "single-slim": (0, "root"),
                     "multistage-slim": (65534, "nobody"), "multistage-distroless": (65532, "nonroot"),
                     "multistage-distroless-nopip": (65532, "nonroot")}


def test_sizes_fall_in_the_order_a_reader_checks(built) -> None:
    size = {variant: image.stats.size for variant, image in built.items()}
    ordered = ["multistage-distroless-nopip", "multistage-distroless", "multistage-slim", "single-slim",
               "single-bookworm"]
    assert [size[v] for v in ordered] == sorted(size.values()), {v: built[v].stats.human for v in ordered}
    # The distroless-style runtime is the smallest image with the whole venv; dropping pip saves more.
    assert size["multistage-distroless"] < 0.5 * size["multistage-slim"]
    assert size["multistage-slim"] < 0.5 * size["single-slim"]


LOOK = ("import json, os, shutil, sysconfig; print(json.dumps({'gcc': shutil.which('gcc'), "
        "'cc': shutil.which('cc'), 'sh': shutil.which('sh'), "
        "'Python.h': os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h')), "
        "'pip': os.path.exists('/opt/venv/bin/pip')}))")


def test_runtime_images_have_no_compiler_and_the_single_stage_images_do(built) -> None:
    inside = {v: json.loads(run_image(image.tag, ["-c", LOOK], entrypoint=VENV_PYTHON, network_mode="none"))
              for v, image in built.items()}
    for variant in SINGLE:
        assert inside[variant]["gcc"] and inside[variant]["Python.h"], (variant, inside[variant])
    for variant in RUNTIMES:
        assert not inside[variant]["gcc"] and not inside[variant]["cc"], (variant, inside[variant])
        assert not inside[variant]["Python.h"], (variant, inside[variant])
    assert not inside["multistage-distroless"]["sh"] and inside["multistage-slim"]["sh"]
    assert inside["multistage-distroless"]["pip"] and not inside["multistage-distroless-nopip"]["pip"]


def test_the_sdist_compiles_in_the_single_stage_image_and_not_in_the_runtime(built) -> None:
    context = stage_context("pyservice", ROOT, folder="test-pyservice-wheel")
    files = [p.name for p in add_wheelhouse(context)]
    assert "psutil-7.2.2.tar.gz" in files and any(f.startswith("setuptools-") for f in files)
    command = ["-m", "pip", "wheel", "--no-cache-dir", "--disable-pip-version-check", "--no-index",
               "--find-links=/src/wheelhouse", "--require-hashes", "-r", "/src/requirements.txt", "-w", "/tmp/w"]
    mounts = {str(context): {"bind": "/src", "mode": "ro"}}
    ok = try_run(built["single-slim"].tag, command, entrypoint=VENV_PYTHON, network_mode="none", volumes=mounts)
    assert ok.ok, ok.output[-2000:]
    assert "filename=psutil-7.2.2-cp36-abi3-linux_x86_64.whl" in ok.output
    refused = try_run(built["multistage-slim"].tag, command, entrypoint=VENV_PYTHON, network_mode="none",
                      volumes=mounts)
    assert refused.started and not refused.ok
    assert "psutil could not be compiled from sources. gcc is not installed." in refused.output
    assert "error: command 'x86_64-linux-gnu-gcc' failed" in refused.output


def _read(container, path: str) -> bytes:
    stream, _ = container.get_archive(path)
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.extractfile(tar.getmembers()[0])
        return member.read() if member else b""


def test_distroless_python_base_is_bootstrapped_on_the_static_one_with_no_shell(engine) -> None:
    ensure_base(PY_BASE)
    assert base_provenance(PY_BASE).origin == "bootstrapped"
    assert engine.images.get(PY_BASE).labels[SOURCE_LABEL] == "bootstrapped"
    # FROM ch09/distroless-static:debian12: its layer first, then one layer of Python's files.
    static_layers = engine.images.get("ch09/distroless-static:debian12").attrs["RootFS"]["Layers"]
    layers = engine.images.get(PY_BASE).attrs["RootFS"]["Layers"]
    assert layers[: len(static_layers)] == static_layers and len(layers) == len(static_layers) + 1
    container = engine.containers.create(PY_BASE, ["-c", "pass"], labels=container_labels())
    try:
        assert b"nonroot:x:65532:65532:" in _read(container, "/etc/passwd")
        assert _read(container, "/usr/bin/python3.11").startswith(b"\x7fELF")
        assert b"Package: python3.11-minimal" in _read(container, "/var/lib/dpkg/status.d/python3.11-minimal")
        for absent in ("/bin/sh", "/bin/bash", "/usr/bin/apt-get", "/usr/bin/dpkg", "/usr/bin/gcc",
                       "/usr/include/python3.11/Python.h", "/usr/bin/pip3"):
            with pytest.raises(NotFound):
                container.get_archive(absent)
    finally:
        container.remove(force=True)


CLOSURE = """
import importlib, json, os, pathlib, pwd, ssl, sys
failed = {}
for f in sorted(pathlib.Path("/usr/lib/python3.11/lib-dynload").glob("*.so")):
    name = f.name.split(".")[0]
    try:
        importlib.import_module(name)
    except Exception as err:
        failed[name] = repr(err)
print(json.dumps({"failed": failed, "user": pwd.getpwuid(os.getuid()).pw_name, "executable": sys.executable,
                  "cas": ssl.create_default_context().cert_store_stats()["x509_ca"]}))
"""


def test_every_extension_module_of_the_stdlib_loads_in_the_distroless_python_base(engine) -> None:
    """The ldd closure is complete: each lib-dynload module imports, as nonroot, on a read-only root."""
    ensure_base(PY_BASE)
    report = json.loads(run_image(PY_BASE, ["-c", CLOSURE], user="65532:65532", read_only=True,
                                  network_mode="none"))
    assert report["failed"] == {}
    assert report["user"] == "nonroot" and report["executable"] == "/usr/bin/python3.11"
    assert report["cas"] > 100  # ssl's default paths reach the static runtime's CA bundle
    assert image_stats(PY_BASE).size < image_stats("debian:bookworm-slim").size
