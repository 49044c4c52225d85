from pathlib import Path

import pytest

from dockerlab.build import BuildResult
from dockerlab.errors import DockerLabError, ExampleBuildError
from dockerlab.examples import EXAMPLE_LABEL, PROJECT_LABEL, build_example, project_root, run_image

from .fakes import FakeAPIClient, Program, fake_client


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


class FakeBuild:
    """Stands in for dockerlab.build.docker_build (the buildx CLI): records the call, 'builds' into the fake engine."""

    def __init__(self, api: FakeAPIClient, error: str | None = None) -> None:
        self.api, self.error, self.calls = api, error, []

    def __call__(self, context: Path, tag: str, *, what: str, **kwargs):
        self.calls.append({"context": context, "tag": tag, "what": what, **kwargs})
        if self.error:
            raise ExampleBuildError(f"{what}: docker buildx build failed: {self.error}")
        self.api.add_image(tag, size=1234, layers=1)
        return BuildResult("sha256:" + "0" * 64, ("#1 [1/1] COPY x /",), 0.5, kwargs.get("builder", "buildkit"),
                           ("docker", "buildx", "build", "--load", "-t", tag, "."))


def test_build_stages_a_copy_and_labels_the_image(book: Path, monkeypatch) -> None:
    api = FakeAPIClient()
    client = fake_client(api)
    fake = FakeBuild(api)
    monkeypatch.setattr("dockerlab.examples.docker_build", fake)
    seen = []
    built = build_example("demo", "ch09/demo:latest",
                          prepare=lambda ctx: seen.append(ctx) or (ctx / "extra").write_text("y"),
                          client=client, root=book, target="t", buildargs={"A": "1"})
    call = fake.calls[0]
    assert call["context"] == seen[0]
    assert seen[0] != book / "examples" / "demo"
    assert not (book / "examples" / "demo" / "extra").exists()  # sources stay untouched
    assert call["labels"] == {PROJECT_LABEL: "ch09", EXAMPLE_LABEL: "demo"}
    assert (call["tag"], call["what"], call["target"], call["build_args"]) == (
        "ch09/demo:latest", "examples/demo", "t", {"A": "1"})
    assert call["builder"] == "buildkit"
    assert built.log == ("#1 [1/1] COPY x /",)
    assert built.seconds == 0.5
    assert built.stats.size == 1234


def test_build_failure_propagates_the_one_sentence(book: Path, monkeypatch) -> None:
    api = FakeAPIClient()
    client = fake_client(api)
    monkeypatch.setattr("dockerlab.examples.docker_build", FakeBuild(api, error="unknown instruction: COPPY"))
    with pytest.raises(ExampleBuildError) as err:
        build_example("demo", "ch09/demo:latest", client=client, root=book)
    assert str(err.value) == "examples/demo: docker buildx build failed: unknown instruction: COPPY"


def test_unknown_example_is_one_sentence(book: Path) -> None:
    with pytest.raises(DockerLabError, match="there is no example named 'nope'"):
        build_example("nope", "x", client=fake_client(), root=book)


def test_run_image_drops_privileges_labels_and_removes() -> None:
    api = FakeAPIClient()
    api.add_image("ch09/hello:latest", program=Program(output=b"hello, scratch!\n"))
    assert run_image("ch09/hello:latest", client=fake_client(api)) == "hello, scratch!\n"
    created = api.created()[0]
    assert created["HostConfig"]["CapDrop"] == ["ALL"]
    assert created["HostConfig"]["SecurityOpt"] == ["no-new-privileges"]
    assert created["Labels"][PROJECT_LABEL] == "ch09"
    assert not api.container_store


def test_run_image_failure_still_removes_the_container() -> None:
    api = FakeAPIClient()
    api.add_image("x", program=Program(2, b"boom"))
    with pytest.raises(DockerLabError, match="exited with status 2: boom"):
        run_image("x", client=fake_client(api))
    assert api.created() and not api.container_store
