"""The BuildKit syntax page's claims on the real engine: COPY --chmod/--chown store a file once,
heredocs need `set -e`, cache mounts keep apt's downloads out of the layer (and --no-cache drops
them), only a secret mount keeps a token out of the image, and COPY --link works only where the
image store lets BuildKit merge layers. Every image built here is removed."""

from __future__ import annotations

import os
import random
import re
import secrets
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from dockerlab import build_example, ensure_base, run_image
from dockerlab.build import logged_steps, step_output
from dockerlab.coldnode import cold_node
from dockerlab.errors import ExampleBuildError
from dockerlab.leaks import basic_auth_server, find_bytes
from tests.conftest import ROOT


def _run_steps_cached(log) -> list[bool]:
    return [s.cached for s in logged_steps(log) if s.instruction.startswith("RUN")]


def _debian_package(package: str) -> dict[str, str]:
    uri = subprocess.run(["apt-get", "download", "--print-uris", package],
                         capture_output=True, text=True, check=True).stdout.split()
    return {"TOOL_URL": uri[0].strip("'"), "TOOL_SHA256": uri[3].removeprefix("SHA256:")}


# --------------------------------------------------------------------------- COPY --chmod / --chown


def test_copy_chmod_stores_the_file_once_and_chown_adds_nothing(engine, tracked) -> None:
    ensure_base("debian:bookworm-slim", client=engine)
    payload = os.urandom(1_500_000)

    def add_file(context: Path) -> None:
        (context / "direnv").write_bytes(payload)
        (context / "direnv").chmod(0o644)

    built = {v: build_example("bk-chmod", tracked.image(f"ch09/test-bk-chmod:{v}"), dockerfile=f"Dockerfile.{v}",
                              prepare=add_file, root=ROOT)
             for v in ["run-chmod", "copy-chmod", "copy-chown"]}
    run, copy, chown = (built[v].stats for v in ["run-chmod", "copy-chmod", "copy-chown"])
    assert run.size - copy.size == len(payload)
    assert run.layers == copy.layers + 1
    assert (chown.size, chown.layers) == (copy.size, copy.layers)
    stat = ["stat", "-c", "%a %u:%g", "/usr/local/bin/direnv"]
    assert run_image(run.tag, stat, network_mode="none").split() == ["755", "0:0"]
    assert run_image(copy.tag, stat, network_mode="none").split() == ["755", "0:0"]
    assert run_image(chown.tag, stat, network_mode="none").split() == ["755", "10001:10001"]


# --------------------------------------------------------------------------- heredoc


def test_a_heredoc_run_is_the_chained_run_layer_for_layer(engine, tracked) -> None:
    ensure_base("debian:bookworm-slim", client=engine)
    tool = _debian_package("direnv")
    heredoc = build_example("bk-heredoc", tracked.image("ch09/test-bk-heredoc:heredoc"), buildargs=tool, root=ROOT)
    chained = build_example("tech-run-layers", tracked.image("ch09/test-bk-heredoc:chained"),
                            dockerfile="Dockerfile.chained", buildargs=tool, root=ROOT)
    assert (heredoc.stats.size, heredoc.stats.layers) == (chained.stats.size, chained.stats.layers)
    assert run_image(heredoc.tag, network_mode="none").strip().startswith("2.")


def test_a_heredoc_goes_on_after_a_failure_unless_set_e(engine, tracked) -> None:
    ensure_base("busybox:latest", client=engine)
    built = build_example("bk-heredoc", tracked.image("ch09/test-bk-heredoc:no-set-e"),
                          dockerfile="Dockerfile.no-set-e", nocache=True, root=ROOT)
    assert "still running after a failed command" in step_output(built.log)

    def with_set_e(context: Path) -> None:
        dockerfile = context / "Dockerfile.no-set-e"
        dockerfile.write_text(dockerfile.read_text().replace("RUN <<EOF\n", "RUN <<EOF\nset -e\n"))

    with pytest.raises(ExampleBuildError, match="exit code: 1"):
        build_example("bk-heredoc", tracked.image("ch09/test-bk-heredoc:set-e"), dockerfile="Dockerfile.no-set-e",
                      prepare=with_set_e, nocache=True, root=ROOT)


# --------------------------------------------------------------------------- cache mounts


_FETCHED = re.compile(r"^Fetched (\d+(?:\.\d+)?) (B|kB|MB|GB) in ")
_UNITS = {"B": 1, "kB": 10**3, "MB": 10**6, "GB": 10**9}


