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


def test_status_page_shows_each_pages_execution_as_its_artefact_records_it(built_book) -> None:
    """The profile table: one row per notebook page, where and when it ran, on which engine, its seconds and its
    slowest cells -- the figures of the page's artefact record, not another measurement."""
    from dockerlab.artefacts import records

    profile = built_book.page("status").select_one("div.execution-profile")
    assert profile is not None, "the status page has no execution profile"
    table = profile.select_one("table")
    assert table is not None
    rows = {tr.select("td")[0].get_text(strip=True): [td.get_text(" ", strip=True) for td in tr.select("td")]
            for tr in table.select("tbody tr")}
    expected = records(built_book.src, built_book.out)
    assert sorted(rows) == sorted(doc for doc, _ in expected)
    engines = {record.engine for _, record in expected if record}
    if len(engines) == 1:
        assert f"모든 페이지를 같은 엔진({engines.pop()})에서 실행했습니다." in profile.get_text(" ", strip=True)
    # Every cell that measured a time (the book's four timing pages have some) held the engine alone, and the
    # page says how many: the records' own start and end of each cell show no overlap with another page's.
    timed = sum(1 for _, record in expected if record for cell in record.cells if cell.alone)
    assert timed >= 4
    assert (f"시간을 잰 셀 {timed}개는 모두 다른 페이지의 셀이 하나도 실행되지 않는 동안 실행되었습니다"
            in profile.get_text(" ", strip=True))
    for doc, record in expected:
        assert record is not None, f"{doc} has no artefact"
        _, where, seconds, slowest = rows[doc]
        assert where.startswith(f"{record.where} {record.start[:19].replace('T', ' ')}"), (doc, where)
        assert seconds == f"{record.seconds:.1f}초"
        top = record.slowest(1)
        if top:
            assert slowest.startswith(f"{top[0].seconds:.1f}초 · 셀 {top[0].index + 1}:"), (doc, slowest)
