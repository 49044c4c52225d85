"""What a reader of "가벼운 도커 이미지가 왜 필요할까" sees equals what the engine and the registry measured."""

from __future__ import annotations

import ast
import json
import re

PAGE = "chapters/01-why-small"
IMAGES = ("ch09/hello:latest", "busybox:latest", "debian:bookworm-slim", "debian:bookworm", "golang:1.19")
KEYS = {"ch09/hello:latest": "hello", "busybox:latest": "busybox", "debian:bookworm-slim": "slim",
        "debian:bookworm": "debian", "golang:1.19": "golang"}
OVERLAY2 = "크기 (docker image ls, overlay2)"
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


def _table(soup, header: str) -> list[list[str]]:
    found = [t for t in _tables(soup) if header in t[0]]
    assert len(found) == 1, f"expected one table with the column {header!r}, found {len(found)}"
    return found[0]


def _column(table: list[list[str]], header: str) -> dict[str, str]:
    index = table[0].index(header)
    return {row[0]: row[index] for row in table[1:]}


def _glue(book) -> dict[str, object]:
    """The values the page glued, from the executed notebook's glue file."""
    path = book.out / "jupyter_execute" / "chapters" / "01-why-small.glue.json"
    values = {}
    for key, item in json.loads(path.read_text(encoding="utf-8")).items():
        try:
            values[key] = ast.literal_eval(item.get("data", {}).get("text/plain"))
        except (ValueError, SyntaxError):  # figures
            continue
    return values


def _pasted(soup) -> list[str]:
    return [s.get_text(strip=True) for p in soup.select("article p, article li") for s in p.select(".pasted-text")]


def test_every_size_column_names_its_image_store_or_the_registry(built_book) -> None:
    for table in _tables(built_book.page(PAGE)):
        for header in table[0]:
            if any(word in header for word in ("크기", "디스크", "바이트")):
                assert any(source in header for source in ("overlay2", "containerd", "레지스트리")), header


def test_every_overlay2_size_shown_is_the_engines_own_figure(built_book, engine) -> None:
    tables = [t for t in _tables(built_book.page(PAGE)) if OVERLAY2 in t[0]]
    assert len(tables) == 3, "the images table, the measurements table and the image store table"
    for table in tables:
        shown = _column(table, OVERLAY2)
        assert set(shown) == set(IMAGES)
        for tag, size in shown.items():
            assert size == built_book.image(PAGE, tag).human, tag


def test_exact_bytes_and_layers_match_docker_image_inspect(built_book, engine) -> None:
    table = _table(built_book.page(PAGE), "정확한 바이트 수 (overlay2)")
    for tag, _, exact, layers in table[1:]:
        stats = built_book.image(PAGE, tag)
        assert exact == f"{stats.size:,}", tag
        assert int(layers) == stats.layers, tag


def test_transfer_size_is_smaller_and_node_disk_at_least_the_image(built_book, engine) -> None:
    table = _table(built_book.page(PAGE), "압축 비")
    wire, disk = _column(table, "전송 크기 (레지스트리)"), _column(table, "노드 디스크 (overlay2)")
    for tag in IMAGES:
        size = built_book.image(PAGE, tag).size
        assert 0 < _bytes(wire[tag]) < size, tag  # gzip on the wire
        assert _bytes(disk[tag]) >= size * 0.99, tag  # unpacked on the node (3 significant digits shown)


def test_the_containerd_store_counts_the_transfer_size_plus_the_unpacked_snapshot(built_book, engine) -> None:
    soup = built_book.page(PAGE)
    glued = _glue(built_book)
    stores = _table(soup, "크기 (docker image ls, containerd)")
    ls = _column(stores, "크기 (docker image ls, containerd)")
    inspect = _column(stores, "크기 (docker image inspect .Size, containerd)")
    df = _column(stores, "크기 (docker system df, containerd)")
    disks = _table(soup, "노드 디스크 (containerd)")
    for tag in IMAGES:
        key = KEYS[tag]
        # The table shows the glued measurements, as docker prints them.
        assert (ls[tag], inspect[tag], df[tag]) == (glued[f"{key}_c_ls"], glued[f"{key}_c_inspect"],
                                                    glued[f"{key}_c_df_df"]), tag
        # ls = inspect + system df, to the byte; inspect = what the registry served for the image.
        assert glued[f"{key}_c_ls_bytes"] == glued[f"{key}_c_inspect_bytes"] + glued[f"{key}_c_df_bytes"], tag
        served = (glued[f"{key}_wire_bytes"] + int(str(glued[f"{key}_manifest_bytes"]).replace(",", ""))
                  + int(str(glued[f"{key}_config_bytes"]).replace(",", "")))
        assert glued[f"{key}_c_inspect_bytes"] == served, tag
        # The same image looks bigger, and takes more disk, on the containerd store.
        assert glued[f"{key}_c_ls_bytes"] > built_book.image(PAGE, tag).size, tag
        assert _column(disks, "노드 디스크 (containerd)")[tag] == glued[f"{key}_c_disk"], tag
        assert glued[f"{key}_c_disk_bytes"] > glued[f"{key}_disk_bytes"], tag
    # The prose shows the arithmetic with these very values, and the engine it ran on.
    pasted = _pasted(soup)
    for key in ("golang_c_inspect", "golang_c_df_df", "golang_c_ls", "golang_manifest_bytes", "golang_config_bytes",
                "golang_c_disk", "golang_disk_ratio", "engine_version"):
        assert str(glued[key]) in pasted, key
    assert glued["engine_version"] == built_book.record(PAGE).engine


