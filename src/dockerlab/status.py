"""Tables for the status page: tool versions and base image provenance."""

from __future__ import annotations

import shutil
import subprocess
from importlib import metadata
from typing import Any

from dockerlab.bases import KNOWN_BASES, UNAVAILABLE_KO, ensure_base
from dockerlab.engine import resolve_client
from dockerlab.errors import BaseImageError
from dockerlab.report import markdown_table, size_header
from dockerlab.sizes import human_size

#: Packages whose versions matter for what the book shows.
PACKAGES = ("sphinx", "myst-nb", "myst-parser", "sphinx-book-theme", "docker", "jupyter-cache", "nbclient",
            "ipykernel", "matplotlib")


def _cli(*args: str) -> str:
    docker = shutil.which("docker")
    if not docker:
        return ""
    out = subprocess.run([docker, *args], capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else ""


def image_store(info: dict[str, Any]) -> str:
    """Which image store the engine uses, from ``docker info``: the containerd store or a graph driver.

    >>> image_store({"Driver": "overlayfs", "DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]]})
    'containerd 이미지 저장소 (스냅숏터 overlayfs)'
    >>> image_store({"Driver": "overlay2", "DriverStatus": [["Backing Filesystem", "extfs"]]})
    '그래프 드라이버 overlay2 (도커 자체 이미지 저장소)'
    """
    status = dict(tuple(pair) for pair in info.get("DriverStatus") or [] if len(pair) == 2)
    if status.get("driver-type") == "io.containerd.snapshotter.v1":
        return f"containerd 이미지 저장소 (스냅숏터 {info.get('Driver')})"
    return f"그래프 드라이버 {info.get('Driver')} (도커 자체 이미지 저장소)"


def buildkit_version() -> str:
    """The BuildKit version of the engine's own builder, as ``docker buildx inspect`` reports it."""
    text = _cli("buildx", "inspect")
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "buildkit version" or key.strip().lower() == "buildkit":
            value = value.strip()
            if value.startswith("v0.0.0"):
                return f"{value} (이 엔진의 빌드가 BuildKit 버전을 기록하지 않음)"
            return value
    return "(알 수 없음)"


def versions_table(client: Any | None = None) -> str:
    """Docker CLI, engine, containerd, BuildKit, buildx, image store and SDK versions as a table."""
    client = resolve_client(client)
    version = client.version()
    info = client.info()
    components = {c.get("Name"): c.get("Version") for c in version.get("Components") or []}
    buildx = _cli("buildx", "version")
    rows = [
        ["도커 CLI (`docker version`)", _cli("version", "--format", "{{.Client.Version}}") or "(없음)"],
        ["도커 엔진", f"{version.get('Version')} (API {version.get('ApiVersion')})"],
        ["containerd", components.get("containerd") or "(알 수 없음)"],
        ["BuildKit (엔진에 내장된 빌더, `docker buildx inspect`)", buildkit_version()],
        ["buildx (`docker buildx version`)", " ".join(buildx.split()[1:2]) or "(없음)"],
        ["이미지 저장소", image_store(info)],
        ["운영 체제 / 아키텍처", f"{info.get('OperatingSystem')} / {info.get('Architecture')}"],
        ["Docker SDK for Python (이미지 조회와 컨테이너 실행에만 사용)", metadata.version("docker")],
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
    return markdown_table(["이미지", "ID", size_header(client), "출처", "받은 곳 / 만든 방법"], rows)
