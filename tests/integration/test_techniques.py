"""Section 3 on the real engine: each technique's before/after images differ in the expected
direction, and the efficiency analysis reads real layer tarballs (whiteouts, opaque
directories) the way it reads the handcrafted ones. Every image built here is removed."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest
from docker.utils import tar as context_tar

from dockerlab import build_example, ensure_base, image_stats, run_image
from dockerlab.efficiency import analyze_image, image_layers
from dockerlab.errors import DockerLabError
from dockerlab.examples import PROJECT, PROJECT_LABEL
from dockerlab.gobuild import go_build, is_static_elf
from tests.conftest import ROOT

STATIC = {"CGO_ENABLED": "0", "GOFLAGS": ""}  # only the flags each test writes


def _debian_package(package: str) -> dict[str, str]:
    uri = subprocess.run(["apt-get", "download", "--print-uris", package],
                         capture_output=True, text=True, check=True).stdout.split()
    return {"TOOL_URL": uri[0].strip("'"), "TOOL_SHA256": uri[3].removeprefix("SHA256:")}


def _build_dockerfile(engine, tracked, tag: str, dockerfile: str) -> str:
    """Build a one-file context (no network needed) as ``tag``; it is removed after the test."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile.encode())
        tar.addfile(info, io.BytesIO(dockerfile.encode()))
    raw.seek(0)
    tracked.image(tag)
    for chunk in engine.api.build(fileobj=raw, custom_context=True, tag=tag, rm=True, forcerm=True, decode=True,
                                  network_mode="none", labels={PROJECT_LABEL: PROJECT}):
        assert "error" not in chunk, chunk["error"]
    return tag


# --------------------------------------------------------------------------- the techniques


def test_dockerignore_keeps_the_junk_out_of_the_context_and_the_image(engine, tracked) -> None:
    ensure_base("busybox:latest", client=engine)
    junk = 2_000_000

    def add_junk(context: Path) -> None:
        (context / "data").mkdir()
        (context / "data" / "dump.bin").write_bytes(os.urandom(junk))
        subprocess.run(["git", "init", "-q"], cwd=context, check=True)

    def drop_ignore(context: Path) -> None:
        (context / ".dockerignore").unlink()
        add_junk(context)

    sent = {}

    def measured(prepare):
        def run(context: Path) -> None:
            prepare(context)
            ignore = context / ".dockerignore"
            exclude = [line.strip() for line in ignore.read_text().splitlines()
                       if line.strip() and not line.startswith("#")] if ignore.exists() else []
            with context_tar(str(context), exclude=exclude, dockerfile=("Dockerfile", None)) as tar:
                sent[prepare] = tar.seek(0, os.SEEK_END)
        return run

    before = build_example("tech-dockerignore", tracked.image("ch09/test-tech-dockerignore:before"),
                           prepare=measured(drop_ignore), root=ROOT)
    after = build_example("tech-dockerignore", tracked.image("ch09/test-tech-dockerignore:after"),
                          prepare=measured(add_junk), root=ROOT)
    assert sent[drop_ignore] > junk > sent[add_junk]
    assert before.stats.size - after.stats.size >= junk
    assert run_image(after.tag, ["ls", "-A", "/srv"], network_mode="none").split() == ["site"]


def test_one_chained_run_stores_the_binary_once(engine, tracked) -> None:
    tool = _debian_package("direnv")
    split = build_example("tech-run-layers", tracked.image("ch09/test-tech-run-layers:split"),
                          dockerfile="Dockerfile.split", buildargs=tool, root=ROOT)
    chained = build_example("tech-run-layers", tracked.image("ch09/test-tech-run-layers:chained"),
                            dockerfile="Dockerfile.chained", buildargs=tool, root=ROOT)
    slim = image_stats("debian:bookworm-slim", engine).size
    binary = int(run_image(chained.tag, ["stat", "-c", "%s", "/usr/local/bin/direnv"], network_mode="none"))
    assert chained.stats.size - slim == binary  # the one RUN layer holds the binary and nothing else
    assert split.stats.size - slim >= 3 * binary  # extract, mv and chmod each store it
    assert not analyze_image(split.tag, engine).efficiency.passes_ci()
    assert analyze_image(chained.tag, engine).efficiency.passes_ci()


