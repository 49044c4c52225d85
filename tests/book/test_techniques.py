"""What a reader of section 3 sees equals what the engine says: every image size on the pages,
the before/after table, and the efficiency table with dive's CI verdicts."""

from __future__ import annotations

import ast
import json

import pytest

from dockerlab import human_size
from dockerlab.efficiency import analyze_image, percent_text

PAGES = ["03-1-build-context", "03-2-layers", "03-3-base-and-binary", "03-4-efficiency"]
#: Every image the efficiency page analyses (tags without the ch09/ prefix, as its tables show them).
ANALYSED = [
    "tech-dockerignore:before", "tech-dockerignore:after",
    "tech-run-layers:split", "tech-run-layers:chained",
    "tech-apt-cleanup:naive", "tech-apt-cleanup:later", "tech-apt-cleanup:same", "tech-apt-cleanup:norecs",
    "tech-slim-base:bookworm", "tech-slim-base:bookworm-slim",
    "tech-go-net:default", "tech-go-net:trimpath",
]


def _glue(book, page: str) -> dict[str, object]:
    """The values a page glued, from the executed notebook's glue file."""
    path = book.out / "jupyter_execute" / "chapters" / f"{page}.glue.json"
    values = {}
    for key, item in json.loads(path.read_text(encoding="utf-8")).items():
        text = item.get("data", {}).get("text/plain")
        try:
            values[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):  # figures and other non-literal outputs
            continue
    return values


def _tables(soup, first_header: str) -> list[list[list[str]]]:
    found = []
    for table in soup.select("article table"):
        rows = [[c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])] for tr in table.find_all("tr")]
        if rows and rows[0] and rows[0][0].startswith(first_header):
            found.append(rows)
    return found


@pytest.mark.parametrize("page", PAGES[:3])
def test_every_glued_image_size_equals_the_engine(built_book, engine, page) -> None:
    """Sizes in the prose are glued with their tag (``key`` / ``key_bytes`` / ``key_tag``)."""
    glued = _glue(built_book, page)
    shown = {s.get_text(strip=True) for s in built_book.page(f"chapters/{page}").select(".pasted-text")}
    pairs = [(key[: -len("_tag")], str(tag)) for key, tag in glued.items() if key.endswith("_tag")]
    assert len(pairs) >= 3, f"{page} glues too few image sizes"
    for key, tag in pairs:
        stats = built_book.image(f"chapters/{page}", tag)
        assert glued[key] == stats.human, (key, tag)
        assert glued[f"{key}_bytes"] == stats.size, (key, tag)
    assert any(glued[key] in shown for key, _ in pairs), f"{page}: no glued image size appears in the prose"


@pytest.mark.parametrize("page", PAGES)
def test_images_tables_equal_the_engine(built_book, engine, page) -> None:
    tables = _tables(built_book.page(f"chapters/{page}"), "이미지(태그)")
    assert tables, f"{page} shows no table of images"
    for rows in tables:
        for tag, size, exact, layers in rows[1:]:
            stats = built_book.image(f"chapters/{page}", tag)
            assert (size, exact, int(layers)) == (stats.human, f"{stats.size:,}", stats.layers), tag


#: The efficiency page's before/after table, row by row: (before, after).
PAIRS = [
    ("tech-dockerignore:before", "tech-dockerignore:after"),
    ("tech-run-layers:split", "tech-run-layers:chained"),
    ("tech-apt-cleanup:later", "tech-apt-cleanup:same"),
    ("tech-apt-cleanup:same", "tech-apt-cleanup:norecs"),
    ("tech-slim-base:bookworm", "tech-slim-base:bookworm-slim"),
    ("tech-go-net:default", "tech-go-net:trimpath"),
]


def test_before_after_table_equals_the_engine(built_book, engine) -> None:
    (rows,) = _tables(built_book.page("chapters/03-4-efficiency"), "기법")
    assert len(rows) - 1 == len(PAIRS)
    for (_, before_size, after_size, saved), (before, after) in zip(rows[1:], PAIRS, strict=False):
        b, a = (built_book.image("chapters/03-4-efficiency", f"ch09/{tag}") for tag in (before, after))
        assert (before_size, after_size) == (b.human, a.human), (before, after)
        assert b.size > a.size, f"{before} is not larger than {after}"
        assert saved == human_size(b.size - a.size)


def test_efficiency_table_shows_every_image_with_dive_ci_verdicts(built_book, engine) -> None:
    soup = built_book.page("chapters/03-4-efficiency")
    tables = [t for t in _tables(soup, "이미지") if t[0][0] == "이미지" and "효율" in t[0]]
    assert len(tables) == 1, "the efficiency table is missing"
    header, *rows = tables[0]
    assert header == ["이미지", "효율", "낭비 바이트", "사용자 낭비 비율", "효율 ≥ 0.9", "낭비 비율 ≤ 0.1"]
    by_tag = {row[0]: row for row in rows}
    assert list(by_tag) == ANALYSED
    for row in rows:
        assert set(row[4:]) <= {"통과", "실패"}
    assert by_tag["tech-run-layers:split"][4:] == ["실패", "실패"]
    assert by_tag["tech-run-layers:chained"][4:] == ["통과", "통과"]
    # dive's figures again, from the images' files: only where the engine holds the images the page analysed.
    built_book.require_on_engine("chapters/03-4-efficiency", ["ch09/tech-run-layers:split",
                                                               "ch09/tech-go-net:trimpath"])
    for tag in ("tech-run-layers:split", "tech-go-net:trimpath"):
        result = analyze_image(f"ch09/{tag}").efficiency
        assert by_tag[tag][1] == percent_text(result.score)
        assert by_tag[tag][3] == percent_text(result.user_wasted_percent)


def test_the_cgo_failure_is_the_engines_own_message(built_book) -> None:
    text = built_book.page("chapters/03-3-base-and-binary").get_text(" ")
    assert "ch09/tech-go-net:default: FAILED:" in text
    assert "no such file or directory" in text


@pytest.mark.parametrize("page", PAGES)
def test_no_cell_failed(built_book, page) -> None:
    assert "Traceback" not in built_book.page(f"chapters/{page}").get_text()
