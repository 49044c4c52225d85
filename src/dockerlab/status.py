"""Tables for the status page: tool versions and base image provenance."""

from __future__ import annotations

import shutil
import subprocess
from importlib import metadata
from typing import Any

from dockerlab.bases import KNOWN_BASES, UNAVAILABLE_KO, ensure_base
from dockerlab.errors import BaseImageError
from dockerlab.report import markdown_table
from dockerlab.sizes import human_size

#: Packages whose versions matter for what the book shows.
PACKAGES = ("sphinx", "myst-nb", "myst-parser", "sphinx-book-theme", "docker", "jupyter-cache", "nbclient",
            "ipykernel", "matplotlib")


def _cli_version() -> str:
    docker = shutil.which("docker")
    if not docker:
        return "(없음)"
    out = subprocess.run([docker, "version", "--format", "{{.Client.Version}}"], capture_output=True, text=True)
    return out.stdout.strip() or "(알 수 없음)"


def versions_table(client: Any | None = None) -> str:
    """Docker CLI, engine, storage driver and SDK versions as a table."""
    if client is None:
        from dockerlab.engine import docker_client

        client = docker_client()
    version = client.version()
    info = client.info()
    rows = [
        ["도커 CLI (`docker version`)", _cli_version()],
        ["도커 엔진", f"{version.get('Version')} (API {version.get('ApiVersion')})"],
        ["스토리지 드라이버", info.get("Driver", "")],
        ["운영 체제 / 아키텍처", f"{info.get('OperatingSystem')} / {info.get('Architecture')}"],
        ["Docker SDK for Python", metadata.version("docker")],
    ]
    return markdown_table(["항목", "버전"], rows)


def python_table() -> str:
    """Installed versions of the packages that build the book."""
    rows = []
    for name in PACKAGES:
        try:
            rows.append([name, metadata.version(name)])
        except metadata.PackageNotFoundError:
            rows.append([name, "(설치되지 않음)"])
    return markdown_table(["패키지", "버전"], rows)


ORIGIN_KO = {"pulled": "레지스트리에서 받음", "bootstrapped": "데비안 패키지로 직접 만듦", "local": "출처 모름"}


def bases_table(client: Any | None = None) -> str:
    """Every base image the examples use: ID, size, pulled or bootstrapped, and from what."""
    rows = []
    for name in KNOWN_BASES:
        base = ensure_base(name, client=client)
        source = f"`{base.detail}`" + (f" (`{base.packages}`)" if base.packages else "")
        rows.append([f"`{name}`", f"`{base.short_id}`", human_size(base.size), ORIGIN_KO[base.origin], source])
    for repo, reason in UNAVAILABLE_KO.items():
        try:
            base = ensure_base(repo, client=client)
            rows.append([f"`{base.name}`", f"`{base.short_id}`", human_size(base.size), ORIGIN_KO[base.origin],
                         f"`{base.detail}`"])
        except BaseImageError:
            rows.append([f"`{repo}`", "-", "-", "사용할 수 없음", reason])
    return markdown_table(["이미지", "ID", "크기", "출처", "받은 곳 / 만든 방법"], rows)