def test_cleaning_up_in_a_later_run_saves_nothing(engine, tracked) -> None:
    built = {v: build_example("tech-apt-cleanup", tracked.image(f"ch09/test-tech-apt-cleanup:{v}"),
                              dockerfile=f"Dockerfile.{v}", root=ROOT)
             for v in ("naive", "later", "same", "norecs")}
    size = {v: b.stats.size for v, b in built.items()}
    assert size["later"] == size["naive"]
    assert size["later"] > size["same"] > size["norecs"]
    later = analyze_image(built["later"].tag, engine)
    lists = [w for w in later.efficiency.inefficiencies if w.path.startswith("/var/lib/apt/lists/")]
    assert sum(w.cumulative_size for w in lists) >= size["later"] - size["same"] - 1_000_000
    assert not later.efficiency.passes_efficiency()


def test_the_slim_base_makes_the_same_app_smaller(engine, tracked) -> None:
    images = {base: build_example("tech-slim-base", tracked.image(f"ch09/test-tech-slim-base:{base.split(':')[1]}"),
                                  buildargs={"BASE": base}, root=ROOT)
              for base in ("debian:bookworm", "debian:bookworm-slim")}
    full, slim = images["debian:bookworm"], images["debian:bookworm-slim"]
    assert slim.stats.size < full.stats.size
    assert '"files in /usr/share/man": 0' in run_image(slim.tag, network_mode="none")
    assert '"files in /usr/share/man": 0' not in run_image(full.tag, network_mode="none")


def test_cgo_net_binary_is_dynamic_and_fails_in_scratch(engine, tracked) -> None:
    compiled = {}

    def variant(name: str, flags: list[str], env: dict[str, str]):
        def prepare(context: Path) -> None:
            compiled[name] = go_build(context, [*flags, "-o", "app", "main.go"], "app", env=env)
        return build_example("tech-go-flags", tracked.image(f"ch09/test-tech-go-net:{name}"), prepare=prepare,
                             root=ROOT)

    default = variant("default", [], {"CGO_ENABLED": "1", "GOFLAGS": ""})
    static = variant("static", [], STATIC)
    stripped = variant("stripped", ["-ldflags", "-s -w"], STATIC)
    assert not compiled["default"].static and compiled["static"].static and is_static_elf(compiled["stripped"].binary)
    with pytest.raises(DockerLabError, match="no such file or directory"):
        run_image(default.tag, ["-probe"], network_mode="none")
    assert '"message":"hello, net/http!"' in run_image(static.tag, ["-probe"], network_mode="none")
    assert stripped.stats.size < static.stats.size


# --------------------------------------------------------------------------- the analysis on real layers


def test_a_file_deleted_in_a_later_layer_is_wasted_with_its_size(engine, tracked) -> None:
    ensure_base("busybox:latest", client=engine)
    tag = _build_dockerfile(engine, tracked, "ch09/test-tech-waste:latest", (
        "FROM busybox:latest\n"
        "RUN mkdir /data && head -c 1000000 /dev/zero > /data/blob\n"
        "RUN rm /data/blob\n"
    ))
    layers = image_layers(tag, engine)
    assert "data/.wh.blob" in [e.path for e in layers[-1].entries]
    result = analyze_image(tag, engine).efficiency
    base = layers[0].size
    # by hand: /data/blob seen with 1,000,000 then 0 bytes; every base path once
    assert result.wasted_bytes == 1_000_000
    assert result.user_size_bytes == 1_000_000
    assert result.user_wasted_percent == 1.0
    assert result.score == pytest.approx(base / (base + 1_000_000))


def test_an_opaque_directory_is_counted_here_and_ignored_by_dive(engine, tracked) -> None:
    ensure_base("busybox:latest", client=engine)
    tag = _build_dockerfile(engine, tracked, "ch09/test-tech-opaque:latest", (
        "FROM busybox:latest\n"
        "RUN mkdir /d && head -c 1000 /dev/zero > /d/a\n"
        "RUN rm -rf /d && mkdir /d && echo hi > /d/b\n"
    ))
    assert "d/.wh..wh..opq" in [e.path for e in image_layers(tag, engine)[-1].entries]
    result = analyze_image(tag, engine)
    assert result.efficiency.opaque_dirs == 1
    assert "/d/a" in {w.path for w in result.efficiency.inefficiencies}
    assert "/d/a" not in {w.path for w in result.as_dive.inefficiencies}
    assert result.efficiency.wasted_bytes == result.as_dive.wasted_bytes + 1000
