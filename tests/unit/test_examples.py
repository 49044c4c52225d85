from pathlib import Path

import pytest

from dockerlab.errors import DockerLabError, ExampleBuildError
from dockerlab.examples import PROJECT_LABEL, build_example, project_root, run_image

from .fakes import FakeAPI, FakeClient, FakeContainer


@pytest.fixture
def book(tmp_path: Path) -> Path:
    (tmp_path / "conf.py").write_text("")
    example = tmp_path / "examples" / "demo"
    example.mkdir(parents=True)
    (example / "Dockerfile").write_text("FROM scratch\nCOPY x /\n")
    (example / "x").write_text("x")
    return tmp_path


def test_project_root_is_found_from_a_chapter_folder(book: Path, monkeypatch) -> None:
    monkeypatch.delenv("CH09_ROOT", raising=False)
    (book / "chapters").mkdir()
    assert project_root(book / "chapters") == book


def test_project_root_missing_is_one_sentence(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("CH09_ROOT", raising=False)
    with pytest.raises(DockerLabError, match="cannot find the book's root"):
        project_root(tmp_path)


def test_build_stages_a_copy_and_labels_the_image(book: Path) -> None:
    client = FakeClient(FakeAPI(build_stream=[{"stream": "Step 1/2 : FROM scratch\n"}]))
    seen = []
    built = build_example("demo", "ch09/demo:latest", prepare=lambda ctx: seen.append(ctx) or (ctx / "extra").write_text("y"),
                          client=client, root=book)
    kwargs = client.api.calls[0][1]
    assert Path(kwargs["path"]) == seen[0]
    assert seen[0] != book / "examples" / "demo"
    assert not (book / "examples" / "demo" / "extra").exists()  # sources stay untouched
    assert kwargs["labels"][PROJECT_LABEL] == "ch09"
    assert kwargs["tag"] == "ch09/demo:latest"
    assert built.log == ("Step 1/2 : FROM scratch",)


def test_broken_dockerfile_names_the_example_and_docker_message(book: Path) -> None:
    stream = [{"stream": "Step 1/2 : FROM scratch\n"},
              {"error": "dockerfile parse error line 2: unknown instruction: COPPY",
               "errorDetail": {"message": "dockerfile parse error line 2: unknown instruction: COPPY"}}]
    with pytest.raises(ExampleBuildError) as err:
        build_example("demo", "ch09/demo:latest", client=FakeClient(FakeAPI(build_stream=stream)), root=book)
    assert str(err.value) == ("examples/demo: docker build failed: dockerfile parse error line 2: "
                              "unknown instruction: COPPY")


def test_unknown_example_is_one_sentence(book: Path) -> None:
    with pytest.raises(DockerLabError, match="there is no example named 'nope'"):
        build_example("nope", "x", client=FakeClient(), root=book)


def test_run_image_drops_privileges_labels_and_removes() -> None:
    container = FakeContainer()
    client = FakeClient(container=container)
    assert run_image("ch09/hello:latest", client=client) == "hello, scratch!\n"
    kwargs = client.containers.create_kwargs
    assert kwargs["cap_drop"] == ["ALL"]
    assert kwargs["security_opt"] == ["no-new-privileges"]
    assert kwargs["labels"][PROJECT_LABEL] == "ch09"
    assert container.removed


def test_run_image_failure_still_removes_the_container() -> None:
    container = FakeContainer(status=2, logs=b"boom")
    with pytest.raises(DockerLabError, match="exited with status 2: boom"):
        run_image("x", client=FakeClient(container=container))
    assert container.removed
