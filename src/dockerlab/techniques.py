"""Section 3's before/after images, built one way wherever they are needed.

Pages 03-1 to 03-3 build each pair as their lesson; page 03-4 analyses all of them again, and must
run alone too (a reader may open it first). Both use the same preparation steps from here, so the
images 03-4 reads are the images the earlier pages showed (and come from the build cache when
those pages ran first).

>>> sorted(SECTION3_TAGS)[:2]
['ch09/tech-apt-cleanup:later', 'ch09/tech-apt-cleanup:naive']
"""

from __future__ import annotations

import functools
import os
import random
import subprocess
from pathlib import Path
from typing import Any

from dockerlab.examples import BuiltImage, build_example
from dockerlab.gobuild import GoBuild, go_build
from dockerlab.references import split_reference

_GIT = ["git", "-c", "user.name=ch09", "-c", "user.email=ch09@example.invalid", "-c", "init.defaultBranch=main"]
_FIXED_DATES = {"GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z"}


def add_working_copy_junk(context: Path) -> None:
    """What a working copy collects next to the code: a git repository, server logs, a data dump (fixed seed)."""
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "Static site"]):
        subprocess.run(_GIT + args, cwd=context, env={**os.environ, **_FIXED_DATES}, check=True, capture_output=True)
    (context / "logs").mkdir()
    with open(context / "logs" / "access.log", "w") as log:
        for i in range(100_000):
            log.write(f"2025-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z 127.0.0.1 GET /index.html 200 {i}\n")
    (context / "data").mkdir()
    (context / "data" / "dump.bin").write_bytes(random.Random(9).randbytes(50_000_000))


def without_dockerignore(context: Path) -> None:
    """The same project before anyone wrote a ``.dockerignore``, with the working copy's junk."""
    (context / ".dockerignore").unlink()
    add_working_copy_junk(context)


@functools.cache
def debian_package(package: str) -> dict[str, str]:
    """The mirror URL and SHA-256 of ``package``'s .deb as the host's apt knows them, as build args.

    >>> sorted(debian_package("direnv"))  # doctest: +SKIP
    ['TOOL_SHA256', 'TOOL_URL']
    """
    uri = subprocess.run(["apt-get", "download", "--print-uris", package],
                         capture_output=True, text=True, check=True).stdout.split()
    return {"TOOL_URL": uri[0].strip("'"), "TOOL_SHA256": uri[3].removeprefix("SHA256:")}


#: Go build flags of page 03-3, each adding one option to the one before (GOFLAGS="": only these flags).
GO_VARIANTS: dict[str, tuple[list[str], dict[str, str]]] = {
    "default": ([], {"GOFLAGS": ""}),
    "static": ([], {"GOFLAGS": "", "CGO_ENABLED": "0"}),
    "stripped": (["-ldflags", "-s -w"], {"GOFLAGS": "", "CGO_ENABLED": "0"}),
    "trimpath": (["-trimpath", "-ldflags", "-s -w"], {"GOFLAGS": "", "CGO_ENABLED": "0"}),
}
#: The two Go programs of page 03-3: example folder, source file, binary name.
GO_PROGRAMS: dict[str, tuple[str, str, str]] = {
    "net": ("tech-go-flags", "main.go", "app"),
    "hello": ("hello", "hello.go", "hello"),
}


def build_go_variant(program: str, variant: str, **kwargs: Any) -> tuple[BuiltImage, GoBuild, bytes]:
    """Compile ``program`` with ``variant``'s flags in a staged context, build ``ch09/tech-go-<program>:<variant>``.

    Returns the image, how the binary was compiled, and the build folder's path (as bytes, to look for it
    in the binary).
    """
    example, source, binary = GO_PROGRAMS[program]
    flags, env = GO_VARIANTS[variant]
    compiled: list[tuple[GoBuild, bytes]] = []

    def compile_variant(context: Path) -> None:
        compiled.append((go_build(context, [*flags, "-o", binary, source], binary, env=env), str(context).encode()))

    image = build_example(example, f"ch09/tech-go-{program}:{variant}", prepare=compile_variant, **kwargs)
    return image, compiled[0][0], compiled[0][1]


def build_dockerignore_pair() -> dict[str, BuiltImage]:
    """Page 03-1's pair: the site built without and with ``.dockerignore``, each from a fresh context folder."""
    return {
        "before": build_example("tech-dockerignore", "ch09/tech-dockerignore:before", prepare=without_dockerignore,
                                context_folder="tech-dockerignore-before"),
        "after": build_example("tech-dockerignore", "ch09/tech-dockerignore:after", prepare=add_working_copy_junk,
                               context_folder="tech-dockerignore-after"),
    }


def build_run_layers_pair() -> dict[str, BuiltImage]:
    """Page 03-2's pair: direnv installed in six RUNs, and in one."""
    direnv = debian_package("direnv")
    return {variant: build_example("tech-run-layers", f"ch09/tech-run-layers:{variant}",
                                   dockerfile=f"Dockerfile.{variant}", buildargs=direnv)
            for variant in ("split", "chained")}


APT_VARIANTS = ("naive", "later", "same", "norecs")


def build_apt_cleanup_variants() -> dict[str, BuiltImage]:
    """Page 03-2's four ways to install curl."""
    return {variant: build_example("tech-apt-cleanup", f"ch09/tech-apt-cleanup:{variant}",
                                   dockerfile=f"Dockerfile.{variant}") for variant in APT_VARIANTS}


SLIM_BASES = ("debian:bookworm", "debian:bookworm-slim")


def build_slim_base_pair() -> dict[str, BuiltImage]:
    """Page 03-3's pair: the same Python app on debian:bookworm and on debian:bookworm-slim."""
    return {base: build_example("tech-slim-base", "ch09/tech-slim-base:" + split_reference(base)[1],
                                buildargs={"BASE": base})
            for base in SLIM_BASES}


#: Every image of section 3 that page 03-4 analyses.
SECTION3_TAGS = (
    "ch09/tech-dockerignore:before", "ch09/tech-dockerignore:after",
    "ch09/tech-run-layers:split", "ch09/tech-run-layers:chained",
    *(f"ch09/tech-apt-cleanup:{v}" for v in APT_VARIANTS),
    "ch09/tech-slim-base:bookworm", "ch09/tech-slim-base:bookworm-slim",
    "ch09/tech-go-net:default", "ch09/tech-go-net:trimpath",
)


def ensure_section3_images() -> list[str]:
    """Build (or take from the build cache) every image page 03-4 analyses; returns their tags."""
    build_dockerignore_pair()
    build_run_layers_pair()
    build_apt_cleanup_variants()
    build_slim_base_pair()
    for variant in ("default", "trimpath"):
        build_go_variant("net", variant)
    return list(SECTION3_TAGS)
