"""The closing table of every image the book made: gathered from the pages' records, never from an engine."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from dockerlab import artefacts, bookimages
from tests.book.conftest import myst_notebook
from tests.unit.fakes import FakeAPIClient


def _page_record(root: Path, out: Path, doc: str, end: str, api: FakeAPIClient, store: str = "overlay2") -> None:
    """Write ``doc``'s artefact as an execution on ``api``'s engine that ended at ``end`` would leave it."""
    (root / f"{doc}.md").write_text(myst_notebook(doc, [], ""))
    record = artefacts.Record(f"{doc}.md", "d", {}, "26.1.5", "-", {}, "here", "root", end, end, 1.0,
                              images=artefacts.book_images(root, api), store=store)
    notebook, path = artefacts.artefact_paths(out, doc)
    notebook.parent.mkdir(parents=True, exist_ok=True)
    notebook.write_text("{}")
    path.write_text(json.dumps(dataclasses.asdict(record)))


def _book(tmp_path: Path) -> tuple[Path, Path]:
    root, out = tmp_path / "book", tmp_path / "out"
    (root / "chapters").mkdir(parents=True)
    # Two machines, as the CI matrix executes the pages: each engine holds only its own pages' images.
    one, two = FakeAPIClient(), FakeAPIClient()
    one.add_image("golang:1.19", size=887_786_080, layers=4, labels={"org.ch09book.base.source": "bootstrapped"})
    one.add_image("ch09/hello:latest", size=1_000, layers=1, labels={"org.ch09book.example": "hello"})
    one.add_image("127.0.0.1:5000/golang:1.19", size=887_786_080, layers=4)  # a push alias: not shown
    _page_record(root, out, "chapters/01-a", "2026-01-01T00:01:00+00:00", one)
    two.add_image("ch09/hello:latest", size=1_200, layers=2, labels={"org.ch09book.example": "hello"})
    two.add_image("ch09/floor:tiny-elf", size=169, layers=1, labels={"org.ch09book.example": "floor-hello"})
    two.add_image("ch09/test-x:1", size=5, layers=1)  # the test suite's own: not shown
    _page_record(root, out, "chapters/02-b", "2026-01-01T00:02:00+00:00", two)
    return root, out


def test_the_table_gathers_every_machines_records_and_the_latest_figure_of_each_tag(tmp_path: Path) -> None:
    root, out = _book(tmp_path)
    images = bookimages.collect(root, out)
    assert [(i.stats.tag, i.stats.size, i.page) for i in images] == [
        ("golang:1.19", 887_786_080, "chapters/01-a"),
        ("ch09/hello:latest", 1_200, "chapters/02-b"),  # the later page's engine, not the earlier one's
        ("ch09/floor:tiny-elf", 169, "chapters/02-b"),
    ]
    lines = bookimages.table(images).splitlines()
    assert lines[0] == "| # | 이미지 | 만든 곳 | 크기 (docker image ls, overlay2) | 정확한 바이트 수 | 레이어 수 |"
    assert lines[2] == "| 1 | `golang:1.19` | 기반 이미지 (직접 만듦) | 888MB | 887,786,080 | 4 |"
    assert lines[3] == "| 2 | `ch09/hello:latest` | `examples/hello` | 1.2kB | 1,200 | 2 |"
    facts = {name: bookimages.fact(images, name) for name in bookimages.FACTS}
    assert facts == {"count": "3", "largest": "888MB", "largest_tag": "golang:1.19", "smallest": "169B",
                     "smallest_tag": "ch09/floor:tiny-elf", "span": "525만"}


def test_the_size_column_names_the_store_only_when_every_record_used_one(tmp_path: Path) -> None:
    root, out = _book(tmp_path)
    api = FakeAPIClient()
    api.add_image("ch09/webapi:single", size=10, layers=1)
    _page_record(root, out, "chapters/03-c", "2026-01-01T00:03:00+00:00", api, store="containerd")
    assert bookimages.size_column(bookimages.collect(root, out)) == "크기 (docker image ls)"


def test_the_chart_is_the_same_bytes_for_the_same_figures(tmp_path: Path) -> None:
    root, out = _book(tmp_path)
    images = bookimages.collect(root, out)
    first = bookimages.write_chart(images, tmp_path / "a.svg").read_bytes()
    assert first.startswith(b"<?xml") and b"<svg" in first
    assert bookimages.write_chart(images, tmp_path / "b.svg").read_bytes() == first


def test_an_unknown_fact_or_no_record_is_one_sentence(tmp_path: Path) -> None:
    root, out = _book(tmp_path)
    with pytest.raises(ValueError, match=r"^no such fact 'biggest' \(facts: count, largest,"):
        bookimages.fact(bookimages.collect(root, out), "biggest")
    with pytest.raises(ValueError, match="^no page's record lists an image of the book's$"):
        bookimages.fact([], "count")
