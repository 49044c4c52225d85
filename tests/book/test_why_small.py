"""What a reader of "가벼운 도커 이미지가 왜 필요할까" sees equals what the engine and the registry measured."""

from __future__ import annotations

import re

from dockerlab import image_stats

PAGE = "chapters/01-why-small"
IMAGES = ("ch09/hello:latest", "busybox:latest", "debian:bookworm-slim", "debian:bookworm", "golang:1.19")
SIZE = re.compile(r"^\d+(\.\d+)?(B|kB|MB|GB)$")
_UNITS = {"B": 1, "kB": 10**3, "MB": 10**6, "GB": 10**9}


def _bytes(text: str) -> float:
    number, unit = re.match(r"^([\d.]+)(\w+)$", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def _tables(soup) -> list[list[list[str]]]:
    tables = []
    for table in soup.select("article table"):
        rows = [[c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])] for tr in table.find_all("tr")]
        if rows:
            tables.append(rows)
    return tables


def _size_tables(soup) -> list[list[list[str]]]:
    found = [t for t in _tables(soup) if "크기 (docker image ls)" in t[0]]
    assert len(found) >= 2, "expected the images table and the measurements table"
    return found


def test_every_image_size_shown_is_the_engines_own_figure(built_book, engine) -> None:
    for table in _size_tables(built_book.page(PAGE)):
        column = table[0].index("크기 (docker image ls)")
        shown = {row[0]: row[column] for row in table[1:]}
        assert set(shown) == set(IMAGES)
        for tag, size in shown.items():
            assert size == image_stats(tag).human, tag


def test_exact_bytes_and_layers_match_docker_image_inspect(built_book, engine) -> None:
    table = next(t for t in _size_tables(built_book.page(PAGE)) if "정확한 바이트 수" in t[0])
    for tag, _, exact, layers in table[1:]:
        stats = image_stats(tag)
        assert exact == f"{stats.size:,}", tag
        assert int(layers) == stats.layers, tag


def test_transfer_size_is_smaller_and_node_disk_at_least_the_image(built_book, engine) -> None:
    table = next(t for t in _size_tables(built_book.page(PAGE)) if "전송 크기 (레지스트리)" in t[0])
    head = table[0]
    for row in table[1:]:
        size = image_stats(row[0]).size
        wire = _bytes(row[head.index("전송 크기 (레지스트리)")])
        disk = _bytes(row[head.index("노드 디스크")])
        assert 0 < wire < size, row[0]  # gzip on the wire
        assert disk >= size * 0.99, row[0]  # unpacked on the node (3 significant digits shown)


def test_prose_sizes_come_from_the_measurements(built_book, engine) -> None:
    soup = built_book.page(PAGE)
    in_tables = {cell for table in _tables(soup) for row in table[1:] for cell in row}
    pasted = [s.get_text(strip=True) for p in soup.select("article p, article li") for s in p.select(".pasted-text")]
    sizes = [text for text in pasted if SIZE.match(text)]
    assert len(sizes) >= 10
    assert not [s for s in sizes if s not in in_tables], "a size in the prose that no table shows"
    span = next(p for p in soup.select("article p") if p.get_text(" ", strip=True).startswith("가장 작은"))
    shown = [s.get_text(strip=True) for s in span.select(".pasted-text")]
    assert shown[:2] == [image_stats("ch09/hello:latest").human, image_stats("golang:1.19").human]


def test_the_pull_time_chart_is_on_the_page_and_referenced(built_book) -> None:
    soup = built_book.page(PAGE)
    figure = soup.select_one("figure#fig-pull-time")
    assert figure is not None
    image = built_book.html_dir / "chapters" / figure.select_one("img")["src"]
    assert image.suffix == ".svg" and image.stat().st_size > 1000
    assert "풀 시간" in image.read_text(encoding="utf-8")  # matplotlib keeps each label as an SVG comment
    assert "콜드 노드" in figure.select_one("figcaption").get_text()
    numref = soup.select('a.reference.internal[href="#fig-pull-time"] span.std-numref')
    assert numref and numref[0].get_text(strip=True).startswith("그림"), "the prose refers to the figure with numref"


def test_autoscaling_model_and_references_are_labelled(built_book) -> None:
    soup = built_book.page(PAGE)
    model = next(t for t in _tables(soup) if any("(계산)" in h for h in t[0]))
    assert {row[0] for row in model[1:]} == set(IMAGES)
    text = soup.get_text(" ")
    assert "Slacker" in text and "Zhao" in text
    for line in (li.get_text(" ", strip=True) for li in soup.select("article li")):
        if "Slacker" in line or "Zhao" in line:
            assert line.startswith("참고 문헌(측정값 아님)")


def test_no_notebook_failed(built_book) -> None:
    assert "Executing notebook failed" not in built_book.output
    assert "Traceback" not in built_book.page(PAGE).get_text()
