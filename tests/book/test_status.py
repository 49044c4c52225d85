"""The status page names the engine the book was built with, as a reader would check it with the CLI."""

from __future__ import annotations

import subprocess


def _rows(soup) -> dict[str, str]:
    table = next(t for t in soup.select("article table") if "도커 엔진" in t.get_text())
    cells = [[c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])] for tr in table.find_all("tr")]
    return {row[0]: row[1] for row in cells[1:]}


def _cli(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout.strip()


def test_status_page_names_engine_containerd_buildkit_buildx_and_image_store(built_book, engine) -> None:
    rows = _rows(built_book.page("status"))
    by_start = {key.split(" (")[0]: value for key, value in rows.items()}
    version = engine.version()
    assert by_start["도커 엔진"].startswith(version["Version"] + " (API ")
    containerd = next(c["Version"] for c in version["Components"] if c["Name"] == "containerd")
    assert by_start["containerd"] == containerd
    assert by_start["buildx"] == _cli("buildx", "version").split()[1]
    assert by_start["BuildKit"]  # whatever `docker buildx inspect` reports, never blank
    info = engine.info()
    assert info["Driver"] in by_start["이미지 저장소"]
    containerd_store = any(pair[:2] == ["driver-type", "io.containerd.snapshotter.v1"]
                           for pair in info.get("DriverStatus") or [])
    assert ("containerd 이미지 저장소" in by_start["이미지 저장소"]) == containerd_store
