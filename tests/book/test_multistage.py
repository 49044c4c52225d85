"""Section 4 as a reader sees it: every size shown is the engine's figure, the ratios match the sizes,
and every multi-stage image answered its health check."""

from __future__ import annotations

from dockerlab import image_stats
from dockerlab.report import size_header

MULTISTAGE = "chapters/04-1-multistage"
BUILDERS = "chapters/04-2-builders"
CLOSING = "chapters/04-9-closing"
RUNTIMES = ("ch09/webapi:scratch", "ch09/webapi:busybox", "ch09/webapi:distroless")


def _tables(soup) -> list[list[list[str]]]:
    """Every table of the page as rows of cell texts (header row first)."""
    return [[[cell.get_text(" ", strip=True) for cell in row.find_all(["th", "td"])] for row in table.find_all("tr")]
            for table in soup.select("article table, main table")]


def _table_with(soup, header: str) -> list[list[str]]:
    matches = [t for t in _tables(soup) if t and header in t[0]]
    assert matches, f"no table with a {header!r} column"
    return matches[0]


def _tag_rows(table: list[list[str]], size_column: str) -> dict[str, str]:
    """tag -> size text, for a table whose first image column holds `ch09/...` tags."""
    header = table[0]
    size_at = header.index(size_column)
    tag_at = next(i for i, h in enumerate(header) if h == "이미지")
    return {row[tag_at]: row[size_at] for row in table[1:]}


def _prose(soup) -> str:
    return " ".join(p.get_text(" ", strip=True) for p in soup.select("article p, article li, main p, main li"))


def test_multistage_sizes_table_matches_the_engine(built_book, engine) -> None:
    page = built_book.page(MULTISTAGE)
    rows = _tag_rows(_table_with(page, "한 단계 이미지 대비"), size_header(engine))
    assert set(rows) >= {"ch09/webapi:single", "golang:1.19", *RUNTIMES, "ch09/webapi:scratch-no-ca"}
    for tag, shown in rows.items():
        assert shown == image_stats(tag, engine).human, tag


def test_multistage_prose_sizes_and_ratios_match_the_engine(built_book, engine) -> None:
    text = _prose(built_book.page(MULTISTAGE))
    single = image_stats("ch09/webapi:single", engine).size
    for tag in ("ch09/webapi:single", "golang:1.19", *RUNTIMES):
        assert image_stats(tag, engine).human in text, tag
    for tag in RUNTIMES:
        ratio = f"{100 * image_stats(tag, engine).size / single:.2f}%"
        assert ratio in text, (tag, ratio)
    largest = max(image_stats(t, engine).size for t in RUNTIMES)
    verdict = "1% 이하입니다" if largest <= 0.01 * single else "1%를 넘습니다"
    assert f"{100 * largest / single:.2f}%" in text and verdict in text


def test_ratio_column_matches_the_sizes_in_the_same_row(built_book, engine) -> None:
    table = _table_with(built_book.page(MULTISTAGE), "한 단계 이미지 대비")
    header = table[0]
    single = image_stats("ch09/webapi:single", engine).size
    for row in table[1:]:
        exact = int(row[header.index("정확한 바이트 수")].replace(",", ""))
        assert row[header.index("한 단계 이미지 대비")] == f"{100 * exact / single:.2f}%"


def test_every_image_answered_its_health_check(built_book) -> None:
    table = _table_with(built_book.page(MULTISTAGE), "/healthz")
    header = table[0]
    body = {row[0]: row for row in table[1:]}
    assert set(body) == {"ch09/webapi:single", "ch09/webapi:scratch-no-ca", *RUNTIMES}
    assert all(row[header.index("/healthz")] == "200" for row in body.values())
    fetch = header.index("/api/fetch (HTTPS)")
    assert body["ch09/webapi:scratch-no-ca"][fetch].startswith("502")
    assert all(body[tag][fetch].startswith("200") for tag in RUNTIMES)


def test_builders_page_shows_the_classic_builder_running_the_unused_test_stage(built_book) -> None:
    page = built_book.page(BUILDERS)
    table = _table_with(page, "처리한 단계")
    header = table[0]
    test_row = next(r for r in table[1:] if r[0] == "test")
    assert test_row[header.index("목표에 필요")] == "불필요"
    assert test_row[header.index("실행한 RUN")] == "1"
    outputs = " ".join(o.get_text() for o in page.select("div.cell_output"))
    assert "--- PASS: TestFetchUntrustedUpstream" in outputs
    assert "Unknown flag: link" in outputs and "the --mount option requires BuildKit" in outputs


def test_floor_sizes_match_the_engine_and_equal_the_files(built_book, engine) -> None:
    page = built_book.page(CLOSING)
    rows = _tag_rows(_table_with(page, "실행 파일을 만든 방법"), "이미지 크기")
    assert set(rows) == {f"ch09/floor:{t}" for t in ("go", "go-stripped", "c-glibc", "c-nolibc", "tiny-elf")}
    for tag, shown in rows.items():
        assert shown == image_stats(tag, engine).human, tag
    equality = _table_with(page, "파일 바이트 합")
    header = equality[0]
    for row in equality[1:]:
        reported = int(row[header.index("엔진이 보고한 크기")].replace(",", ""))
        assert reported == image_stats(row[0], engine).size
        assert row[header.index("파일 바이트 합")] == f"{reported:,}"
        assert row[header.index("같은가")] == "같음"


def test_closing_table_lists_every_book_image_largest_first_with_engine_sizes(built_book, engine) -> None:
    table = _table_with(built_book.page(CLOSING), "만든 곳")
    header = table[0]
    tags = [row[header.index("이미지")] for row in table[1:]]
    exact = [int(row[header.index("정확한 바이트 수")].replace(",", "")) for row in table[1:]]
    assert exact == sorted(exact, reverse=True)
    for tag, row in zip(tags, table[1:]):
        assert row[header.index("크기")] == image_stats(tag, engine).human, tag
    # Images of every section are there, as built by this build.
    for tag in ("ch09/hello:latest", "ch09/webapi:single", *RUNTIMES, "ch09/floor:tiny-elf", "golang:1.19"):
        assert tag in tags, tag
    assert not [t for t in tags if t.startswith("ch09/test-") or t.startswith("127.0.0.1:")]
    prose = _prose(built_book.page(CLOSING))
    assert tags[0] in prose and image_stats(tags[0], engine).human in prose
    assert tags[-1] in prose