def test_the_page_shows_what_the_cli_printed_on_each_store(built_book) -> None:
    text = built_book.page(PAGE).get_text()
    assert "[[driver-type io.containerd.snapshotter.v1]]" in text  # the containerd node's docker info
    assert "[[Backing Filesystem" in text  # the overlay2 node's
    assert text.count("$ docker system df") == 2 and text.count("$ docker image inspect -f '{{.Size}}'") == 2
    # The command readers are told to run is printed literally (MyST substitutions left it alone).
    codes = [c.get_text() for c in built_book.page(PAGE).select("article p code")]
    assert "docker info -f '{{ .DriverStatus }}'" in codes


def test_the_zstd_copies_have_zstd_layers_and_smaller_transfers_for_golang(built_book) -> None:
    soup = built_book.page(PAGE)
    glued = _glue(built_book)
    table = _table(soup, "레이어 미디어 타입")
    rows = {(row[0], row[1]): row for row in table[1:]}
    assert set(rows) == {(tag, kind) for tag in ("ch09/hello:latest", "golang:1.19") for kind in ("gzip", "zstd")}
    media = table[0].index("레이어 미디어 타입")
    wire = table[0].index("전송 크기 (레지스트리)")
    for tag in ("ch09/hello:latest", "golang:1.19"):
        key = KEYS[tag]
        assert rows[tag, "zstd"][media] == "application/vnd.oci.image.layer.v1.tar+zstd", tag
        assert rows[tag, "gzip"][media] == "application/vnd.docker.image.rootfs.diff.tar.gzip", tag
        assert glued[f"{key}_zstd_media"] == "application/vnd.oci.image.layer.v1.tar+zstd"
        assert rows[tag, "zstd"][wire] == glued[f"{key}_zstd_wire"] and rows[tag, "gzip"][wire] == glued[f"{key}_wire"]
        percent = 100 * glued[f"{key}_zstd_wire_bytes"] / glued[f"{key}_wire_bytes"]
        assert glued[f"{key}_zstd_pct"] == f"{percent:.0f}"
    assert glued["golang_zstd_wire_bytes"] < glued["golang_wire_bytes"]
    pasted = _pasted(soup)
    for key in ("golang_zstd_wire", "golang_zstd_pct", "golang_zstd_shaped_s", "golang_zstd_copy_s",
                "golang_zstd_verdict", "hello_zstd_wire", "hello_zstd_pct"):
        assert str(glued[key]) in pasted, key
    # The skopeo command the page printed is the one the helper ran.
    assert "skopeo copy --src-tls-verify=false --dest-tls-verify=false --format oci --dest-compress-format zstd" \
        in soup.get_text()
    assert "force-compression=true" in soup.get_text() and "docs.docker.com/build/exporters/#compression" in str(soup)


def test_prose_sizes_come_from_the_measurements(built_book, engine) -> None:
    soup = built_book.page(PAGE)
    in_tables = {cell for table in _tables(soup) for row in table[1:] for cell in row}
    sizes = [text for text in _pasted(soup) if SIZE.match(text)]
    assert len(sizes) >= 10
    assert not [s for s in sizes if s not in in_tables], "a size in the prose that no table shows"
    span = next(p for p in soup.select("article p") if p.get_text(" ", strip=True).startswith("가장 작은"))
    shown = [s.get_text(strip=True) for s in span.select(".pasted-text")]
    assert shown[:2] == [built_book.image(PAGE, "ch09/hello:latest").human, built_book.image(PAGE, "golang:1.19").human]


def test_the_pull_time_chart_is_on_the_page_and_referenced(built_book) -> None:
    soup = built_book.page(PAGE)
    figure = soup.select_one("figure#fig-pull-time")
    assert figure is not None
    image = built_book.html_dir / "chapters" / figure.select_one("img")["src"]
    assert image.suffix == ".svg" and image.stat().st_size > 1000
    svg = image.read_text(encoding="utf-8")
    assert "풀 시간" in svg and "overlay2" in svg  # matplotlib keeps each label as an SVG comment
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
    from dockerlab.artefacts import read_record

    assert read_record(built_book.out, PAGE) is not None, "the page has no execution artefact"
    assert "Traceback" not in built_book.page(PAGE).get_text()
