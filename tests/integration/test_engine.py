"""The engine script and the CLI fail with one clear sentence when no engine answers."""

import os
import subprocess
import sys

from tests.conftest import ROOT

NOWHERE = "unix:///tmp/ch09-no-engine-here.sock"


def test_ensure_docker_with_a_dead_docker_host_fails_in_one_sentence() -> None:
    proc = subprocess.run([str(ROOT / "scripts" / "ensure-docker")], capture_output=True, text=True,
                          env={**os.environ, "DOCKER_HOST": NOWHERE}, timeout=60)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines == [f"ensure-docker: error: DOCKER_HOST={NOWHERE} is set but no Docker engine answers there; "
                     "start that engine or unset DOCKER_HOST."]


def test_ensure_docker_with_a_live_engine_does_nothing(engine) -> None:
    proc = subprocess.run([str(ROOT / "scripts" / "ensure-docker")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert proc.stderr == ""


def test_cli_reports_engine_down_in_one_line() -> None:
    proc = subprocess.run([sys.executable, "-m", "dockerlab", "bases"], capture_output=True, text=True,
                          env={**os.environ, "DOCKER_HOST": NOWHERE}, timeout=60, cwd=ROOT)
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("dockerlab: error: No Docker engine answers; run `scripts/ensure-docker`")


def test_cli_reports_an_unreachable_registry_in_one_line(engine) -> None:
    proc = subprocess.run([sys.executable, "-m", "dockerlab", "bases", "ch09test/missing:1"], capture_output=True,
                          text=True, env={**os.environ, "CH09_REGISTRY": "127.0.0.1:9"}, timeout=120, cwd=ROOT)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("dockerlab: error: ch09test/missing:1 is not available in this build: ")
    assert "cannot pull 127.0.0.1:9/ch09test/missing:1" in lines[0] and "connection refused" in lines[0]
