"""Reading a multi-stage Dockerfile's dependencies and the two builders' logs, stage by stage (no daemon)."""

from __future__ import annotations

import doctest

import pytest

from dockerlab import stages as stagesmod
from dockerlab.errors import DockerLabError
from dockerlab.stages import (
    StageWork,
    buildkit_log_by_stage,
    classic_log_by_stage,
    concurrent_steps,
    dockerfile_stages,
    instructions,
    needed_by,
    stages_through,
    step_seconds,
    timed_steps,
)
from tests.conftest import ROOT

# The shape of examples/webapi/Dockerfile, with the spellings a parser must not trip over.
DOCKERFILE = """\
# A comment that mentions FROM scratch AS nothing
ARG GO=golang:1.19
FROM --platform=$BUILDPLATFORM ${GO} as Build
WORKDIR /src
COPY go.mod *.go ./
RUN go build \\
    -o /out/app .

FROM build AS test
ARG TEST_RUN=default
RUN go test ./...

FROM golang:1.19 AS certs
RUN <<EOF
FROM not-a-stage AS heredoc
EOF

FROM scratch AS runtime-no-ca
COPY --from=build /out/app /app

FROM scratch AS runtime
COPY --link --from=certs /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=1 /out/app /app
COPY --from=busybox:latest /bin/busybox /busybox

FROM busybox:latest
RUN --mount=type=bind,from=runtime,target=/r ls /r
"""

# What `DOCKER_BUILDKIT=0 docker build --target runtime-scratch` printed (Engine 26.1.5, cut short).
CLASSIC_LOG = """\
Sending build context to Docker daemon  16.38kB
Step 1/14 : FROM golang:1.19 AS build
 ---> 34b1c5f56ebc
Step 2/14 : WORKDIR /src
 ---> Using cache
 ---> 3c8116bdbd46
Step 3/14 : COPY go.mod ./
 ---> Using cache
 ---> 6115f41b6bf8
Step 4/14 : ENV CGO_ENABLED=0 GOPROXY=off
 ---> Using cache
 ---> bc1fe1a3455d
Step 5/14 : RUN go build -trimpath -ldflags="-s -w" -o /out/webapi .
 ---> Using cache
 ---> f911652eb8eb
Step 6/14 : FROM build AS test
 ---> f911652eb8eb
Step 7/14 : ARG TEST_RUN=default
 ---> Running in 9d65f88c4740
 ---> Removed intermediate container 9d65f88c4740
 ---> e6d18a226e3d
Step 8/14 : RUN go vet ./... && go test -v ./...
 ---> Running in 9593598f96c0
--- PASS: TestHealthz (0.00s)
 ---> Removed intermediate container 9593598f96c0
 ---> abbfa1bb39bd
Step 9/14 : FROM golang:1.19 AS certs
 ---> 34b1c5f56ebc
Step 10/14 : COPY internal-ca.crt /usr/local/share/ca-certificates/ch09-internal-ca.crt
 ---> Using cache
 ---> 7ba4e5049ca3
Step 11/14 : FROM scratch AS runtime-scratch
 ---> 
Step 12/14 : COPY --from=build /out/webapi /webapi
 ---> b74ddd20d6fd
Step 13/14 : USER 65532:65532
 ---> Running in 69bcd101d89f
 ---> Removed intermediate container 69bcd101d89f
 ---> 1aa59aa18131
Step 14/14 : LABEL org.ch09book.project=ch09
 ---> Running in 1b8fe1ff3cd4
 ---> 911ac506007d
Successfully built 911ac506007d
""".splitlines()  # noqa: W291 - the classic builder prints " ---> " with a trailing space

# What `docker buildx build --progress=plain --target test` printed (buildx 0.13.1): BuildKit reported the
# build stage twice, once run and once from the cache, and named the shared golang base after `certs`.
BUILDKIT_LOG = """\
#0 building with "default" instance using docker driver
#1 [internal] load build definition from Dockerfile
#1 DONE 0.1s
#4 [build 2/5] WORKDIR /src
#4 CACHED
#5 [certs 1/3] FROM docker.io/library/golang:1.19
#5 CACHED
#7 [build 3/5] COPY go.mod ./
#7 DONE 0.1s
#9 [build 5/5] RUN go build -trimpath -ldflags="-s -w" -o /out/webapi .
#9 DONE 69.6s
#10 [build 3/5] COPY go.mod ./
#10 CACHED
#12 [build 5/5] RUN go build -trimpath -ldflags="-s -w" -o /out/webapi .
#12 CACHED
#13 [test 1/1] RUN go vet ./... && go test -v ./...
#13 21.37 --- PASS: TestHealthz (0.00s)
#13 DONE 21.7s
#14 exporting to image
#14 DONE 0.4s
""".splitlines()


def test_the_doctests_pass() -> None:
    assert doctest.testmod(stagesmod).failed == 0


def test_instructions_join_continuations_and_skip_comments_and_heredoc_bodies() -> None:
    found = list(instructions(DOCKERFILE))
    assert "RUN go build -o /out/app ." in found
    assert not any("nothing" in i or "heredoc" in i for i in found)
    assert found[0] == "ARG GO=golang:1.19"


