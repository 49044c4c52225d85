"""Page 04-4 as a reader sees it: every size shown is the engine's figure, every image answered over HTTP,
and the compiler table says what the single-stage and runtime images hold."""

from __future__ import annotations

from dockerlab.report import size_header
from tests.book.test_multistage import _prose, _table_with
from tests.book.test_techniques import _glue

PAGE = "chapters/04-4-python"
SINGLE = ("ch09/pyservice:single-bookworm", "ch09/pyservice:single-slim")
RUNTIMES = ("ch09/pyservice:multistage-slim", "ch09/pyservice:multistage-distroless",
            "ch09/pyservice:multistage-distroless-nopip")


def test_size_table_matches_the_engine_and_its_ratio_column(built_book, engine) -> None:
    table = _table_with(built_book.page(PAGE), "정확한 바이트 수")
    header = table[0]
    rows = {row[0]: row for row in table[1:]}
    assert list(rows) == [*SINGLE, *RUNTIMES]
    reference = built_book.image(PAGE, SINGLE[0]).size
    for tag, row in rows.items():
        stats = built_book.image(PAGE, tag)
        assert row[header.index(size_header(store=built_book.record(PAGE).store))] == stats.human, tag
        assert int(row[header.index("정확한 바이트 수")].replace(",", "")) == stats.size, tag
        assert row[-1] == f"{100 * stats.size / reference:.1f}%", tag


def test_every_image_answered_over_http(built_book) -> None:
    table = _table_with(built_book.page(PAGE), "/healthz")
    header = table[0]
    rows = {row[0]: row for row in table[1:]}
    assert set(rows) == {*SINGLE, *RUNTIMES}
    assert all(row[header.index("/healthz")] == "200" for row in rows.values())
    assert all(row[header.index("psutil 확장 모듈")] == "_psutil_linux.abi3.so" for row in rows.values())


def test_only_the_single_stage_images_hold_a_compiler(built_book) -> None:
    table = _table_with(built_book.page(PAGE), "gcc")
    header = table[0]
    rows = {row[0]: row for row in table[1:]}
    for tag in SINGLE:
        assert rows[tag][header.index("gcc")] == "있음" and rows[tag][header.index("Python.h")] == "있음", tag
    for tag in RUNTIMES:
        assert rows[tag][header.index("gcc")] == "없음" and rows[tag][header.index("Python.h")] == "없음", tag


def test_glued_sizes_equal_the_engine_and_appear_in_the_prose(built_book, engine) -> None:
    glued = _glue(built_book, "04-4-python")
    pairs = [(key[: -len("_tag")], str(tag)) for key, tag in glued.items() if key.endswith("_tag")]
    assert {tag for _, tag in pairs} >= {*SINGLE, *RUNTIMES, "ch09/distroless-python3:debian12"}
    text = _prose(built_book.page(PAGE))
    for key, tag in pairs:
        stats = built_book.image(PAGE, tag)
        assert glued[key] == stats.human and glued[f"{key}_bytes"] == stats.size, (key, tag)
        assert stats.human in text, (key, tag)
    assert "psutil could not be compiled from sources" in text
