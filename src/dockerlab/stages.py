"""Which stages of a multi-stage Dockerfile a build needs, and which ones a builder actually built.

A Dockerfile is parsed for its stages and the stages each one uses (``FROM <stage>``,
``COPY --from=<stage>``, ``RUN --mount=...,from=<stage>``); :func:`needed_by` closes that over
a ``--target``. The two builders' logs are then read stage by stage, counting the same kind of
step for both -- the steps that change files (``RUN``, ``COPY``, ``ADD``, ``WORKDIR``), since
BuildKit's log leaves out the steps that only edit the image config (``ENV``, ``USER`` ...):

* :func:`classic_log_by_stage` reads the classic builder's ``Step N/M : ...`` lines; a ``RUN``
  ran when ``---> Running in <container>`` follows it (``---> Using cache`` otherwise);
* :func:`buildkit_log_by_stage` reads BuildKit's plain progress (``#9 [build 5/5] RUN ...``,
  ``#9 CACHED``); a stage the target does not need never shows up there.

>>> stages = dockerfile_stages("FROM golang AS build\\nFROM build AS test\\n"
...                            "FROM scratch AS app\\nCOPY --from=build /a /a")
>>> sorted(needed_by(stages, "app"))
['app', 'build']
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from dockerlab.build import logged_steps
from dockerlab.errors import DockerLabError

#: Instructions that write to the stage's filesystem: the steps both builders report.
FILE_STEPS = ("RUN", "COPY", "ADD", "WORKDIR")

_HEREDOC = re.compile(r"<<-?\s*([\"']?)([A-Za-z_][A-Za-z0-9_]*)\1")
_CLASSIC_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_DONE = re.compile(r"^#(\d+) DONE (\d+(?:\.\d+)?)s$")
#: ``#12 [build 3/6] RUN go build`` -- a step's header in BuildKit's plain progress.
_STEP_HEADER = re.compile(r"^#(\d+) \[(?:(\S+) )?(\d+)/(\d+)\] (.*)$")
_STEP_END = re.compile(r"^#(\d+) (?:DONE|CACHED|ERROR)")


@dataclass(frozen=True)
class Stage:
    """One ``FROM`` of a Dockerfile: its name (``stage-N`` when it has none, as BuildKit says), its
    position, its base (an image or an earlier stage) and the earlier stages it uses."""

    name: str
    index: int
    base: str
    uses: frozenset[str]


@dataclass(frozen=True)
class StageWork:
    """What one builder did for one stage: the file steps it reported, how many came from the
    cache, and how many ``RUN`` steps really ran a command."""

    steps: int
    cached: int
    runs: int


def instructions(text: str) -> Iterator[str]:
    """The instructions of a Dockerfile, one string each: comments dropped, ``\\`` continuations
    joined, heredoc bodies (``RUN <<EOF`` ... ``EOF``) skipped.

    >>> list(instructions("# c\\nFROM a AS b\\nRUN x \\\\\\n    && y\\nRUN <<EOF\\nFROM not-a-stage\\nEOF\\n"))
    ['FROM a AS b', 'RUN x && y', 'RUN <<EOF']
    """
    pending: list[str] = []
    heredocs: list[str] = []
    for raw in text.splitlines():
        if heredocs:
            if raw.strip() == heredocs[0]:
                heredocs.pop(0)
            continue
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):  # comment lines inside a continued instruction
            continue
        if line.endswith("\\"):
            pending.append(line[:-1].strip())
            continue
        pending.append(line)
        instruction = " ".join(part for part in pending if part)
        pending = []
        heredocs = [m.group(2) for m in _HEREDOC.finditer(instruction)]
        yield instruction
    if pending:
        yield " ".join(part for part in pending if part)


def _flags(words: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Split ``--name=value`` flags from the arguments of one instruction."""
    flags: dict[str, list[str]] = {}
    rest: list[str] = []
    for word in words:
        if word.startswith("--") and not rest:
            name, _, value = word[2:].partition("=")
            flags.setdefault(name.lower(), []).append(value)
        else:
            rest.append(word)
    return flags, rest


def _split(instruction: str) -> list[str]:
    try:
        return shlex.split(instruction)
    except ValueError:  # an unbalanced quote in a RUN command: the flags come first anyway
        return instruction.split()


