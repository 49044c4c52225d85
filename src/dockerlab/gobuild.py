"""Compile Go programs for the examples: on the host when it has Go, else in the Go builder container."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dockerlab.errors import DockerLabError

GO_BUILDER = "golang:1.19"


@dataclass(frozen=True)
class GoBuild:
    """Where and how a binary was compiled."""

    binary: Path
    where: str  # "host" or "container"
    go_version: str
    static: bool
    goroot: str = ""  # `go env GOROOT` of the compiler used: the Go installation's path, which builds may record


def is_static_elf(path: Path) -> bool:
    """True when ``path`` is an ELF executable with no program interpreter (no dynamic loader needed)."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF":
        raise DockerLabError(f"{path} is not an ELF executable.")
    is64 = data[4] == 2
    little = data[5] == 1
    order: Literal["little", "big"] = "little" if little else "big"
    if is64:
        phoff = int.from_bytes(data[32:40], order)
        phentsize = int.from_bytes(data[54:56], order)
        phnum = int.from_bytes(data[56:58], order)
    else:
        phoff = int.from_bytes(data[28:32], order)
        phentsize = int.from_bytes(data[42:44], order)
        phnum = int.from_bytes(data[44:46], order)
    for i in range(phnum):
        start = phoff + i * phentsize
        if int.from_bytes(data[start:start + 4], order) == 3:  # PT_INTERP
            return False
    return True


def _reproducible_env() -> dict[str, str]:
    # -trimpath: the binary must not depend on the folder it was built in (the book builds
    # examples from staged copies in different places), or two builds differ by a few bytes.
    return {"GOOS": "linux", "GOARCH": "amd64", "GOFLAGS": os.environ.get("GOFLAGS", "-trimpath")}


def go_build(source_dir: Path, args: list[str], output: str, *, env: dict[str, str] | None = None,
             client: Any | None = None) -> GoBuild:
    """Run ``go build ARGS`` in ``source_dir`` like the notes do (``GOOS=linux GOARCH=amd64 go build hello.go``).

    Uses the host's ``go`` when there is one; otherwise runs the same command in the
    ``golang`` builder container with ``source_dir`` mounted, and says so in ``where``.
    """
    build_env = {**_reproducible_env(), **(env or {})}
    go = shutil.which("go")
    if go:
        home = Path(os.environ.get("HOME", "/root"))
        proc = subprocess.run([go, "build", *args], cwd=source_dir, env={**os.environ, **build_env, "HOME": str(home)},
                              text=True, capture_output=True)
        if proc.returncode != 0:
            raise DockerLabError(f"go build in {source_dir.name} failed: {proc.stderr.strip()}")
        version = subprocess.run([go, "version"], text=True, capture_output=True).stdout.split()[2]
        goroot = subprocess.run([go, "env", "GOROOT"], text=True, capture_output=True).stdout.strip()
        where = "host"
    else:
        from dockerlab.bases import ensure_base
        from dockerlab.examples import run_image

        ensure_base(GO_BUILDER, client=client)
        script = "go build " + " ".join(args) + " && go version && go env GOROOT"
        out = run_image(GO_BUILDER, ["sh", "-c", script], client=client, working_dir="/src",
                        volumes={str(source_dir): {"bind": "/src", "mode": "rw"}}, environment=build_env)
        *_, version_line, goroot = out.strip().splitlines()
        version = version_line.split()[2]
        where = "container"
    binary = source_dir / output
    if not binary.is_file():
        raise DockerLabError(f"go build in {source_dir.name} produced no {output}.")
    return GoBuild(binary=binary, where=where, go_version=version, static=is_static_elf(binary), goroot=goroot)
