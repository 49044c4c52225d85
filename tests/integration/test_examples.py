"""Build, measure and run examples on the real engine."""

import shutil
import subprocess
from pathlib import Path

import pytest

from dockerlab import build_example, run_image
from dockerlab.errors import ExampleBuildError
from dockerlab.examples import EXAMPLE_LABEL, PROJECT, PROJECT_LABEL
from dockerlab.gobuild import go_build
from dockerlab.sizes import human_size
from tests.conftest import ROOT


def _compile_hello(context: Path) -> None:
    go_build(context, ["hello.go"], "hello")


def test_hello_builds_runs_and_measures_like_the_cli(tracked) -> None:
    tag = tracked.image("ch09/test-hello:latest")
    built = build_example("hello", tag, prepare=_compile_hello, root=ROOT)
    assert run_image(tag) == "hello, scratch!\n"
    inspect = subprocess.run(["docker", "image", "inspect", "--format", "{{.Size}}", tag],
                             capture_output=True, text=True, check=True).stdout.strip()
    listed = subprocess.run(["docker", "image", "ls", "--format", "{{.Size}}", tag],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert built.stats.size == int(inspect)
    assert built.stats.human == human_size(int(inspect)) == listed
    assert built.stats.layers == 1
    binary = ROOT / "_build" / "work" / "contexts" / "hello" / "hello"
    assert built.stats.size == binary.stat().st_size  # scratch adds nothing but the file


def _example(tmp_path: Path, name: str, dockerfile: str) -> Path:
    shutil.copy(ROOT / "conf.py", tmp_path / "conf.py")
    folder = tmp_path / "examples" / name
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text(dockerfile)
    return folder


def test_buildkit_build_keeps_its_log_labels_the_image_and_shows_the_readers_command(tmp_path: Path, tracked) -> None:
    _example(tmp_path, "echoing", "FROM busybox\nRUN echo built-by-buildkit > /made\n")
    tag = tracked.image("ch09/test-echoing:latest")
    built = build_example("echoing", tag, root=tmp_path, nocache=True)
    assert built.build.builder == "buildkit"
    assert built.build.reader_command == f"docker buildx build --load -t {tag} --no-cache ."
    # BuildKit's plain progress: the step header and what the step printed.
    assert any(line.endswith("[2/2] RUN echo built-by-buildkit > /made") for line in built.log)
    assert built.stats.id == built.build.image_id
    labels = dict(built.stats.labels)
    assert labels[PROJECT_LABEL] == PROJECT and labels[EXAMPLE_LABEL] == "echoing"
    # BuildKit sets --label without a history record; the classic builder adds a LABEL step.
    added = engine_history(tag)[: -len(engine_history("busybox:latest"))]  # newest first: the records this build made
    assert added and not any("org.ch09book" in line for line in added)
    assert run_image(tag, ["cat", "/made"]) == "built-by-buildkit\n"


def engine_history(tag: str) -> list[str]:
    out = subprocess.run(["docker", "image", "history", "--no-trunc", "--format", "{{.CreatedBy}}", tag],
                         capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def test_classic_builder_runs_only_when_asked(tmp_path: Path, tracked) -> None:
    _example(tmp_path, "classic", "FROM busybox\nRUN echo classic > /made\n")
    tag = tracked.image("ch09/test-classic:latest")
    built = build_example("classic", tag, root=tmp_path, builder="classic")
    assert built.build.reader_command.startswith("DOCKER_BUILDKIT=0 docker build -t ")
    assert any(line.startswith("Step 2/") for line in built.log)  # the classic builder's own log format
    added = engine_history(tag)[: -len(engine_history("busybox:latest"))]
    assert any("org.ch09book.project" in line for line in added)


def test_broken_dockerfile_fails_naming_the_example_and_buildkit_message(tmp_path: Path, tracked) -> None:
    _example(tmp_path, "broken", "FROM scratch\nCOPPY hello /\n")
    tracked.image("ch09/test-broken:latest")
    with pytest.raises(ExampleBuildError) as err:
        build_example("broken", "ch09/test-broken:latest", root=tmp_path)
    message = str(err.value)
    assert message.startswith("examples/broken: docker buildx build failed: ")
    assert "unknown instruction: COPPY" in message
    assert "\n" not in message


def test_failing_run_step_is_reported_with_buildkit_message(tmp_path: Path, tracked) -> None:
    _example(tmp_path, "failing", "FROM busybox\nRUN exit 3\n")
    tracked.image("ch09/test-failing:latest")
    with pytest.raises(ExampleBuildError, match=r'^examples/failing: docker buildx build failed: failed to solve: '
                                                r'process "/bin/sh -c exit 3" did not complete successfully: '
                                                r'exit code: 3$'):
        build_example("failing", "ch09/test-failing:latest", root=tmp_path)


def test_failing_classic_build_is_reported_with_the_daemon_message(tmp_path: Path, tracked) -> None:
    _example(tmp_path, "failing", "FROM busybox\nRUN exit 3\n")
    tracked.image("ch09/test-failing:latest")
    with pytest.raises(ExampleBuildError, match=r"examples/failing: docker build \(classic builder\) failed: "
                                                r"The command '/bin/sh -c exit 3' returned a non-zero code: 3"):
        build_example("failing", "ch09/test-failing:latest", root=tmp_path, builder="classic")


def test_run_image_has_no_capabilities(engine) -> None:
    status = run_image("busybox:latest", ["sh", "-c", "grep CapEff /proc/self/status"])
    assert status.split() == ["CapEff:", "0000000000000000"]
