"""Build and run the book's examples (``examples/<name>/``) on the real engine."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docker.errors import APIError

from dockerlab.build import Builder, BuildResult, docker_build
from dockerlab.engine import remove_quietly, resolve_client
from dockerlab.errors import DockerLabError
from dockerlab.measure import ImageStats, image_stats

# The book's labels live in dockerlab.ownership; their names stay importable from here.
from dockerlab.ownership import EXAMPLE_LABEL, PROJECT, PROJECT_LABEL, container_labels, image_labels  # noqa: F401


def project_root(start: Path | None = None) -> Path:
    """Return the book's root: ``$CH09_ROOT``, else the nearest folder up from ``start`` (cwd) with
    ``examples/`` and ``conf.py``."""
    env = os.environ.get("CH09_ROOT")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "examples").is_dir() and (folder / "conf.py").is_file():
            return folder
    raise DockerLabError(
        f"cannot find the book's root (a folder with examples/ and conf.py) above {here}; set CH09_ROOT."
    )


def example_dir(name: str, root: Path | None = None) -> Path:
    """Return ``examples/<name>`` and check it exists."""
    path = (root or project_root()) / "examples" / name
    if not path.is_dir():
        raise DockerLabError(f"there is no example named {name!r} (looked for {path}).")
    return path


def work_dir(name: str, root: Path | None = None) -> Path:
    """A scratch folder for build contexts and artifacts, outside ``examples/`` so builds never touch the sources."""
    path = (root or project_root()) / "_build" / "work" / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def stage_context(name: str, root: Path | None = None, folder: str | None = None) -> Path:
    """Copy ``examples/<name>`` into a fresh build context ``_build/work/contexts/<folder or name>`` and return it.

    BuildKit remembers what it received from a context folder and sends only changed files the
    next time; a ``folder`` of its own makes a build's context transfer a first one.
    """
    source = example_dir(name, root)
    context = work_dir("contexts", root) / (folder or name)
    if context.exists():
        shutil.rmtree(context)
    shutil.copytree(source, context, symlinks=True)
    return context


@dataclass(frozen=True)
class BuiltImage:
    """An image built from an example, with its measurements and the build (log, wall time, command)."""

    example: str
    stats: ImageStats
    build: BuildResult

    @property
    def tag(self) -> str:
        return self.stats.tag

    @property
    def log(self) -> tuple[str, ...]:
        return self.build.log

    @property
    def seconds(self) -> float:
        """Wall time of the build, as ``time docker buildx build …`` would report it."""
        return self.build.seconds


def build_example(
    name: str,
    tag: str,
    *,
    dockerfile: str = "Dockerfile",
    prepare: Callable[[Path], None] | None = None,
    target: str | None = None,
    buildargs: dict[str, str] | None = None,
    nocache: bool = False,
    builder: Builder = "buildkit",
    secrets: Mapping[str, Path] | None = None,
    options: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    host: str | None = None,
    client: Any | None = None,
    root: Path | None = None,
    context_folder: str | None = None,
) -> BuiltImage:
    """Build ``examples/<name>`` as ``tag`` (``docker buildx build --load -t TAG .``) and measure it.

    ``prepare(context)`` runs on the staged copy before the build, e.g. to compile a binary
    into the context. ``nocache`` builds cold (``--no-cache``). ``builder="classic"`` builds with
    the classic builder (``DOCKER_BUILDKIT=0 docker build``). ``host`` and ``client`` name another
    engine (a cold node). ``context_folder`` stages the context in a folder of its own (see
    :func:`stage_context`). A failing build raises :class:`ExampleBuildError` naming the example
    and the builder's own error line.

    >>> build_example("hello", "ch09/hello:latest", prepare=compile_hello).stats.human  # doctest: +SKIP
    '1.82MB'
    """
    client = resolve_client(client)
    context = stage_context(name, root, context_folder)
    if prepare is not None:
        prepare(context)
    result = docker_build(
        context, tag, what=f"examples/{name}", dockerfile=dockerfile, target=target, build_args=buildargs,
        labels=image_labels(name), no_cache=nocache, builder=builder, host=host,
        secrets=secrets, options=options, env=env, root=root,
    )
    return BuiltImage(example=name, stats=image_stats(tag, client), build=result)


@dataclass(frozen=True)
class RunOutcome:
    """What one container run ended with."""

    status: int | None  # the exit status; None when the engine refused to start the container
    output: str  # the container's output, or the engine's error message when it did not start

    @property
    def ok(self) -> bool:
        return self.status == 0

    @property
    def started(self) -> bool:
        return self.status is not None


def try_run(
    tag: str, command: str | list[str] | None = None, *, client: Any | None = None, **kwargs: Any
) -> RunOutcome:
    """Run ``tag`` once like ``docker container run --rm TAG [COMMAND]``; report failure instead of raising.

    The container runs with no capabilities and no new privileges, is labelled, and is
    always removed. For steps shown *because* they fail (no CA bundle, no shell ...).

    >>> try_run("ch09/hello:latest", ["sh"]).output  # doctest: +SKIP
    'OCI runtime create failed: ... exec: "sh": executable file not found in $PATH: unknown'
    """
    client = resolve_client(client)
    kwargs.setdefault("cap_drop", ["ALL"])
    kwargs.setdefault("security_opt", ["no-new-privileges"])
    labels = container_labels(kwargs.pop("labels", None))
    container = client.containers.create(tag, command, labels=labels, **kwargs)
    try:
        try:
            container.start()
        except APIError as err:
            return RunOutcome(None, " ".join(str(getattr(err, "explanation", None) or err).split()))
        result = container.wait(timeout=600)
        output = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
        return RunOutcome(int(result.get("StatusCode", 1)), output)
    finally:
        remove_quietly(container, force=True)


def run_image(
    tag: str,
    command: str | list[str] | None = None,
    *,
    client: Any | None = None,
    **kwargs: Any,
) -> str:
    """Run ``tag`` once like ``docker container run --rm TAG [COMMAND]`` and return its output.

    Same defaults as :func:`try_run`; a container that fails or cannot start raises
    :class:`DockerLabError` with one sentence.
    """
    outcome = try_run(tag, command, client=client, **kwargs)
    if not outcome.started:
        raise DockerLabError(f"container of {tag} could not start: {outcome.output}")
    if not outcome.ok:
        raise DockerLabError(f"container of {tag} exited with status {outcome.status}: {outcome.output.strip()[-500:]}")
    return outcome.output
