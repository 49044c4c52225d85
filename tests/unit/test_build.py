"""The docker CLI build helper: the command it runs, the log it keeps, the one sentence on failure."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dockerlab import build as buildmod
from dockerlab.build import BuildResult, build_command, docker_build, error_line, logged_steps, step_output
from dockerlab.errors import DockerLabError, ExampleBuildError

# What `docker buildx build --progress=plain` printed for a passing and a failing build (buildx 0.13.1).
BUILDKIT_LOG = """\
#0 building with "default" instance using docker driver

#1 [internal] load build definition from Dockerfile
#1 transferring dockerfile: 147B done
#1 DONE 0.0s

#5 [build 2/3] RUN go build -o /app .
#5 CACHED

#6 [test 1/1] RUN go test -v ./...
#6 0.512 === RUN   TestHealth
#6 0.513 --- PASS: TestHealth (0.00s)
#6 DONE 1.2s
"""
BUILDKIT_FAILURE = """\
#5 [2/2] RUN exit 3
#5 ERROR: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3
------
 > [2/2] RUN exit 3:
------
Dockerfile:2
--------------------
   2 | >>> RUN exit 3
--------------------
ERROR: failed to solve: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3
"""


def test_buildkit_command_is_what_a_reader_types_plus_the_helpers_flags() -> None:
    command = build_command("ch09/x:1", dockerfile="Dockerfile.single", target="build", build_args={"A": "1"},
                            labels={"l": "v"}, no_cache=True, secrets={"token": Path("/s/token")},
                            builder_name="default")
    assert command == ["docker", "buildx", "build", "--load", "--builder", "default", "--progress=plain",
                       "-t", "ch09/x:1", "-f", "Dockerfile.single", "--target", "build", "--build-arg", "A=1",
                       "--label", "l=v", "--secret", "id=token,src=/s/token", "--no-cache", "."]
    result = BuildResult("sha256:1", (), 1.0, "buildkit", tuple(command))
    assert result.reader_command == ("docker buildx build --load -t ch09/x:1 -f Dockerfile.single --target build "
                                     "--build-arg A=1 --secret id=token,src=/s/token --no-cache .")


def test_output_replaces_load() -> None:
    command = build_command("t", output="type=oci,dest=/o.tar,rewrite-timestamp=true")
    assert "--load" not in command
    assert "--output=type=oci,dest=/o.tar,rewrite-timestamp=true" in command


def test_classic_builder_refuses_buildkit_only_flags() -> None:
    with pytest.raises(DockerLabError, match="classic builder has no --secret"):
        build_command("t", builder="classic", secrets={"a": Path("/a")})


def test_error_line_is_buildkits_final_error() -> None:
    assert error_line(BUILDKIT_FAILURE.splitlines(), "buildkit") == (
        'failed to solve: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3')


def test_error_line_of_the_classic_builder_and_of_the_cli() -> None:
    refused = "Error response from daemon: dockerfile parse error line 2: Unknown flag: link"
    classic = ["Step 1/2 : FROM busybox", refused]
    assert error_line(classic, "classic") == refused
    assert error_line([], "buildkit") == "no output"


def test_step_output_and_logged_steps_read_plain_progress() -> None:
    log = BUILDKIT_LOG.splitlines()
    assert step_output(log) == ["=== RUN   TestHealth", "--- PASS: TestHealth (0.00s)"]
    steps = logged_steps(log)
    assert [(s.stage, s.instruction, s.cached) for s in steps] == [
        ("build", "RUN go build -o /app .", True), ("test", "RUN go test -v ./...", False)]


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch) -> Path:
    """A `docker` on PATH that behaves like the CLI for one build: plain progress on stderr, the
    image ID in --iidfile, BuildKit's final ERROR line and exit 1 when the Dockerfile says FAIL."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "docker"
    script.write_text(f"""#!/bin/sh
printf '%s\\n' "$PWD" "$DOCKER_BUILDKIT" "$DOCKER_HOST" "$@" > "{tmp_path}/call"
if [ "$1" = buildx ] && [ "$2" = version ]; then echo "github.com/docker/buildx 0.13.1"; exit 0; fi
if [ "$1" = context ]; then echo default; exit 0; fi
iid=""
while [ $# -gt 0 ]; do [ "$1" = --iidfile ] && iid=$2; shift; done
if [ "$DOCKER_BUILDKIT" = 0 ] && grep -q CLASSIC Dockerfile; then
  printf '%s\n' 'Step 1/3 : FROM debian:bookworm AS build' ' ---> a39cd400a029' 'Step 2/3 : RUN touch /x # CLASSIC' \
    ' ---> Running in 0123456789ab' ' ---> 5f1e2d3c4b5a' 'Step 3/3 : FROM scratch' ' ---> ' 'Step 3/3 : RUN FAIL'
  if grep -q FAIL Dockerfile; then echo "The command '/bin/sh -c FAIL' returned a non-zero code: 127"; exit 1; fi
fi
if grep -q FAIL Dockerfile; then
  echo '#5 [2/2] RUN FAIL' >&2
  echo 'ERROR: failed to solve: process "/bin/sh -c FAIL" did not complete successfully: exit code: 127' >&2
  exit 1
fi
echo '#5 [1/1] COPY x /' >&2
echo '#5 DONE 0.1s' >&2
printf 'sha256:%064d' 7 > "$iid"
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    buildmod.docker_cli.cache_clear()
    buildmod.buildx_version.cache_clear()
    yield tmp_path
    buildmod.docker_cli.cache_clear()
    buildmod.buildx_version.cache_clear()


def test_docker_build_runs_in_the_context_and_keeps_the_log(fake_docker: Path) -> None:
    context = fake_docker / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\nCOPY x /\n")
    result = docker_build(context, "ch09/x:1", what="examples/x", host="unix:///node/docker.sock")
    cwd, buildkit, host, *args = (fake_docker / "call").read_text().splitlines()
    assert (cwd, buildkit, host) == (str(context), "1", "unix:///node/docker.sock")
    assert args[:3] == ["buildx", "build", "--load"] and args[-1] == "."
    assert result.image_id == "sha256:" + "0" * 63 + "7"
    assert result.log == ("#5 [1/1] COPY x /", "#5 DONE 0.1s")
    assert result.seconds > 0


def test_docker_build_failure_is_one_sentence_naming_the_example(fake_docker: Path) -> None:
    context = fake_docker / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\nRUN FAIL\n")
    with pytest.raises(ExampleBuildError) as err:
        docker_build(context, "ch09/x:1", what="examples/x")
    assert str(err.value) == ('examples/x: docker buildx build failed: failed to solve: process "/bin/sh -c FAIL" '
                              'did not complete successfully: exit code: 127')


def test_classic_build_sets_docker_buildkit_0(fake_docker: Path) -> None:
    context = fake_docker / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\n")
    docker_build(context, "t", what="examples/x", builder="classic")
    _, buildkit, _, *args = (fake_docker / "call").read_text().splitlines()
    assert buildkit == "0" and args[0] == "build"


def test_a_classic_build_records_the_images_of_its_steps_but_not_its_base(fake_docker: Path) -> None:
    from dockerlab.ownership import recorded_images

    context = fake_docker / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM debian:bookworm AS build\nRUN touch /x # CLASSIC\nRUN FAIL\n")
    # A failed classic build leaves its earlier steps' images: they are recorded all the same.
    with pytest.raises(ExampleBuildError):
        docker_build(context, "t", what="examples/x", builder="classic", root=fake_docker)
    assert [r.id for r in recorded_images(fake_docker)] == ["5f1e2d3c4b5a"]
