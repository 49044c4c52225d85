"""Section 2's busybox, alpine, scratch-pitfalls and comparison pages: every image size a reader sees
equals the engine's own figure, and the lessons' outputs are on the page."""

from __future__ import annotations

import ast
import json
import re

import pytest

from dockerlab.bases import is_available

PAGES = ["chapters/02-2-busybox", "chapters/02-3-alpine", "chapters/02-4-scratch-pitfalls", "chapters/02-5-compare"]
#: docker's size column, named with the image store the book was built on.
SIZE_HEADER = "크기 (docker image ls, "
ALPINE = "alpine:3.20"
NOT_RUN = "이 빌드에서는 실행하지 않음"


def _tables(soup) -> list[list[list[str]]]:
    """Every table of the page whose second column is docker's size, as rows of cell texts."""
    found = []
    for table in soup.select("article table"):
        rows = [[c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])] for tr in table.find_all("tr")]
        if rows and len(rows[0]) > 1 and rows[0][1].startswith(SIZE_HEADER):
            found.append(rows)
    return found


def _tag(cell) -> str:
    return cell.split(" (")[0].strip()


def _glue(book, page: str) -> dict[str, object]:
    path = book.out / "jupyter_execute" / f"{page}.glue.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return {key: ast.literal_eval(entry["data"]["text/plain"]) for key, entry in data.items()
            if "text/plain" in entry["data"] and "image/svg+xml" not in entry["data"]}


@pytest.mark.parametrize("page", PAGES)
def test_every_image_size_in_a_table_is_the_engine_size(built_book, engine, page: str) -> None:
    checked = 0
    for rows in _tables(built_book.page(page)):
        for row in rows[1:]:
            tag = _tag(row[0])
            try:
                stats = built_book.image(page, tag)
            except KeyError:  # the engine held no such image when the page had run
                assert row[1] == "사용할 수 없음", (
                    f"{page}: {tag} is shown with a size but the engine has no such image")
                assert not re.search(r"\d", " ".join(row[1:])), f"{page}: numbers shown for the missing {tag}"
                continue
            assert row[1] == stats.human, f"{page}: {tag} shown as {row[1]}, engine says {stats.human}"
            checked += 1
    assert checked >= {"chapters/02-3-alpine": 2}.get(page, 2), f"{page}: too few image sizes in tables ({checked})"


@pytest.mark.parametrize("page", PAGES)
def test_every_glued_image_size_is_the_engine_size_and_is_on_the_page(built_book, engine, page: str) -> None:
    glued = _glue(built_book, page)
    shown = {s.get_text(strip=True) for s in built_book.page(page).select("article .pasted-text")}
    pairs = [(key[: -len("_tag")], tag) for key, tag in glued.items() if key.endswith("_tag")]
    assert len(pairs) >= 2, f"{page}: fewer than two image sizes glued with their tag"
    for key, tag in pairs:
        stats = built_book.image(page, str(tag))
        assert glued[key] == stats.human, f"{page}: {key} glued {glued[key]}, engine says {stats.human} for {tag}"
        assert glued[f"{key}_bytes"] == stats.size, key
        assert stats.human in shown, f"{page}: {key} ({stats.human}) is not shown in the prose"


def test_busybox_page_shows_one_inode_for_every_applet(built_book) -> None:
    outputs = [o.get_text() for o in built_book.page(PAGES[0]).select("div.cell_output")]
    listing = next(o.strip() for o in outputs if o.strip().startswith("total"))
    inodes = {line.split()[0] for line in listing.splitlines()[1:] if line.strip()}
    assert len(inodes) == 1
    glued = _glue(built_book, PAGES[0])
    assert int(str(glued["bb_sharing"]).replace(",", "")) >= 100
    assert glued["bb_runtime"] == "glibc"


def test_alpine_page_runs_what_it_can_and_says_what_it_cannot(built_book, engine) -> None:
    soup = built_book.page(PAGES[1])
    notices = [w for w in soup.select("article .admonition") if NOT_RUN in w.get_text()]
    available, _ = is_available(ALPINE)
    assert len(notices) == (0 if available else 3)
    outputs = " ".join(o.get_text() for o in soup.select("div.cell_output"))
    assert "ch09/build-deps:debian-same-run -> hello from a binary whose compiler is gone" in outputs
    glued = _glue(built_book, PAGES[1])
    assert glued["deb_later_install_layer_bytes"] > 10 * glued["deb_same_run_layer_bytes"]  # type: ignore[operator]


def test_scratch_pitfalls_page_shows_the_tls_failure_and_the_fix(built_book) -> None:
    outputs = " ".join(o.get_text() for o in built_book.page(PAGES[2]).select("div.cell_output"))
    assert "x509: certificate signed by unknown authority" in outputs
    assert "HTTP/2.0 200 OK" in outputs and "hello over TLS (secure.ch09.test)" in outputs
    assert "unable to find user app" in outputs
    assert "tzdata  FAIL  unknown time zone Asia/Seoul" in outputs and "tzdata  ok" in outputs


def test_comparison_page_has_every_base_and_one_numbered_chart(built_book) -> None:
    soup = built_book.page(PAGES[3])
    rows = _tables(soup)[0][1:]
    assert [_tag(r[0]) for r in rows] == ["ch09/hello:latest", "busybox:latest", ALPINE, "debian:bookworm-slim",
                                         "debian:bookworm", "ch09/rootfs-base:latest"]
    figure = soup.select_one("#fig-base-sizes")
    assert figure is not None and figure.select_one("img, svg") is not None
    number = figure.select_one(".caption-number").get_text(strip=True)
    assert re.fullmatch(r"그림 \d+", number), number
    references = [a.get_text(strip=True) for a in soup.select('article a[href="#fig-base-sizes"]')]
    assert number in references, (number, references)


@pytest.mark.parametrize("page", PAGES)
def test_no_cell_leaks_a_bare_return_value(built_book, page: str) -> None:
    for output in built_book.page(page).select("div.cell_output"):
        text = output.get_text().strip()
        assert not re.fullmatch(r"'[^'\n]*'", text), f"{page}: a cell shows its last value {text}"
        assert not text.startswith("BaseImage("), f"{page}: a cell shows {text[:40]}"
