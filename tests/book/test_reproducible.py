"""The reproducible-digest page as a reader sees it: each image built twice shows one real sha256
digest twice, the control pair shows two, and the book's engine still holds what the first table says."""

from __future__ import annotations

import ast
import json
import re

from dockerlab.reproducible import DIGEST

PAGE = "chapters/04-3-reproducible"


def _tables(soup) -> list[list[list[str]]]:
    """Every table of the page as rows of cell texts (header row first)."""
    return [[[cell.get_text(" ", strip=True) for cell in row.find_all(["th", "td"])] for row in table.find_all("tr")]
            for table in soup.select("article table, main table")]


def _glue(book) -> dict[str, object]:
    """The values the page glued, from the executed notebook's glue file."""
    path = book.out / "jupyter_execute" / f"{PAGE}.glue.json"
    values = {}
    for key, item in json.loads(path.read_text(encoding="utf-8")).items():
        try:
            values[key] = ast.literal_eval(item.get("data", {}).get("text/plain"))
        except (ValueError, SyntaxError, TypeError):
            continue
    return values


def _digest_tables(soup) -> list[list[list[str]]]:
    return [t for t in _tables(soup) if t and "이미지 다이제스트" in t[0]]


def _by_image(table: list[list[str]]) -> dict[str, list[str]]:
    header = table[0]
    image_at, digest_at = header.index("이미지"), header.index("이미지 다이제스트")
    grouped: dict[str, list[str]] = {}
    for row in table[1:]:
        grouped.setdefault(row[image_at], []).append(row[digest_at])
    return grouped


def test_each_image_built_twice_shows_one_real_digest_twice(built_book) -> None:
    tables = _digest_tables(built_book.page(PAGE))
    assert len(tables) >= 2, "the page shows no digest table"
    pairs = _by_image(tables[0])
    assert set(pairs) == {"hello", "webapi runtime-scratch"}, pairs
    for image, digests in pairs.items():
        assert len(digests) == 2, (image, digests)
        assert all(DIGEST.match(d) for d in digests), digests
        assert digests[0] == digests[1], (image, digests)
    assert pairs["hello"][0] != pairs["webapi runtime-scratch"][0]
    # The archives are byte-for-byte the same, too.
    sha_at = tables[0][0].index("OCI 아카이브 파일의 sha256")
    shas = [row[sha_at] for row in tables[0][1:]]
    assert all(DIGEST.match(s) for s in shas)
    assert shas[0] == shas[1] and shas[2] == shas[3]


def test_the_control_pair_shows_two_digests_and_only_mtimes_differ(built_book) -> None:
    page = built_book.page(PAGE)
    control = _digest_tables(page)[1]
    digests = [row[control[0].index("이미지 다이제스트")] for row in control[1:]]
    assert len(digests) == 2 and all(DIGEST.match(d) for d in digests) and digests[0] != digests[1]
    files = next(t for t in _tables(page)[_tables(page).index(control) + 1:] if t and t[0][0] == "레이어")
    assert len(files) > 1 and {row[2] for row in files[1:]} == {"수정 시각"}


def test_glued_digests_are_the_tables_and_appear_in_the_prose(built_book) -> None:
    page = built_book.page(PAGE)
    glued = _glue(built_book)
    shown = {s.get_text(strip=True) for s in page.select(".pasted-text")}
    pairs = _by_image(_digest_tables(page)[0])
    assert glued["hello_digest_1"] == glued["hello_digest_2"] == pairs["hello"][0]
    assert glued["webapi_digest_1"] == glued["webapi_digest_2"] == pairs["webapi runtime-scratch"][0]
    assert glued["control_digest_1"] != glued["control_digest_2"]
    for key in ("hello_digest_1", "webapi_digest_1", "control_digest_1", "control_digest_2"):
        assert DIGEST.match(str(glued[key])) and glued[key] in shown, key


def test_the_books_engine_table_matches_the_engine(built_book, engine) -> None:
    """The last build of each pair on the book's engine is still tagged: its ID is the table's second ID."""
    table = next(t for t in _tables(built_book.page(PAGE)) if t and t[0][0] == "쌍")
    rows = {row[0]: row for row in table[1:]}
    first_at, second_at, same_at = (table[0].index(h) for h in ("첫 번째 이미지 ID", "두 번째 이미지 ID", "같은가"))
    assert [rows[k][same_at] for k in ("1 hello", "2 hello", "3 hello", "4 webapi")] == ["다름", "같음", "다름", "다름"]
    for key, tag in (("3 hello", "ch09/repro-hello:latest"), ("4 webapi", "ch09/repro-webapi:latest")):
        assert rows[key][second_at] == built_book.image(PAGE, tag).short_id, key
        assert rows[key][first_at] != rows[key][second_at]
    assert rows["2 hello"][first_at] == rows["2 hello"][second_at]


def test_the_oci_refusal_is_the_engines_own_words(built_book) -> None:
    text = built_book.page(PAGE).get_text(" ", strip=True)
    assert re.search(r"OCI exporter is not supported for the docker driver", text)
    assert 'conflicts with "unpack"' in text
