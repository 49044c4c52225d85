"""The closing page's table of every image the book made, rendered from the pages' execution records.

Each page's record keeps what the engine said of every image of the book's right after the page ran
(:func:`dockerlab.artefacts.book_images`). The closing page puts them together at render time: for each tag, the
figures of the last page (by end time) that ran with it on its engine. So the table lists every image the book
made even when its pages executed on several machines (the CI matrix), and it never asks an engine: rendering
executes nothing. Used by the Sphinx extension's ``{book-images}`` directive and role; build tooling, not a
page's input (:data:`dockerlab.artefacts.TOOLING`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from dockerlab.artefacts import latest_images
from dockerlab.measure import ImageStats
from dockerlab.report import markdown_table

#: The facts the ``{book-images}`` role puts into prose.
FACTS = ("count", "largest", "largest_tag", "smallest", "smallest_tag", "span")


@dataclass(frozen=True)
class BookImage:
    """One tag as the last page that ran with it on its engine saw it."""

    stats: ImageStats
    page: str  # the page's docname (``chapters/04-1-multistage``)
    store: str  # that engine's image store


def shown(tag: str) -> bool:
    """Whether the closing table shows ``tag``: not the test suite's own images (``ch09/test-*``) and not push
    aliases such as ``127.0.0.1:5000/golang:1.19`` (the same image under a registry's name).

    >>> [t for t in ("ch09/hello:latest", "ch09/test-x:1", "127.0.0.1:5000/golang:1.19", "golang:1.19") if shown(t)]
    ['ch09/hello:latest', 'golang:1.19']
    """
    first = tag.split("/", 1)[0]
    is_alias = "/" in tag and ("." in first or ":" in first)
    return not tag.startswith("ch09/test-") and not is_alias


def collect(root: Path, out: Path) -> list[BookImage]:
    """Every image of the book's the records saw (:func:`dockerlab.artefacts.latest_images`) that the table
    shows, largest first (then by tag)."""
    images = [BookImage(record.image(tag), doc, record.store)
              for tag, (doc, record) in latest_images(root, out).items() if shown(tag)]
    return sorted(images, key=lambda i: (-i.stats.size, i.stats.tag))


def origin(stats: ImageStats) -> str:
    """Where an image came from: a base image bootstrapped here, a base pulled from a registry, or an example
    folder. Labels are inherited from the base image (``FROM``), so a base is recognised by its name."""
    from dockerlab.bases import KNOWN_BASES, SOURCE_LABEL
    from dockerlab.ownership import EXAMPLE_LABEL

    if stats.tag in KNOWN_BASES:
        return "기반 이미지 (직접 만듦)" if stats.label(SOURCE_LABEL) == "bootstrapped" else "기반 이미지 (받음)"
    example = stats.label(EXAMPLE_LABEL)
    return f"`examples/{example}`" if example else "-"


def size_column(images: list[BookImage]) -> str:
    """The size column's header: docker's figure, and the image store when every record used the same one."""
    stores = sorted({i.store for i in images})
    return f"크기 (docker image ls, {stores[0]})" if len(stores) == 1 else "크기 (docker image ls)"


def table(images: list[BookImage]) -> str:
    """The closing table as Markdown, largest first."""
    return markdown_table(
        ["#", "이미지", "만든 곳", size_column(images), "정확한 바이트 수", "레이어 수"],
        [[n, f"`{i.stats.tag}`", origin(i.stats), i.stats.human, f"{i.stats.size:,}", i.stats.layers]
         for n, i in enumerate(images, 1)],
        align="rlllrr",
    )


def write_chart(images: list[BookImage], path: Path) -> Path:
    """Write the bar chart of every image's size to ``path`` as SVG (the book's chart style, no engine asked);
    the same figures give the same bytes."""
    import matplotlib.pyplot as plt

    from dockerlab.charts import size_bars

    fig = size_bars([(i.stats.tag, i.stats.size) for i in images], title="이 책이 만든 모든 이미지",
                    xlabel=size_column(images).replace("크기", "이미지 크기", 1))
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_bytes() != buf.getvalue():
        path.write_bytes(buf.getvalue())
    return path


def approximate_times(value: float) -> str:
    """A large ratio the way it is said in Korean: whole below ten thousand, then in 만 and 억 with three
    significant figures.

    >>> approximate_times(12.4), approximate_times(8_130), approximate_times(5_725_040), approximate_times(3.1e9)
    ('12', '8,130', '573만', '31억')
    """
    for unit, size in (("억", 1e8), ("만", 1e4)):
        if value >= size:
            scaled = value / size
            text = f"{scaled:,.{0 if scaled >= 100 else 1 if scaled >= 10 else 2}f}"
            return (text.rstrip("0").rstrip(".") if "." in text else text) + unit
    return f"{value:,.0f}"


def fact(images: list[BookImage], name: str) -> str:
    """One fact of the table for prose (:data:`FACTS`); ValueError for another name or an empty table."""
    if name not in FACTS:
        raise ValueError(f"no such fact {name!r} (facts: {', '.join(FACTS)})")
    if not images:
        raise ValueError("no page's record lists an image of the book's")
    largest, smallest = images[0].stats, images[-1].stats
    return {
        "count": f"{len(images):,}",
        "largest": largest.human, "largest_tag": largest.tag,
        "smallest": smallest.human, "smallest_tag": smallest.tag,
        "span": approximate_times(largest.size / max(1, smallest.size)),
    }[name]


__all__ = ["FACTS", "BookImage", "approximate_times", "write_chart", "collect", "fact", "origin", "shown", "table"]
