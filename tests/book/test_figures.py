"""Every chart in the book follows the one style: made by dockerlab.charts, SVG, numbered and captioned."""

import re

from tests.conftest import ROOT


def test_chapters_draw_only_through_dockerlab_charts() -> None:
    for page in sorted((ROOT / "chapters").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        assert "import matplotlib" not in text and "plt." not in text, page.name


def test_every_figure_is_a_numbered_captioned_svg(built_book) -> None:
    figures = 0
    for html in sorted(built_book.html_dir.glob("chapters/*.html")):
        soup = built_book.page(f"chapters/{html.stem}")
        for figure in soup.select("article figure"):
            image = figure.find("img")
            if image is None:
                continue
            figures += 1
            assert image["src"].endswith(".svg"), (html.name, image["src"])
            caption = figure.find("figcaption")
            assert caption is not None, html.name
            assert re.match(r"그림 \d+", caption.get_text(" ", strip=True)), (html.name, caption.get_text())
            assert image.get("alt"), (html.name, image["src"])
    assert figures >= 5


def test_chart_svgs_use_the_shared_style(built_book) -> None:
    svgs = sorted((built_book.html_dir / "_images").glob("*.svg"))
    assert svgs
    for svg in svgs:
        text = svg.read_text(encoding="utf-8")
        # dockerlab.charts: text as paths (the Korean font travels with the figure), Okabe-Ito blue bars.
        assert "<text" not in text, svg.name
        assert "#0072b2" in text.lower(), svg.name