def _fetched(log) -> list[float]:
    """Bytes of each ``Fetched`` line apt printed: the lists first, then the .debs."""
    return [float(m.group(1)) * _UNITS[m.group(2)] for line in step_output(log) if (m := _FETCHED.match(line))]


def _apt_state(tag: str) -> list[int]:
    """Package list files, .debs and binary caches left in the image, and apt's auto-installed marks."""
    out = run_image(tag, ["sh", "-c", "find /var/lib/apt/lists -type f | wc -l; "
                          "find /var/cache/apt -name '*.deb' -o -name '*.bin' | wc -l; apt-mark showauto | wc -l"],
                    cap_add=["DAC_READ_SEARCH"], network_mode="none")
    return [int(n) for n in out.split()]


def test_cache_mounts_serve_the_next_build_and_never_enter_a_layer(engine, tracked) -> None:
    ensure_base("debian:bookworm-slim", client=engine)
    run = uuid.uuid4().hex[:12]

    def staged(ids: str, whole_lib_apt: bool = False):
        def prepare(context: Path) -> None:
            dockerfile = context / "Dockerfile.cache"
            text = re.sub(r"id=(ch09-apt-[a-z]+)", rf"id=\1-{ids}", dockerfile.read_text())
            text = text.replace('ARG PACKAGES="curl"\n', f'ARG PACKAGES="curl"\nARG CH09_RUN={run}\n')
            if whole_lib_apt:  # what the Dockerfile reference's example mounts
                text = text.replace("target=/var/lib/apt/lists", "target=/var/lib/apt")
            dockerfile.write_text(text)
        return prepare

    def build(name: str, ids: str, packages: str, **kwargs):
        return build_example("bk-apt-cache", tracked.image(f"ch09/test-bk-apt-cache:{name}"),
                             dockerfile="Dockerfile.cache",
                             buildargs={"PACKAGES": packages}, prepare=staged(ids, kwargs.pop("whole", False)),
                             root=ROOT, **kwargs)

    first = build("first", run, "curl")
    assert _run_steps_cached(first.log) == [False]
    lists, debs = _fetched(first.log)
    state = _apt_state(first.tag)
    assert state[:2] == [0, 0] and state[2] > 0, state

    # An edit re-runs the step; the lists and the curl .debs come from the cache mounts.
    second = build("second", run, "curl jq")
    assert _run_steps_cached(second.log) == [False]
    again_lists, again_debs = _fetched(second.log)
    assert again_lists < lists / 10 and again_debs < debs
    assert any(re.match(r"^Need to get \S+ \S+/\S+ \S+ of archives", line) for line in step_output(second.log))

    # --no-cache ignores the cache mounts' contents too: everything is fetched again.
    cold = build("no-cache", run, "curl jq", nocache=True)
    assert _fetched(cold.log)[0] == lists

    # A cache mount's id is not part of the step's cache key: another id alone is answered from the layer cache.
    other_id = build("other-id", f"{run}-x", "curl")
    assert _run_steps_cached(other_id.log) == [True]

    # Mounting all of /var/lib/apt hides extended_states: the image records no auto-installed package.
    whole = build("whole", f"{run}-whole", "curl", whole=True)
    assert _apt_state(whole.tag)[2] == 0


# --------------------------------------------------------------------------- secrets