def test_stages_their_bases_and_what_they_use() -> None:
    stages = dockerfile_stages(DOCKERFILE)
    assert list(stages) == ["build", "test", "certs", "runtime-no-ca", "runtime", "stage-5"]
    assert stages["build"].base == "${GO}" and stages["build"].uses == frozenset()
    assert stages["test"].uses == {"build"}
    assert stages["runtime-no-ca"].uses == {"build"}
    # --from by name, by index (1 is `test`), and from an image (no stage).
    assert stages["runtime"].uses == {"certs", "test"}
    assert stages["stage-5"].uses == {"runtime"} and stages["stage-5"].index == 5


def test_needed_by_follows_dependencies_through_other_stages() -> None:
    stages = dockerfile_stages(DOCKERFILE)
    assert needed_by(stages, "runtime") == {"runtime", "certs", "test", "build"}
    assert needed_by(stages, "runtime-no-ca") == {"runtime-no-ca", "build"}
    assert needed_by(stages, "certs") == {"certs"}
    with pytest.raises(DockerLabError, match="no stage named 'nope'"):
        needed_by(stages, "nope")


def test_stages_through_is_what_the_classic_builder_builds() -> None:
    stages = dockerfile_stages(DOCKERFILE)
    assert stages_through(stages, "certs") == ["build", "test", "certs"]
    assert stages_through(stages, "build") == ["build"]


def test_the_webapi_dockerfile_runtime_does_not_need_the_test_stage() -> None:
    stages = dockerfile_stages((ROOT / "examples" / "webapi" / "Dockerfile").read_text())
    assert needed_by(stages, "runtime-scratch") == {"runtime-scratch", "build", "certs"}
    assert set(stages_through(stages, "runtime-scratch")) - needed_by(stages, "runtime-scratch") == {
        "test", "runtime-scratch-no-ca"}


def test_classic_log_counts_file_steps_cache_hits_and_runs_that_ran() -> None:
    work = classic_log_by_stage(CLASSIC_LOG)
    assert list(work) == ["build", "test", "certs", "runtime-scratch"]
    # WORKDIR, COPY, RUN: the ENV step changes no file and is not counted.
    assert work["build"] == StageWork(steps=3, cached=3, runs=0)
    # ARG ran a container too, but only a RUN counts as a command that ran.
    assert work["test"] == StageWork(steps=1, cached=0, runs=1)
    assert work["certs"] == StageWork(steps=1, cached=1, runs=0)
    # USER and the book's LABEL steps are config only.
    assert work["runtime-scratch"] == StageWork(steps=1, cached=0, runs=0)


def test_classic_log_names_a_stage_without_as_like_buildkit() -> None:
    work = classic_log_by_stage(["Step 1/2 : FROM busybox", "Step 2/2 : RUN true", " ---> Running in 1"])
    assert work == {"stage-0": StageWork(steps=1, cached=0, runs=1)}


def test_buildkit_log_counts_each_instruction_once_and_leaves_out_from() -> None:
    work = buildkit_log_by_stage(BUILDKIT_LOG)
    # The FROM step named after `certs` does not make `certs` a stage this build worked on.
    assert set(work) == {"build", "test"}
    assert work["build"] == StageWork(steps=3, cached=1, runs=1)
    assert work["test"] == StageWork(steps=1, cached=0, runs=1)


def test_a_cached_buildkit_run_did_not_run() -> None:
    work = buildkit_log_by_stage(["#6 [test 1/1] RUN go test", "#6 CACHED"])
    assert work["test"] == StageWork(steps=1, cached=1, runs=0)


def test_step_times_come_from_done_lines_and_cached_steps_have_none() -> None:
    timed = {s.instruction: s.seconds for s in timed_steps(BUILDKIT_LOG)}
    assert timed["RUN go vet ./... && go test -v ./..."] == 21.7
    assert timed["WORKDIR /src"] is None
    assert step_seconds(BUILDKIT_LOG, "go test") == 21.7
    assert step_seconds(BUILDKIT_LOG, "go build") == 69.6  # the second report was CACHED
    with pytest.raises(DockerLabError, match="found 0"):
        step_seconds(BUILDKIT_LOG, "update-ca-certificates")


def test_concurrent_steps_from_the_order_of_the_log() -> None:
    log = ["#9 [build 4/4] RUN go build", "#9 ...", "#10 [certs 3/3] RUN update-ca-certificates",
           "#10 6.99 done.", "#10 DONE 7.3s", "#9 [build 4/4] RUN go build", "#9 DONE 57.0s",
           "#12 [app 2/2] COPY --from=build /a /a", "#12 DONE 0.0s"]
    assert concurrent_steps(log) == [("build: RUN go build", "certs: RUN update-ca-certificates")]
    # One after the other: nothing overlaps.
    assert concurrent_steps(["#1 [a 1/1] RUN x", "#1 DONE 1.0s", "#2 [b 1/1] RUN y", "#2 DONE 1.0s"]) == []
