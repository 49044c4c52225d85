"""Artefacts: one page executed with a real kernel (no engine) into an executed notebook and its record."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from dockerlab import artefacts
from dockerlab.errors import NotebookError
from tests.book.conftest import myst_notebook
from tests.unit.fakes import FakeAPIClient


def _book(tmp_path: Path, body: str) -> Path:
    root = tmp_path / "book"
    (root / "chapters").mkdir(parents=True)
    (root / "examples" / "x").mkdir(parents=True)
    (root / "examples" / "x" / "f.txt").write_text("one\n")
    (root / "chapters" / "a.md").write_text(myst_notebook("A", ["examples/x"], body))
    return root


SLEEPS = ("```{code-cell} ipython3\n# Wait a moment\nimport time\ntime.sleep(0.6)\n```\n\n"
          "```{code-cell} ipython3\nprint(open('../examples/x/f.txt').read().strip())\n```\n")


def test_an_executed_page_leaves_its_notebook_and_a_record_of_each_cell(tmp_path: Path) -> None:
    root = _book(tmp_path, SLEEPS)
    out = tmp_path / "out"
    page = root / "chapters" / "a.md"
    assert artefacts.stale_pages(root, out) == [page]
    api = FakeAPIClient()
    api.add_image("ch09/x:latest", size=640)
    record = artefacts.execute_page(root, out, page, docker_api=api)
    notebook = json.loads(artefacts.artefact_paths(out, "chapters/a")[0].read_text())
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert ["".join(o.get("text", "")) for o in code[1]["outputs"]] == ["one\n"]
    # The timing is in the record, not in the notebook (jupyter-cache hashes cell metadata).
    assert all("execution" not in c["metadata"] for c in code)
    assert [c.what for c in record.cells] == ["Wait a moment", "print(open('../examples/x/f.txt').read().strip())"]
    assert record.slowest(1)[0].index == 0 and record.cells[0].seconds >= 0.5
    assert record.seconds >= record.cells[0].seconds
    assert record == artefacts.read_record(out, "chapters/a")
    assert record.image("ch09/x:latest").human == "640B" and record.store == "overlay2"
    assert artefacts.stale_pages(root, out) == []
    (root / "examples" / "x" / "f.txt").write_text("two\n")  # an input listed in depends: changed
    assert artefacts.stale_pages(root, out) == [page]
    assert "chapters/a" in artefacts.profile_text(root, out) and "(stale" in artefacts.profile_text(root, out)


def test_a_failing_cell_names_the_page_and_leaves_no_artefact(tmp_path: Path) -> None:
    root = _book(tmp_path, SLEEPS)
    out = tmp_path / "out"
    page = root / "chapters" / "a.md"
    artefacts.execute_page(root, out, page, docker_api=FakeAPIClient())
    page.write_text(myst_notebook("A", ["examples/x"], "```{code-cell} ipython3\nraise ValueError('no x')\n```\n"))
    with pytest.raises(NotebookError) as caught:
        artefacts.execute_page(root, out, page, docker_api=FakeAPIClient())
    assert caught.value.cell_error == "ValueError: no x"
    assert str(caught.value) == "chapters/a.md: a cell failed: ValueError: no x"
    assert artefacts.read_record(out, "chapters/a") is None
    assert not artefacts.artefact_paths(out, "chapters/a")[0].exists()


def test_an_unknown_page_name_is_one_sentence(tmp_path: Path) -> None:
    root = _book(tmp_path, SLEEPS)
    with pytest.raises(NotebookError, match=r"^no notebook page named 9-nine \(pages: chapters/a\)\.$"):
        artefacts.resolve_pages(root, ["a", "9-nine"])


def test_the_build_tooling_is_not_an_input_of_a_page_but_the_helpers_are(tmp_path: Path) -> None:
    root = _book(tmp_path, SLEEPS)
    package = root / "src" / "dockerlab"
    package.mkdir(parents=True)
    (package / "sizes.py").write_text("X = 1\n")
    (package / "rehearsal.py").write_text("Y = 1\n")
    page = root / "chapters" / "a.md"
    before = artefacts.page_digest(root, page)
    (package / "rehearsal.py").write_text("Y = 2\n")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "sizes.cpython-311.pyc").write_bytes(b"junk")
    assert artefacts.page_digest(root, page) == before
    (package / "sizes.py").write_text("X = 2\n")
    assert artefacts.page_digest(root, page) != before


def test_no_page_imports_the_build_tooling() -> None:
    import re

    from tests.conftest import ROOT

    tooling = {name.removesuffix(".py") for name in artefacts.TOOLING}
    for page in artefacts.notebook_pages(ROOT):
        used = set(re.findall(r"dockerlab\.(\w+)", page.read_text(encoding="utf-8")))
        assert not used & tooling, f"{page.name} imports {used & tooling}: it would be an input of the page"


#: What a cell writes when it reads a stopwatch: a build's or a pull's seconds, a step's, a clock.
_TIMES = re.compile(r"\.seconds\b|perf_counter|step_seconds\(|monotonic\(")


def test_every_page_that_measures_a_time_says_so() -> None:
    """A page whose cells read a stopwatch says ``measures: [time]`` in its front matter, so each of its cells (but
    the ``untimed`` ones) executes holding the engine alone; the others do not say it."""
    from tests.conftest import ROOT

    for page in artefacts.notebook_pages(ROOT):
        timed = bool(_TIMES.search(page.read_text(encoding="utf-8")))
        assert artefacts.page_traits(ROOT, page).times == timed, (
            f"{page.name}: {'reads' if timed else 'reads no'} stopwatch but "
            f"{'does not say' if timed else 'says'} measures: [time]")


def test_pages_that_build_the_same_example_never_execute_together() -> None:
    from tests.conftest import ROOT

    pages = {artefacts.docname(ROOT, p): artefacts.page_traits(ROOT, p) for p in artefacts.notebook_pages(ROOT)}
    assert pages["chapters/04-1-multistage"].conflicts(pages["chapters/04-3-reproducible"])  # examples/webapi
    assert not pages["chapters/04-1-multistage"].conflicts(pages["chapters/04-4-python"])
    assert pages["chapters/04-9-closing"].conflicts(pages["chapters/04-4-python"])  # it lists all of examples/
    assert pages["chapters/01-why-small"].conflicts(pages["status"])  # a page that measures times executes alone


def test_a_bad_measures_or_jobs_value_is_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dockerlab.errors import DockerLabError, FrontMatterError

    root = _book(tmp_path, SLEEPS)
    page = root / "chapters" / "a.md"
    page.write_text(page.read_text().replace("depends:", "measures: speed\ndepends:"))
    with pytest.raises(FrontMatterError, match=r"^chapters/a.md: its measures: says speed; a page can only say"):
        artefacts.page_traits(root, page)
    monkeypatch.setenv("CH09_JOBS", "two")
    with pytest.raises(DockerLabError, match=r"^CH09_JOBS must be a whole number of pages, at least 1 \(it is 'two'\)"):
        artefacts.default_jobs()


def test_an_exclusive_turn_waits_for_the_shared_ones_and_holds_off_new_ones(tmp_path: Path) -> None:
    """engine_turn across processes: while another process holds a shared turn, an exclusive one waits; while
    the exclusive one is held, a new shared one waits."""
    import subprocess
    import sys
    import time

    script = ("import sys, time; from pathlib import Path; from dockerlab.artefacts import engine_turn\n"
              "with engine_turn(Path(sys.argv[1]), alone=sys.argv[2] == 'x'):\n"
              "    print(time.time(), flush=True); time.sleep(float(sys.argv[3])); print(time.time(), flush=True)\n")

    def holder(kind: str, seconds: float) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-c", script, str(tmp_path), kind, str(seconds)],
                                stdout=subprocess.PIPE, text=True)

    shared = holder("s", 1.5)
    time.sleep(0.5)
    alone = holder("x", 1.0)
    time.sleep(0.5)
    late = holder("s", 0.1)
    spans = [tuple(map(float, p.communicate(timeout=30)[0].split())) for p in (shared, alone, late)]
    (s0, s1), (x0, x1), (l0, l1) = spans
    assert x0 >= s1  # the exclusive turn began after the shared one ended
    assert l0 >= x1  # the shared one asked for meanwhile began after the exclusive one ended


def test_a_record_keeps_what_the_engine_said_of_the_books_images_and_only_of_those(tmp_path: Path) -> None:
    from dockerlab.ownership import record_image

    api = FakeAPIClient()
    api.add_image("ch09/hello:latest", size=1_820_000, layers=1, labels={"org.ch09book.example": "hello"})
    api.add_image("golang:1.19", size=888_000_000, layers=7)
    api.add_image("readers/own:1", size=5)  # a reader's image: never read
    built = api.add_image("mine:v1", size=77, layers=2)  # a tag of the reader's on an image the book built
    root = tmp_path / "book"
    record_image(built, "mine:v1", root)
    images = artefacts.book_images(root, api)
    assert list(images) == ["ch09/hello:latest", "golang:1.19", "mine:v1"]
    record = artefacts.Record("chapters/a.md", "d", {}, "26.1.5", "-", {}, "here", "root", "s", "e", 1.0,
                              images=images, store="overlay2")
    again = artefacts.Record.from_json(json.loads(json.dumps(dataclasses.asdict(record))))
    hello = again.image("ch09/hello:latest")
    assert (hello.size, hello.layers, hello.human, hello.label("org.ch09book.example")) == (1_820_000, 1, "1.82MB",
                                                                                           "hello")
    assert again.diff_ids("golang:1.19") == api.inspect_image("golang:1.19")["RootFS"]["Layers"]
    assert again.store == "overlay2"
    with pytest.raises(KeyError, match="chapters/a.md: the engine held no image tagged readers/own:1"):
        again.image("readers/own:1")


def test_no_engine_answering_leaves_no_images_in_the_record(tmp_path: Path) -> None:
    import docker

    nowhere = docker.APIClient(base_url=f"unix://{tmp_path}/no-such.sock", version="1.45")
    assert artefacts.book_images(tmp_path, nowhere) == {}
    assert artefacts._store(nowhere) == "-"