def dockerfile_stages(text: str) -> dict[str, Stage]:
    """The stages of a Dockerfile in order, by name, with the earlier stages each one uses.

    A stage uses another through ``FROM <stage>``, ``COPY --from=<stage>`` (a name or an index)
    and ``RUN --mount=type=bind|cache,from=<stage>``. ``--from=<image>`` names no stage and is left out.

    >>> s = dockerfile_stages("FROM golang:1.19 AS build\\nFROM build AS test\\n"
    ...                       "FROM scratch\\nCOPY --link --from=0 /a /a")
    >>> [(x.name, x.base, sorted(x.uses)) for x in s.values()]
    [('build', 'golang:1.19', []), ('test', 'build', ['build']), ('stage-2', 'scratch', ['build'])]
    """
    stages: dict[str, Stage] = {}
    by_index: list[str] = []
    current: str | None = None
    uses: set[str] = set()

    def resolve(ref: str) -> str | None:
        if ref.isdigit() and int(ref) < len(by_index):
            return by_index[int(ref)]
        lowered = ref.lower()
        return lowered if lowered in stages else None

    def close() -> None:
        if current is not None:
            old = stages[current]
            stages[current] = Stage(old.name, old.index, old.base, frozenset(uses))

    for instruction in instructions(text):
        keyword, _, rest = instruction.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            close()
            _, args = _flags(_split(rest))
            if not args:
                raise DockerLabError(f"a FROM without an image in the Dockerfile: {instruction!r}")
            base = args[0]
            name = args[2].lower() if len(args) >= 3 and args[1].lower() == "as" else f"stage-{len(by_index)}"
            uses = set()
            if (used := resolve(base)) is not None:
                uses.add(used)
            stages[name] = Stage(name, len(by_index), base, frozenset())
            by_index.append(name)
            current = name
        elif current is not None and keyword in ("COPY", "ADD", "RUN"):
            flags, _ = _flags(_split(rest))
            refs = list(flags.get("from", []))
            for mount in flags.get("mount", []):
                options = dict(part.partition("=")[::2] for part in mount.split(","))
                if "from" in options:
                    refs.append(options["from"])
            for ref in refs:
                if (used := resolve(ref)) is not None:
                    uses.add(used)
    close()
    return stages


def needed_by(stages: Mapping[str, Stage], target: str) -> set[str]:
    """``target`` and every stage it uses, directly or through another stage: what BuildKit builds.

    >>> sorted(needed_by(dockerfile_stages("FROM a AS x\\nFROM x AS y\\nFROM b AS z"), "y"))
    ['x', 'y']
    """
    if target not in stages:
        raise DockerLabError(f"the Dockerfile has no stage named {target!r} (it has: {', '.join(stages)}).")
    todo, seen = [target], set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(stages[name].uses)
    return seen


def stages_through(stages: Mapping[str, Stage], target: str) -> list[str]:
    """``target`` and every stage written before it, in order: what the classic builder builds.

    >>> stages_through(dockerfile_stages("FROM a AS x\\nFROM b AS y\\nFROM c AS z"), "y")
    ['x', 'y']
    """
    if target not in stages:
        raise DockerLabError(f"the Dockerfile has no stage named {target!r} (it has: {', '.join(stages)}).")
    return [name for name, stage in stages.items() if stage.index <= stages[target].index]


def _keyword(instruction: str) -> str:
    return instruction.split(" ", 1)[0].upper()


def classic_log_by_stage(log: Iterable[str]) -> dict[str, StageWork]:
    """The classic builder's log (``DOCKER_BUILDKIT=0 docker build``) stage by stage, in build order.

    Every stage whose ``FROM`` step is in the log is there, also one with no file step.

    >>> classic_log_by_stage(["Step 1/4 : FROM golang AS build", " ---> 34b1", "Step 2/4 : RUN go build",
    ...     " ---> Using cache", "Step 3/4 : FROM build AS test", "Step 4/4 : RUN go test", " ---> Running in 9593"])
    {'build': StageWork(steps=1, cached=1, runs=0), 'test': StageWork(steps=1, cached=0, runs=1)}
    """
    counts: dict[str, list[int]] = {}
    current: str | None = None
    step: str | None = None
    for line in log:
        if m := _CLASSIC_STEP.match(line.strip()):
            step = m.group(3).strip()
            if _keyword(step) == "FROM":
                _, args = _flags(_split(step.partition(" ")[2]))
                current = args[2].lower() if len(args) >= 3 and args[1].lower() == "as" else f"stage-{len(counts)}"
                counts[current] = [0, 0, 0]
            elif current is not None and _keyword(step) in FILE_STEPS:
                counts[current][0] += 1
        elif current is not None and step is not None and _keyword(step) in FILE_STEPS:
            text = line.strip()
            if text == "---> Using cache":
                counts[current][1] += 1
            elif text.startswith("---> Running in ") and _keyword(step) == "RUN":
                counts[current][2] += 1
                step = None  # one container per RUN step
    return {name: StageWork(*c) for name, c in counts.items()}


