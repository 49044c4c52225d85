"""Section 2's closing comparison: every base image measured in this build, side by side.

Each row is measured here (size from the engine, transfer size from the saved layers,
shell / package manager / C library from the image's files) or says why it could not be.

>>> rows = [measure_base("busybox", "busybox:latest")]  # doctest: +SKIP
>>> print(comparison_table(rows))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dockerlab.imagefs import BaseFeatures, base_features
from dockerlab.layers import compressed_size
from dockerlab.measure import ImageStats, LayerRow, image_stats, layer_rows
from dockerlab.report import glue_size, glue_text, markdown_table, size_header
from dockerlab.sizes import human_size

#: Column headers after the size column (see :func:`headers`).
_FEATURE_HEADERS = ("압축 크기 (gzip)", "레이어 수", "셸", "패키지 관리자", "C 라이브러리")


def headers(client: Any | None = None) -> tuple[str, ...]:
    """Column headers; the first two match :func:`dockerlab.report.images_table` so one test reads both."""
    return ("이미지(태그)", size_header(client), *_FEATURE_HEADERS)
NOT_AVAILABLE = "사용할 수 없음"


@dataclass(frozen=True)
class BaseRow:
    """One base image in the comparison; ``stats`` is None when this build could not have it."""

    label: str
    tag: str
    stats: ImageStats | None
    compressed: int | None
    features: BaseFeatures | None
    reason: str = ""

    @property
    def available(self) -> bool:
        return self.stats is not None


def measure_base(label: str, tag: str, client: Any | None = None) -> BaseRow:
    """Measure ``tag``: engine size, gzip transfer estimate and what its filesystem offers."""
    return BaseRow(label, tag, image_stats(tag, client), compressed_size(tag, client), base_features(tag, client))


def unavailable_row(label: str, tag: str, reason: str) -> BaseRow:
    """A row with no numbers, for an image this build cannot have."""
    return BaseRow(label, tag, None, None, None, reason)


def libc_text(features: BaseFeatures) -> str:
    """The C library column in Korean, e.g. ``glibc (공유 라이브러리)``.

    >>> libc_text(BaseFeatures("t", None, None, None, "none", "/hello"))
    '없음 (Go 정적 바이너리)'
    """
    if features.linkage == "shared":
        return f"{features.libc} (공유)"
    if features.linkage == "static":
        return f"{features.libc or '알 수 없음'} (정적 링크)"
    if features.probe:
        return "없음 (Go 정적 바이너리)"
    return "없음"


def _feature_cells(features: BaseFeatures) -> list[str]:
    return [
        f"`{features.shell}`" if features.shell else "없음",
        features.package_manager or "없음",
        libc_text(features),
    ]


def comparison_table(rows: Sequence[BaseRow], client: Any | None = None) -> str:
    """The comparison as a Markdown table; an unavailable image gets a row without numbers."""
    body: list[list[object]] = []
    for row in rows:
        name = f"`{row.tag}`"
        if row.stats is None or row.features is None:
            body.append([name, NOT_AVAILABLE, "-", "-", "-", "-", "-"])
            continue
        body.append([name, row.stats.human, human_size(row.compressed or 0), row.stats.layers,
                     *_feature_cells(row.features)])
    return markdown_table(headers(client), body, align="lrrrlll")


def comparison_series(rows: Sequence[BaseRow], client: Any | None = None) -> tuple[list[str], dict[str, list[int]]]:
    """Labels and the two size series (uncompressed, compressed) of the available rows, for a chart."""
    measured = [r for r in rows if r.stats is not None]
    labels = [r.label for r in measured]
    return labels, {
        size_header(client, what="압축 전"): [r.stats.size for r in measured if r.stats is not None],
        "압축 후 (gzip 추정, 전송 크기)": [r.compressed or 0 for r in measured],
    }


def glue_image_size(key: str, stats: ImageStats) -> None:
    """Glue an image's size as ``key`` / ``key_bytes`` and its tag as ``key_tag`` (the book test checks the pair)."""
    glue_text(f"{key}_tag", stats.tag)
    glue_size(key, stats.size)


def added_layers(tag: str, base: str, client: Any | None = None) -> list[LayerRow]:
    """The layers ``tag`` adds on top of ``base`` (its history rows past the base's), metadata rows left out."""
    start = len(layer_rows(base, client, book_labels=True))
    return [row for row in layer_rows(tag, client, book_labels=True)[start:] if not row.empty]


def variants_table(tags: Sequence[str], base: str, client: Any | None = None) -> str:
    """Images built from one base, with their size and each layer they add (instruction and size)."""
    body = []
    for tag in tags:
        layers = "; ".join(f"`{_short(row.created_by)}` {row.human}" for row in added_layers(tag, base, client))
        body.append([f"`{tag}`", image_stats(tag, client).human, layers])
    return markdown_table(["이미지(태그)", size_header(client), f"`{base}` 위에 더한 레이어"], body, align="lrl")


def _short(instruction: str, width: int = 48) -> str:
    return instruction if len(instruction) <= width else instruction[: width - 3] + "..."
