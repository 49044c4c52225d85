"""The section 2 comparison table and chart series, from fixed measurements (no daemon)."""

from __future__ import annotations

import re

from dockerlab.baseimages import BaseRow, added_layers, comparison_series, comparison_table, libc_text, unavailable_row
from dockerlab.imagefs import BaseFeatures
from dockerlab.measure import ImageStats
from tests.unit.fakes import FakeAPIClient, fake_client


def _stats(tag: str, size: int, layers: int = 1) -> ImageStats:
    return ImageStats(tag=tag, id="sha256:" + "0" * 64, size=size, layers=layers, digests=(), labels=())


ROWS = [
    BaseRow("scratch + hello", "ch09/hello:latest", _stats("ch09/hello:latest", 1_819_316), 1_076_672,
            BaseFeatures("ch09/hello:latest", None, None, None, "none", "/hello")),
    unavailable_row("alpine", "alpine:3.20", "no registry"),
    BaseRow("debian", "debian:bookworm", _stats("debian:bookworm", 116_557_662), 48_707_746,
            BaseFeatures("debian:bookworm", "/bin/sh", "apt", "glibc", "shared", "/lib/x86_64-linux-gnu/libc.so.6")),
]


def test_the_table_shows_docker_sizes_and_what_each_image_offers() -> None:
    lines = comparison_table(ROWS, fake_client()).splitlines()
    assert lines[0].startswith("| 이미지(태그) | 크기 (docker image ls, overlay2) |")
    hello, alpine, debian = lines[2:]
    assert hello == "| `ch09/hello:latest` | 1.82MB | 1.08MB | 1 | 없음 | 없음 | 없음 (Go 정적 바이너리) |"
    assert debian == "| `debian:bookworm` | 117MB | 48.7MB | 1 | `/bin/sh` | apt | glibc (공유) |"


def test_an_unavailable_image_has_a_row_with_no_numbers() -> None:
    alpine = comparison_table(ROWS, fake_client()).splitlines()[3]
    assert alpine.startswith("| `alpine:3.20` | 사용할 수 없음 |")
    assert not re.search(r"\d", alpine.split("|", 2)[2].replace("3.20", ""))


def test_the_chart_series_leave_unavailable_images_out() -> None:
    labels, series = comparison_series(ROWS, fake_client())
    assert labels == ["scratch + hello", "debian"]
    assert list(series.values()) == [[1_819_316, 116_557_662], [1_076_672, 48_707_746]]


def test_libc_text_names_static_linking_and_its_binary() -> None:
    assert libc_text(BaseFeatures("b", "/bin/sh", None, "glibc", "static", "/bin/sh")) == "glibc (정적 링크)"
    assert libc_text(BaseFeatures("x", None, None, None, "static", "/app")) == "알 수 없음 (정적 링크)"
    assert libc_text(BaseFeatures("e", None, None, None, "none", "")) == "없음"


def test_added_layers_are_the_rows_past_the_base_history() -> None:
    base_history = [{"CreatedBy": "/bin/sh -c #(nop) ADD file:abc in / ", "Size": 74_000_000},
                    {"CreatedBy": '/bin/sh -c #(nop)  CMD ["bash"]', "Size": 0}]
    built_history = base_history + [
        {"CreatedBy": "/bin/sh -c apt-get update && apt-get install -y gcc", "Size": 211_000_000},
        {"CreatedBy": "/bin/sh -c apt-get purge -y gcc", "Size": 983_000},
        {"CreatedBy": "/bin/sh -c #(nop)  LABEL org.ch09book.project=ch09", "Size": 0},
    ]
    api = FakeAPIClient()
    api.add_image("base", size=74_000_000, layers=1, history=list(reversed(base_history)))
    api.add_image("built", size=286_000_000, layers=3, history=list(reversed(built_history)))
    rows = added_layers("built", "base", fake_client(api))
    assert [(r.created_by.split(" &&")[0], r.size) for r in rows] == [
        ("RUN apt-get update", 211_000_000), ("RUN apt-get purge -y gcc", 983_000)]
