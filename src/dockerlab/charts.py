"""One chart style for every measured comparison in the book.

* horizontal bars, largest at the top; a log scale when sizes span two orders of magnitude;
* axis ticks and bar labels in docker's own size format (``1.82MB``);
* SVG output with a Korean font, no timestamps (same bytes for the same numbers).

Put a chart on a page with myst-nb glue and a numbered, captioned figure::

    fig = size_bars([("ch09/hello", 1819316), ("debian", 116557662)], title="...")
    glue("fig-sizes", fig, display=False)

    ```{glue:figure} fig-sizes
    :name: fig-sizes

    Caption.
    ```

and refer to it with ``{numref}`fig-sizes```.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from dockerlab.sizes import human_size  # noqa: E402

#: Colours for up to four series (colour-blind safe: Okabe-Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7")
_KOREAN_FONTS = ("Noto Sans CJK KR", "Noto Sans KR", "NanumGothic", "Noto Sans CJK JP")


def _setup() -> None:
    available = {f.name for f in font_manager.fontManager.ttflist}
    family = [name for name in _KOREAN_FONTS if name in available] + ["DejaVu Sans"]
    matplotlib.rcParams.update(
        {
            "font.family": family,
            "axes.unicode_minus": False,
            "svg.hashsalt": "ch09",
            "svg.fonttype": "path",
            "figure.dpi": 100,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
        }
    )
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("svg", metadata={"Date": None})
    except ImportError:  # outside IPython
        pass


_setup()


def use_log_scale(values: Sequence[float]) -> bool:
    """True when the positive values span at least two orders of magnitude.

    >>> use_log_scale([1_000, 100_000]), use_log_scale([1_000, 50_000])
    (True, False)
    """
    positive = [v for v in values if v > 0]
    return bool(positive) and max(positive) / min(positive) >= 100


def _size_axis(ax: Axes, log: bool) -> None:
    if log:
        ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: human_size(v) if v >= 1 else ""))


def size_bars(
    items: Sequence[tuple[str, int]],
    *,
    title: str,
    xlabel: str | None = None,
    log: bool | None = None,
) -> Figure:
    """Horizontal bars of sizes in bytes, largest on top, each labelled in docker's format.

    The default axis label names ``docker image ls`` and the engine's image store.
    """
    if xlabel is None:
        from dockerlab.report import size_header

        xlabel = size_header(what="이미지 크기")
    return grouped_size_bars([label for label, _ in items], {"": [size for _, size in items]},
                             title=title, xlabel=xlabel, log=log)


def grouped_size_bars(
    labels: Sequence[str],
    series: dict[str, Sequence[int]],
    *,
    title: str,
    xlabel: str | None = None,
    log: bool | None = None,
) -> Figure:
    """Bars of several series (e.g. uncompressed vs compressed) per label; sizes in bytes.

    The default axis label names ``docker image ls`` and the engine's image store.
    """
    if xlabel is None:
        from dockerlab.report import size_header

        xlabel = size_header(what="크기")
    names = list(series)
    values = [v for name in names for v in series[name]]
    log = use_log_scale(values) if log is None else log
    order = sorted(range(len(labels)), key=lambda i: series[names[0]][i])  # largest ends on top
    height = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(labels) * max(1, len(names) * 0.7) + 1.2))
    for k, name in enumerate(names):
        ys = [pos + (k - (len(names) - 1) / 2) * height for pos in range(len(order))]
        xs = [series[name][i] for i in order]
        bars = ax.barh(ys, xs, height=height * 0.92, color=PALETTE[k % len(PALETTE)], label=name or None)
        for bar, x in zip(bars, xs, strict=True):
            ax.annotate(human_size(x), (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                        xytext=(4, 0), textcoords="offset points", va="center", fontsize=9)
    ax.set_yticks(range(len(order)), [labels[i] for i in order])
    _size_axis(ax, log)
    ax.set_xlabel(xlabel + (" · 로그 눈금" if log else ""))
    ax.set_title(title, loc="left", fontsize=12)
    ax.grid(axis="y", visible=False)
    xmax = max(values) if values else 1
    ax.set_xlim(right=xmax * (4 if log else 1.18))
    if len(names) > 1:
        ax.legend(loc="lower right", frameon=False)
    fig.tight_layout()
    plt.close(fig)
    return fig


def xy_chart(
    points: Sequence[tuple[str, int, float]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    log: bool | None = None,
) -> Figure:
    """A labelled scatter of (label, size in bytes, some measured value), e.g. size vs pull time."""
    sizes = [p[1] for p in points]
    log = use_log_scale(sizes) if log is None else log
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.scatter(sizes, [p[2] for p in points], color=PALETTE[0], zorder=3)
    for label, x, y in points:
        ax.annotate(label, (x, y), xytext=(5, 4), textcoords="offset points", fontsize=9)
    _size_axis(ax, log)
    ax.set_xlabel(xlabel + (" · 로그 눈금" if log else ""))
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left", fontsize=12)
    fig.tight_layout()
    plt.close(fig)
    return fig