def test_only_the_secret_mount_keeps_the_token_out_of_the_image(engine, tracked) -> None:
    ensure_base("busybox:latest", client=engine)
    token = secrets.token_hex(16)
    found = {}
    with tempfile.TemporaryDirectory(prefix="ch09-test-secret-") as tmp, \
            basic_auth_server("ch09", token, {"private.txt": b"private data\n"}, client=engine) as server:
        token_file = Path(tmp) / "token"
        token_file.write_text(token)

        def add_token_file(context: Path) -> None:
            (context / "token").write_text(token)

        for variant in ["arg", "env", "copy", "secret"]:
            built = build_example(
                "bk-secret", tracked.image(f"ch09/test-bk-secret:{variant}"), dockerfile=f"Dockerfile.{variant}",
                buildargs={"SERVER": server, **({"TOKEN": token} if variant in ("arg", "env") else {})},
                prepare=add_token_file if variant == "copy" else None,
                secrets={"token": token_file} if variant == "secret" else None, root=ROOT)
            assert run_image(built.tag, ["cat", "/private.txt"], network_mode="none") == "private data\n"
            found[variant] = find_bytes(built.tag, token, engine)

        # The server really checks the token: a wrong one fails the build.
        with pytest.raises(ExampleBuildError, match="did not complete successfully"):
            build_example("bk-secret", tracked.image("ch09/test-bk-secret:wrong"), dockerfile="Dockerfile.arg",
                          buildargs={"SERVER": server, "TOKEN": secrets.token_hex(16)}, root=ROOT)

    assert found["secret"] == []
    assert [f.part for f in found["arg"]] == ["config"] and found["arg"][0].location.startswith("history[")
    env_places = {f.location.split("[")[0] for f in found["env"]}
    assert env_places == {"config.Env", "history"}
    assert [(f.part, f.location) for f in found["copy"]] == [("layer", "tmp/token")]
    # The server container is gone with the block.
    assert not engine.containers.list(all=True,
                                      filters={"ancestor": "busybox:latest", "label": "org.ch09book.project=ch09"})


# --------------------------------------------------------------------------- COPY --link


def _add_data(seed: str):
    def prepare(context: Path) -> None:
        (context / "data.bin").write_bytes(random.Random(seed).randbytes(4_000_000))
    return prepare


def _last_diff_id(client, tag: str) -> str:
    return client.api.inspect_image(tag)["RootFS"]["Layers"][-1]


def test_copy_link_falls_back_to_a_plain_copy_on_the_graph_driver_store(engine, tracked) -> None:
    for base in ["debian:bookworm-slim", "debian:bookworm"]:
        ensure_base(base, client=engine)
    prepare = _add_data(uuid.uuid4().hex)
    built = {}
    for variant in ["link", "copy"]:
        for base in ["debian:bookworm-slim", "debian:bookworm"]:
            built[variant, base] = build_example(
                "bk-link", tracked.image(f"ch09/test-bk-link:{variant}-{base.split(':')[1]}"),
                dockerfile=f"Dockerfile.{variant}", prepare=prepare, buildargs={"BASE": base}, root=ROOT)
    ids = {key: _last_diff_id(engine, b.tag) for key, b in built.items()}
    copy_cached = {key: [s.cached for s in logged_steps(b.log) if s.instruction.startswith("COPY")]
                   for key, b in built.items()}
    # The base changed: --link did not spare the copy. (The new layer's diff ID may still equal the first one: copying
    # the same bytes again can give a byte-identical tar, as a CI run showed, so the ID cannot tell the two apart.)
    assert copy_cached["link", "debian:bookworm"] == [False]
    # The plain COPY builds are answered by the --link builds: the same steps.
    assert copy_cached["copy", "debian:bookworm-slim"] == copy_cached["copy", "debian:bookworm"] == [True]
    assert ids["copy", "debian:bookworm"] == ids["link", "debian:bookworm"]


def test_copy_link_keeps_its_layer_on_the_containerd_store(engine) -> None:
    prepare = _add_data(uuid.uuid4().hex)
    with cold_node(image_store="containerd") as node:
        for base in ["debian:bookworm-slim", "debian:bookworm"]:
            ensure_base(base, client=engine)
            with tempfile.TemporaryFile() as saved:
                for chunk in engine.api.get_image(base):
                    saved.write(chunk)
                saved.seek(0)
                node.client.api.load_image(saved.read())
        ids, cached = {}, {}
        for variant in ["copy", "link"]:
            for base in ["debian:bookworm-slim", "debian:bookworm"]:
                built = node.build_example("bk-link", f"ch09/test-bk-link:{variant}-{base.split(':')[1]}",
                                           dockerfile=f"Dockerfile.{variant}", prepare=prepare,
                                           buildargs={"BASE": base}, root=ROOT)
                ids[variant, base] = _last_diff_id(node.client, built.tag)
                cached[variant, base] = [s.cached for s in logged_steps(built.log) if s.instruction.startswith("COPY")]
        usage = node.docker("buildx", "du", "--verbose")
    assert ids["link", "debian:bookworm-slim"] == ids["link", "debian:bookworm"]
    assert cached["copy", "debian:bookworm"] == [False]  # without --link the new base means a new copy
    block = next(b for b in usage.split("\n\n") if re.search(r"Description:\s+\[2/2\] COPY --link ", b))
    assert re.search(r"Usage count:\s+2\b", block), block
