"""What a reader of the BuildKit syntax page sees equals what the engine says: the glued sizes,
the images table, the leak table (searched again in the images the build left), and the
diff IDs of the COPY --link table."""

from __future__ import annotations

import ast
import json

import pytest

from dockerlab import human_size
from dockerlab.leaks import find_bytes

PAGE = "03-5-buildkit"
DOC = f"chapters/{PAGE}"
#: The first column of the leak table, as the HTML reads, and the variant each row is about.
VARIANTS = {"ARG (빌드 인자)": "arg", "ENV (환경 변수)": "env", "COPY 후 rm": "copy",
            "RUN --mount=type=secret": "secret"}


def _glue(book) -> dict[str, object]:
    path = book.out / "jupyter_execute" / "chapters" / f"{PAGE}.glue.json"
    values = {}
    for key, item in json.loads(path.read_text(encoding="utf-8")).items():
        try:
            values[key] = ast.literal_eval(item.get("data", {}).get("text/plain"))
        except (ValueError, SyntaxError):
            continue
    return values


def _tables(soup, first_header: str) -> list[list[list[str]]]:
    found = []
    for table in soup.select("article table"):
        rows = [[c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])] for tr in table.find_all("tr")]
        if rows and rows[0] and rows[0][0] == first_header:
            found.append(rows)
    return found


def test_glued_sizes_equal_the_engine(built_book, engine) -> None:
    glued = _glue(built_book)
    pairs = [(key[: -len("_tag")], str(tag)) for key, tag in glued.items() if key.endswith("_tag")]
    assert len(pairs) >= 8, "the page glues too few image sizes"
    for key, tag in pairs:
        stats = built_book.image(DOC, tag)
        assert (glued[key], glued[f"{key}_bytes"]) == (stats.human, stats.size), (key, tag)
    shown = {s.get_text(strip=True) for s in built_book.page(DOC).select(".pasted-text")}
    assert glued["bk_copy_chmod"] in shown and glued["bk_run_chmod"] in shown


def test_copy_chmod_saves_one_binary_as_the_prose_says(built_book, engine) -> None:
    glued = _glue(built_book)
    run, copy = built_book.image(DOC, "ch09/bk-chmod:run-chmod"), built_book.image(DOC, "ch09/bk-chmod:copy-chmod")
    assert glued["bk_chmod_saved_bytes"] == run.size - copy.size
    assert abs(glued["bk_chmod_saved_bytes"] - glued["bk_direnv_bytes"]) <= 4096
    assert glued["bk_chmod_saved"] == human_size(run.size - copy.size)


def test_images_table_equals_the_engine(built_book, engine) -> None:
    (rows,) = _tables(built_book.page(DOC), "이미지(태그)")
    tags = [row[0] for row in rows[1:]]
    assert len(tags) == 19 and all(t.startswith("ch09/bk-") for t in tags)
    for tag, size, exact, layers in rows[1:]:
        stats = built_book.image(DOC, tag)
        assert (size, exact, int(layers)) == (stats.human, f"{stats.size:,}", stats.layers), tag


def test_leak_table_is_what_a_search_of_the_images_finds(built_book, engine) -> None:
    token = str(_glue(built_book)["bk_token"])
    assert len(token) == 32
    (rows,) = _tables(built_book.page(DOC), "토큰을 넘긴 방법")
    shown: dict[str, list[str]] = {}
    for how, where, _instruction in rows[1:]:
        shown.setdefault(VARIANTS[how], []).append(where)
    assert set(shown) == set(VARIANTS.values())
    built_book.require_on_engine(DOC, [f"ch09/bk-secret:{variant}" for variant in shown])
    for variant, places in shown.items():
        found = [f.where for f in find_bytes(f"ch09/bk-secret:{variant}", token)]
        assert places == (found or ["없음"]), variant
    assert shown["secret"] == ["없음"]
    assert all(shown[v] != ["없음"] for v in ["arg", "env", "copy"])


def test_the_link_table_shows_the_engines_diff_ids(built_book, engine) -> None:
    tables = _tables(built_book.page(DOC), "순서")
    assert len(tables) == 2, "the page shows one --link table per image store"
    main = tables[0]
    for _n, dockerfile, base, _step, _export, _seconds, shown_id in main[1:]:
        variant = dockerfile.removeprefix("Dockerfile.")
        tag = f"ch09/bk-link:{variant}-{base.split(':')[1]}"
        assert built_book.record(DOC).diff_ids(tag)[-1][7:19] == shown_id, tag
    # On this engine the COPY of both Dockerfiles is the same step: the second pair was answered from cache.
    assert [row[3] for row in main[1:]][2:] == ["CACHED", "CACHED"]
    # On the containerd store the --link layer kept its diff ID across the base change; the plain COPY did not.
    node = {(row[1], row[2]): row[6] for row in tables[1][1:]}
    assert node["Dockerfile.link", "debian:bookworm-slim"] == node["Dockerfile.link", "debian:bookworm"]
    assert node["Dockerfile.copy", "debian:bookworm-slim"] != node["Dockerfile.copy", "debian:bookworm"]


@pytest.mark.parametrize("needle", ["Traceback", "이 빌드에서는 실행하지 않음"])
def test_every_cell_ran(built_book, needle) -> None:
    assert needle not in built_book.page(DOC).get_text()
