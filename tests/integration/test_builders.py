"""The same Dockerfile and target on the real engine: the classic builder runs the unused test stage's RUN,
BuildKit never reaches it (read from the two builds' logs)."""

from __future__ import annotations

import uuid

import pytest

from dockerlab import build_example, ensure_base
from dockerlab.build import step_output
from dockerlab.errors import ExampleBuildError
from dockerlab.examples import example_dir
from dockerlab.service import add_internal_ca
from dockerlab.stages import buildkit_log_by_stage, classic_log_by_stage, dockerfile_stages, needed_by, stages_through
from tests.conftest import ROOT

TARGET = "runtime-scratch"


@pytest.fixture(scope="module", autouse=True)
def bases() -> None:
    for base in ("golang:1.19", "busybox:latest", "ch09/distroless-static:debian12"):
        ensure_base(base)


def _build(tracked, builder: str, **kwargs):
    tag = tracked.image(f"ch09/test-builders:{builder}")
    return build_example("webapi", tag, prepare=add_internal_ca, builder=builder, root=ROOT, **kwargs)


def test_only_the_classic_builder_runs_the_test_stage_the_target_does_not_need(tracked) -> None:
    stages = dockerfile_stages((example_dir("webapi", ROOT) / "Dockerfile").read_text())
    needed = needed_by(stages, TARGET)
    assert "test" not in needed
    run = {"TEST_RUN": uuid.uuid4().hex}  # nothing of the test stage can come from a cache
    buildkit = _build(tracked, "buildkit", target=TARGET, buildargs=run)
    classic = _build(tracked, "classic", target=TARGET, buildargs=run)

    bk = buildkit_log_by_stage(buildkit.log)
    cl = classic_log_by_stage(classic.log)
    assert set(bk) == needed
    assert list(cl) == stages_through(stages, TARGET)
    assert cl["test"].runs == 1 and "test" not in bk
    assert any(line.startswith("--- PASS") for line in classic.log)
    assert not any(line.startswith("--- PASS") for line in step_output(buildkit.log))
    # Both made the same runtime: the binary and the CA bundle on scratch.
    assert buildkit.stats.layers == classic.stats.layers == 2


def test_the_buildkit_dockerfile_builds_with_buildkit_and_the_classic_builder_refuses_it(tracked) -> None:
    built = _build(tracked, "buildkit", dockerfile="Dockerfile.buildkit", target=TARGET)
    assert built.stats.layers == 2
    with pytest.raises(ExampleBuildError, match="requires BuildKit|Unknown flag"):
        _build(tracked, "classic", dockerfile="Dockerfile.buildkit", target=TARGET)