def buildkit_log_by_stage(log: Sequence[str]) -> dict[str, StageWork]:
    """BuildKit's plain progress (``docker buildx build --progress=plain``) stage by stage.

    A step BuildKit reported twice (it may solve the same instruction under two step numbers)
    counts once, and ran if either report ran. ``FROM`` steps are left out, and so a stage is
    here only through its file steps: a base image used by two stages is one step, reported
    under either name, so it tells nothing about which stage was built.

    >>> buildkit_log_by_stage(["#4 [build 1/3] FROM docker.io/library/golang:1.19", "#4 CACHED",
    ...     "#5 [build 3/3] RUN go build", "#5 CACHED", "#6 [app 1/1] COPY --from=build /a /a", "#6 DONE 0.1s"])
    {'build': StageWork(steps=1, cached=1, runs=0), 'app': StageWork(steps=1, cached=0, runs=0)}
    """
    seen: dict[str, dict[str, bool]] = {}
    for step in logged_steps(log):
        if _keyword(step.instruction) in FILE_STEPS:
            steps = seen.setdefault(step.stage, {})
            steps[step.instruction] = steps.get(step.instruction, True) and step.cached
    return {
        stage: StageWork(
            steps=len(steps),
            cached=sum(steps.values()),
            runs=sum(1 for instruction, cached in steps.items() if not cached and _keyword(instruction) == "RUN"),
        )
        for stage, steps in seen.items()
    }


@dataclass(frozen=True)
class TimedStep:
    """One BuildKit step and the seconds its ``#N DONE`` line reports (None when it came from the cache)."""

    number: int
    stage: str
    instruction: str
    seconds: float | None


def timed_steps(log: Sequence[str]) -> list[TimedStep]:
    """BuildKit's steps with their own duration (``#9 DONE 57.0s``), in the order they started.

    >>> timed_steps(["#9 [build 4/4] RUN go build", "#9 ...", "#9 DONE 57.0s",
    ...              "#5 [build 2/4] WORKDIR /src", "#5 CACHED"])  # doctest: +NORMALIZE_WHITESPACE
    [TimedStep(number=9, stage='build', instruction='RUN go build', seconds=57.0),
     TimedStep(number=5, stage='build', instruction='WORKDIR /src', seconds=None)]
    """
    headers: dict[int, tuple[str, str]] = {}
    done: dict[int, float] = {}
    for line in log:
        if m := _STEP_HEADER.match(line):
            headers.setdefault(int(m.group(1)), (m.group(2) or "", m.group(5).strip()))
        elif m := _DONE.match(line.strip()):
            done[int(m.group(1))] = float(m.group(2))
    return [TimedStep(n, stage, instruction, done.get(n)) for n, (stage, instruction) in headers.items()]


def step_seconds(log: Sequence[str], contains: str) -> float:
    """The duration of the one step whose instruction contains ``contains`` and that ran (not cached).

    >>> step_seconds(["#9 [build 4/4] RUN go build -o /app .", "#9 DONE 0.8s"], "go build")
    0.8
    """
    found = [s.seconds for s in timed_steps(log) if contains in s.instruction and s.seconds is not None]
    if len(found) != 1:
        raise DockerLabError(f"expected one step with {contains!r} that ran in the build log, found {len(found)}.")
    return found[0]


def concurrent_steps(log: Sequence[str]) -> list[tuple[str, str]]:
    """Pairs of steps (``stage: instruction``) that were running at the same time, read from the order of
    BuildKit's log: a step started (its header) before another one that had started was done.

    >>> concurrent_steps(["#9 [build 4/4] RUN go build", "#10 [certs 3/3] RUN update-ca-certificates",
    ...     "#10 DONE 7.3s", "#9 DONE 57.0s", "#11 [app 1/2] COPY /a /a", "#11 DONE 0.0s"])
    [('build: RUN go build', 'certs: RUN update-ca-certificates')]
    """
    spans: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for at, line in enumerate(log):
        if m := _STEP_HEADER.match(line):
            number = int(m.group(1))
            names.setdefault(number, f"{m.group(2) or ''}: {m.group(5).strip()}")
            spans.setdefault(number, [at, at])
        elif m := _STEP_END.match(line):
            if int(m.group(1)) in spans:
                spans[int(m.group(1))][1] = at
    ordered = sorted(spans.items(), key=lambda item: item[1][0])
    pairs = []
    for i, (a, (a_start, a_end)) in enumerate(ordered):
        for b, (b_start, b_end) in ordered[i + 1:]:
            if b_start < a_end and a_start < b_end:
                pairs.append((names[a], names[b]))
    return pairs
