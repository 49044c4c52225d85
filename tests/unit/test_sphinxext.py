import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from dockerlab import artefacts
from dockerlab.sphinxext import FrontMatterError, _outdated, check_pages, digest_path, front_matter_depends


def test_front_matter_list_and_string() -> None:
    assert front_matter_depends("---\ndepends:\n  - examples/hello\n  - bases/\n---\n# t") == [
        "examples/hello", "bases"]
    assert front_matter_depends("---\ndepends: examples/a, examples/b\n---\n") == ["examples/a", "examples/b"]
    assert front_matter_depends("# no front matter") == []
    assert front_matter_depends("---\ntitle: x\n---\n") == []


def test_digest_changes_on_edit_add_and_remove(tmp_path: Path) -> None:
    folder = tmp_path / "hello"
    folder.mkdir()
    (folder / "hello.go").write_text("package main\n")
    first = digest_path(folder)
    assert digest_path(folder) == first
    (folder / "hello.go").write_text("package main // edited\n")
    edited = digest_path(folder)
    assert edited != first
    (folder / "new.txt").write_text("")
    added = digest_path(folder)
    assert added != edited
    (folder / "new.txt").unlink()
    assert digest_path(folder) == edited
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "x.pyc").write_text("junk")
    assert digest_path(folder) == edited
    assert digest_path(tmp_path / "missing") == "missing"


NOTEBOOK = "---\nkernelspec:\n  name: python3\ndepends: [examples/{example}]\n---\n# {name}"


def _app_env(tmp_path: Path, pages: dict[str, str]):
    for name, text in pages.items():
        path = tmp_path / f"{name}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    env = SimpleNamespace(found_docs=set(pages), doc2path=lambda d: tmp_path / f"{d}.md")
    app = SimpleNamespace(confdir=str(tmp_path), outdir=str(tmp_path / "_build" / "html"))
    return app, env


def _execute(tmp_path: Path, doc: str, start: str) -> str:
    """Write ``doc``'s artefact as an execution starting at ``start`` would; return the execution's id."""
    notebook, record = artefacts.artefact_paths(tmp_path / "_build", doc)
    notebook.parent.mkdir(parents=True, exist_ok=True)
    notebook.write_text("{}")
    page = tmp_path / f"{doc}.md"
    made = artefacts.Record(f"{doc}.md", artefacts.page_digest(tmp_path, page), {}, "-", "-", {}, "local", "root",
                            start, start, 1.0, [])
    record.write_text(json.dumps(dataclasses.asdict(made)))
    return f"{made.digest}@{start}"


def test_a_page_whose_artefact_is_another_execution_is_read_again(tmp_path: Path) -> None:
    for name in ("hello", "other"):
        (tmp_path / "examples" / name).mkdir(parents=True)
    app, env = _app_env(tmp_path, {"chapters/a": NOTEBOOK.format(example="hello", name="a"),
                                   "chapters/b": NOTEBOOK.format(example="other", name="b"), "index": "# index"})
    env.dockerlab_artefacts = {"chapters/a": _execute(tmp_path, "chapters/a", "t1"),
                               "chapters/b": _execute(tmp_path, "chapters/b", "t1")}
    assert _outdated(app, env, set(), set(), set()) == []
    _execute(tmp_path, "chapters/a", "t2")  # executed again (its example changed)
    assert _outdated(app, env, set(), set(), set()) == ["chapters/a"]
    # A page Sphinx already re-reads is not reported twice.
    assert _outdated(app, env, set(), {"chapters/a"}, set()) == []


def test_the_profile_page_is_read_again_when_any_artefact_changed(tmp_path: Path) -> None:
    (tmp_path / "examples" / "hello").mkdir(parents=True)
    app, env = _app_env(tmp_path, {"chapters/a": NOTEBOOK.format(example="hello", name="a"), "index": "# i"})
    env.dockerlab_artefacts = {"chapters/a": _execute(tmp_path, "chapters/a", "t1")}
    env.dockerlab_profile_pages = {"index"}
    assert _outdated(app, env, set(), set(), set()) == []
    _execute(tmp_path, "chapters/a", "t2")
    assert _outdated(app, env, set(), set(), set()) == ["chapters/a", "index"]


def test_removed_pages_are_forgotten(tmp_path: Path) -> None:
    (tmp_path / "examples" / "hello").mkdir(parents=True)
    app, env = _app_env(tmp_path, {"chapters/a": NOTEBOOK.format(example="hello", name="a")})
    env.dockerlab_artefacts = {"chapters/a": _execute(tmp_path, "chapters/a", "t1")}
    env.found_docs = set()
    (tmp_path / "chapters" / "a.md").unlink()
    assert _outdated(app, env, set(), set(), {"chapters/a"}) == []
    assert env.dockerlab_artefacts == {}


@pytest.mark.parametrize(("front", "message"), [
    ("depends: [examples/hello\n", "its front matter is not valid YAML (line 2)"),
    ("- just\n- a list\n", "its front matter is not a mapping of keys to values"),
    ("depends:\n  examples: hello\n", "its depends: is a mapping, not a list of folders"),
    ("depends: 3\n", "its depends: is a int, not a list of folders"),
    ("depends:\n  - 3\n", "its depends: must list folder paths (text), e.g. examples/hello"),
])
def test_bad_front_matter_is_one_sentence_naming_the_page(tmp_path: Path, front: str, message: str) -> None:
    page = tmp_path / "chapters" / "x.md"
    page.parent.mkdir()
    page.write_text(f"---\n{front}---\n# x\n")
    with pytest.raises(FrontMatterError) as err:
        check_pages(tmp_path, [page])
    assert str(err.value).startswith(f"chapters/x.md: {message}")


def test_a_depends_folder_that_does_not_exist_names_page_and_folder(tmp_path: Path) -> None:
    (tmp_path / "examples" / "hello").mkdir(parents=True)
    page = tmp_path / "x.md"
    page.write_text("---\ndepends:\n  - examples/hello\n  - examples/gone\n---\n")
    with pytest.raises(FrontMatterError, match=r"^x\.md: depends on examples/gone, which does not exist\.$"):
        check_pages(tmp_path, [page])
