"""``docker build`` as a reader types it: BuildKit (``docker buildx build``), or the classic builder on request.

The Docker SDK for Python can drive only the classic builder's API, and readers build with
BuildKit (the default builder since Engine 23). So every image in the book is built by running
the docker CLI, and the SDK is used only to inspect and run what was built:

* ``builder="buildkit"`` runs ``docker buildx build --load`` on the engine's own BuildKit (the
  ``docker`` driver of the current context, so the engine's local images -- the bootstrapped
  bases -- are visible to ``FROM``);
* ``builder="classic"`` runs ``DOCKER_BUILDKIT=0 docker build``, for the pages whose lesson is
  the contrast between the two.

The plain progress output is kept as the build log. A failed build raises
:class:`~dockerlab.errors.ExampleBuildError` with BuildKit's (or the daemon's) own error line.

>>> " ".join(build_command("ch09/hello:latest"))
'docker buildx build --load --progress=plain -t ch09/hello:latest .'
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dockerlab.errors import DockerLabError, ExampleBuildError

Builder = Literal["buildkit", "classic"]

#: ``#12 0.532 output`` -- a line a step printed, in BuildKit's plain progress.
_STEP_OUTPUT = re.compile(r"^#(\d+) (\d+\.\d+) (.*)$")
#: ``#12 [build 3/6] RUN go build`` -- a step's header.
_STEP_HEADER = re.compile(r"^#(\d+) \[(?:(\S+) )?(\d+)/(\d+)\] (.*)$")
#: Flags that serve the helper, not the lesson; left out of :attr:`BuildResult.reader_command`.
_PLUMBING = {"--progress", "--iidfile", "--builder", "--label"}
_PLUMBING_SWITCHES = {"--force-rm"}


@dataclass(frozen=True)
class BuildResult:
    """One finished build: the image ID, the log, the wall time and the exact command."""

    image_id: str
    log: tuple[str, ...]
    seconds: float
    builder: Builder
    command: tuple[str, ...]

    @property
    def reader_command(self) -> str:
        """The command without the helper's own flags, e.g. ``docker buildx build --load -t ch09/hello .``.

        >>> command = ("docker", "build", "--force-rm", "-t", "x", "--iidfile", "/t/iid", ".")
        >>> BuildResult("", (), 0.0, "classic", command).reader_command
        'DOCKER_BUILDKIT=0 docker build -t x .'
        """
        words: list[str] = []
        skip = False
        for word in self.command:
            if skip:
                skip = False
                continue
            name = word.split("=", 1)[0]
            if name in _PLUMBING_SWITCHES:
                continue
            if name in _PLUMBING:
                skip = "=" not in word
                continue
            words.append(word)
        prefix = "DOCKER_BUILDKIT=0 " if self.builder == "classic" else ""
        return prefix + " ".join(["docker", *words[1:]])


def cli_env(host: str | None = None) -> dict[str, str]:
    """The environment for a docker CLI call: ``host`` (e.g. ``unix:///…/docker.sock``) replaces the current engine.

    >>> cli_env("unix:///n/docker.sock")["DOCKER_HOST"]
    'unix:///n/docker.sock'
    """
    env = dict(os.environ)
    if host is not None:
        env["DOCKER_HOST"] = host
        env.pop("DOCKER_CONTEXT", None)
    return env


@functools.cache
def docker_cli() -> str:
    """Path of the docker CLI; one sentence when there is none."""
    path = shutil.which("docker")
    if path is None:
        raise DockerLabError("the docker CLI is not installed; run `make deps` (or install Docker) and try again.")
    return path


@functools.cache
def buildx_version() -> str:
    """``docker buildx version`` (e.g. ``github.com/docker/buildx 0.13.1 …``); one sentence when buildx is missing."""
    proc = subprocess.run([docker_cli(), "buildx", "version"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise DockerLabError(
            "BuildKit's CLI plugin (docker buildx) is not installed, so the book cannot build with BuildKit; "
            "run `make deps` as root on Debian, or install the docker-buildx plugin."
        )
    return proc.stdout.strip()


def _context_builder(host: str | None) -> str:
    """The builder of the engine itself: the ``docker`` driver named after the CLI context
    (``default`` with DOCKER_HOST)."""
    if host is not None or os.environ.get("DOCKER_HOST"):
        return "default"
    proc = subprocess.run([docker_cli(), "context", "show"], capture_output=True, text=True)
    return proc.stdout.strip() or "default"


def build_command(
    tag: str | None,
    *,
    dockerfile: str = "Dockerfile",
    target: str | None = None,
    build_args: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    no_cache: bool = False,
    builder: Builder = "buildkit",
    secrets: Mapping[str, Path] | None = None,
    output: str | None = None,
    options: Sequence[str] = (),
    iidfile: Path | None = None,
    builder_name: str | None = None,
) -> list[str]:
    """The docker CLI command for one build, run in the build context (``.`` last).

    ``output`` (an ``--output`` value) replaces ``--load``; ``options`` are passed as they are.

    >>> build_command("t", builder="classic", target="x", dockerfile="Dockerfile.single")
    ['docker', 'build', '--force-rm', '-t', 't', '-f', 'Dockerfile.single', '--target', 'x', '.']
    """
    if builder == "classic":
        # --force-rm: a failed step must not leave its intermediate container behind.
        command = ["docker", "build", "--force-rm"]
        if secrets or output:
            raise DockerLabError("the classic builder has no --secret and no --output; build with BuildKit.")
    else:
        command = ["docker", "buildx", "build"]
        command += [f"--output={output}"] if output else ["--load"]
        if builder_name:
            command += ["--builder", builder_name]
        command += ["--progress=plain"]
    if tag:
        command += ["-t", tag]
    if dockerfile != "Dockerfile":
        command += ["-f", dockerfile]
    if target:
        command += ["--target", target]
    for key, value in (build_args or {}).items():
        command += ["--build-arg", f"{key}={value}"]
    for key, value in (labels or {}).items():
        command += ["--label", f"{key}={value}"]
    for key, path in (secrets or {}).items():
        command += ["--secret", f"id={key},src={path}"]
    if no_cache:
        command += ["--no-cache"]
    if iidfile is not None:
        command += ["--iidfile", str(iidfile)]
    command += list(options)
    command.append(".")
    return command


def error_line(log: Sequence[str], builder: Builder) -> str:
    """The builder's own one-line reason for a failed build.

    >>> error_line(["#5 ERROR: x", "ERROR: failed to solve: process \\"/bin/sh -c false\\" did not complete "
    ...             "successfully: exit code: 1"], "buildkit")
    'failed to solve: process "/bin/sh -c false" did not complete successfully: exit code: 1'
    >>> error_line(["Step 2/2 : RUN false", "The command '/bin/sh -c false' returned a non-zero code: 1"], "classic")
    "The command '/bin/sh -c false' returned a non-zero code: 1"
    """
    lines = [line.strip() for line in log if line.strip()]
    if builder == "buildkit":
        final = [line for line in lines if line.startswith("ERROR:")]
        if final:
            return final[-1].removeprefix("ERROR:").strip()
    for line in reversed(lines):
        if line.startswith(("Error response from daemon:", "ERROR:", "The command ", "error", "Error")):
            return line.removeprefix("ERROR:").strip()
    return lines[-1] if lines else "no output"


def docker_build(
    context: Path,
    tag: str | None,
    *,
    what: str,
    dockerfile: str = "Dockerfile",
    target: str | None = None,
    build_args: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    no_cache: bool = False,
    builder: Builder = "buildkit",
    host: str | None = None,
    secrets: Mapping[str, Path] | None = None,
    output: str | None = None,
    options: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 3600,
    root: Path | None = None,
) -> BuildResult:
    """Build ``context`` with the docker CLI and return the image ID, the log and the wall time.

    ``what`` names the thing built in error messages (``examples/hello``). ``host`` builds on
    another engine (a cold node). ``env`` adds variables such as ``SOURCE_DATE_EPOCH``. An image
    loaded into the engine is recorded in the ledger of the checkout ``root`` (default: the book's root).

    >>> docker_build(stage_context("hello"), "ch09/hello:latest", what="examples/hello").seconds  # doctest: +SKIP
    0.9
    """
    if builder == "buildkit":
        buildx_version()
    with tempfile.TemporaryDirectory(prefix="ch09-build-") as tmp:
        iidfile = Path(tmp) / "iid"
        command = build_command(
            tag, dockerfile=dockerfile, target=target, build_args=build_args, labels=labels,
            no_cache=no_cache, builder=builder, secrets=secrets, output=output, options=options, iidfile=iidfile,
            builder_name=_context_builder(host) if builder == "buildkit" else None,
        )
        run_env = cli_env(host)
        run_env["DOCKER_BUILDKIT"] = "1" if builder == "buildkit" else "0"
        run_env.update(env or {})
        command[0] = docker_cli()
        started = time.perf_counter()
        try:
            proc = subprocess.run(command, cwd=context, capture_output=True, text=True, env=run_env,
                                  timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise ExampleBuildError(f"{what}: docker build did not finish within {timeout:g}s.") from None
        seconds = time.perf_counter() - started
        # BuildKit writes its progress to stderr; the classic builder writes steps to stdout.
        log = tuple(line for line in (proc.stdout + "\n" + proc.stderr).splitlines() if line.strip())
        if builder == "classic" and host is None:
            # Every step leaves an image, and a multi-stage build's other stages stay behind as dangling images:
            # all recorded (the base images FROM names excepted), so cleanup removes them too, also after a failure.
            from dockerlab.ownership import record_image

            for step_image in classic_step_images(log):
                record_image(step_image, None, root)
        if proc.returncode != 0:
            cli = "docker buildx build" if builder == "buildkit" else "docker build (classic builder)"
            raise ExampleBuildError(f"{what}: {cli} failed: {error_line(log, builder)}")
        image_id = iidfile.read_text().strip() if iidfile.exists() else ""
    if host is None and (output is None or output.startswith("type=docker")):
        # Into the engine's own image store: recorded, so cleanup can tell the book's images from the reader's.
        from dockerlab.ownership import record_image

        record_image(image_id, tag, root)
    return BuildResult(image_id=image_id, log=log, seconds=seconds, builder=builder, command=tuple(command))


_CLASSIC_STEP = re.compile(r"^Step \d+/\d+ : (\S+)")
_CLASSIC_IMAGE = re.compile(r"^ ---> ([0-9a-f]{12})$")


def classic_step_images(log: Sequence[str]) -> list[str]:
    """The images a classic build made, one per step (``---> ID`` after each step), without the base images.

    The first ``---> ID`` after a ``FROM`` step is the base image itself, which the build did not make.

    >>> classic_step_images(["Step 1/3 : FROM debian:bookworm", " ---> a39cd400a029", "Step 2/3 : RUN true",
    ...                      " ---> Running in 0123456789ab", " ---> 5f1e2d3c4b5a", "Step 3/3 : CMD x",
    ...                      " ---> Using cache", " ---> 9a8b7c6d5e4f", "Successfully built 9a8b7c6d5e4f"])
    ['5f1e2d3c4b5a', '9a8b7c6d5e4f']
    """
    images: list[str] = []
    after_from = False
    for line in log:
        if step := _CLASSIC_STEP.match(line):
            after_from = step.group(1).upper() == "FROM"
        elif image := _CLASSIC_IMAGE.match(line):
            if after_from:
                after_from = False
                continue
            if image.group(1) not in images:
                images.append(image.group(1))
    return images


def step_output(log: Sequence[str]) -> list[str]:
    """What the build's steps printed (``RUN go test -v`` …), without BuildKit's ``#N 0.123`` prefixes.

    Classic-builder logs are returned as they are.

    >>> step_output(["#9 [test 1/1] RUN go test", "#9 0.512 --- PASS: TestHealth (0.00s)", "#9 DONE 1.2s"])
    ['--- PASS: TestHealth (0.00s)']
    """
    if not any(_STEP_OUTPUT.match(line) or _STEP_HEADER.match(line) for line in log):
        return list(log)
    return [m.group(3) for line in log if (m := _STEP_OUTPUT.match(line))]


@dataclass(frozen=True)
class LoggedStep:
    """One Dockerfile step as BuildKit's plain progress reports it."""

    stage: str  # the stage name (or index) in the header, "" for a single-stage build
    instruction: str
    cached: bool


def logged_steps(log: Sequence[str]) -> list[LoggedStep]:
    """The Dockerfile steps BuildKit solved in this build, in the order they were reported.

    A step is ``cached`` when BuildKit reused its result (``#N CACHED``). Steps of stages the
    target does not need never appear: BuildKit does not solve them.

    >>> logged_steps(["#5 [build 2/3] RUN go build", "#5 CACHED", "#6 [test 1/1] RUN go test", "#6 DONE 2.0s"])
    ... # doctest: +NORMALIZE_WHITESPACE
    [LoggedStep(stage='build', instruction='RUN go build', cached=True),
     LoggedStep(stage='test', instruction='RUN go test', cached=False)]
    """
    headers: dict[str, LoggedStep] = {}
    cached: set[str] = set()
    for line in log:
        if m := _STEP_HEADER.match(line):
            headers.setdefault(m.group(1), LoggedStep(m.group(2) or "", m.group(5).strip(), False))
        elif line.startswith("#") and line.split(" ", 1)[-1].strip() == "CACHED":
            cached.add(line.split(" ", 1)[0][1:])
    return [LoggedStep(s.stage, s.instruction, n in cached) for n, s in headers.items()]


#: ``#3 transferring context: 50.03MB 0.5s done`` (BuildKit) and ``Sending build context to Docker daemon  50.1MB``
#: (classic builder): how much of the build context the client sent, as the CLI prints it.
_BUILDKIT_SENT = re.compile(r"^#(\d+) transferring context: (\S+)")
_CLASSIC_SENT = re.compile(r"^Sending build context to Docker daemon\s+(\S+)")


def context_sent(log: Sequence[str]) -> str | None:
    """The build context the client sent, as the log says it (``50.03MB``); None when the log does not say.

    BuildKit reports it under its ``[internal] load build context`` step (the ``.dockerignore``
    step reports its own small "context"); the classic builder prints one line before step 1.

    >>> context_sent(["#2 [internal] load .dockerignore", "#2 transferring context: 2B done",
    ...               "#3 [internal] load build context", "#3 transferring context: 1.2MB 0.1s",
    ...               "#3 transferring context: 50.03MB 0.5s done"])
    '50.03MB'
    >>> context_sent(["Sending build context to Docker daemon  50.14MB", "Step 1/3 : FROM busybox"])
    '50.14MB'
    """
    step = next((m.group(1) for line in log if (m := re.match(r"^#(\d+) \[internal\] load build context$", line))),
                None)
    sent = None
    for line in log:
        if (m := _BUILDKIT_SENT.match(line)) and m.group(1) == step:
            sent = m.group(2)
        elif m := _CLASSIC_SENT.match(line):
            sent = m.group(1)
    return sent
