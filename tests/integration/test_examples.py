"""Build, measure and run examples on the real engine."""

import shutil
import subprocess
from pathlib import Path

import pytest

from dockerlab import build_example, run_image
from dockerlab.errors import ExampleBuildError
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


def test_broken_dockerfile_fails_naming_the_example_and_docker_message(tmp_path: Path, tracked) -> None:
    shutil.copy(ROOT / "conf.py", tmp_path / "conf.py")
    broken = tmp_path / "examples" / "broken"
    broken.mkdir(parents=True)
    (broken / "Dockerfile").write_text("FROM scratch\nCOPPY hello /\n")
    tracked.image("ch09/test-broken:latest")
    with pytest.raises(ExampleBuildError) as err:
        build_example("broken", "ch09/test-broken:latest", root=tmp_path)
    message = str(err.value)
    assert message.startswith("examples/broken: docker build failed: ")
    assert "unknown instruction: COPPY" in message


def test_failing_run_step_is_reported_with_docker_message(tmp_path: Path, tracked) -> None:
    shutil.copy(ROOT / "conf.py", tmp_path / "conf.py")
    broken = tmp_path / "examples" / "failing"
    broken.mkdir(parents=True)
    (broken / "Dockerfile").write_text("FROM busybox\nRUN exit 3\n")
    tracked.image("ch09/test-failing:latest")
    with pytest.raises(ExampleBuildError, match=r"examples/failing: docker build failed: The command '/bin/sh -c exit 3' "
                                                r"returned a non-zero code: 3"):
        build_example("failing", "ch09/test-failing:latest", root=tmp_path)


def test_run_image_has_no_capabilities(engine) -> None:
    status = run_image("busybox:latest", ["sh", "-c", "grep CapEff /proc/self/status"])
    assert status.split() == ["CapEff:", "0000000000000000"]
