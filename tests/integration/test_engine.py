"""The engine script and the CLI fail with one clear sentence when no engine answers."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

ENGINE = ["docker.io", "docker-cli", "docker-buildx", "containerd"]

NOWHERE = "unix:///tmp/ch09-no-engine-here.sock"


def test_ensure_docker_with_a_dead_docker_host_fails_in_one_sentence() -> None:
    proc = subprocess.run([str(ROOT / "scripts" / "ensure-docker")], capture_output=True, text=True,
                          env={**os.environ, "DOCKER_HOST": NOWHERE}, timeout=60)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines == [f"ensure-docker: error: DOCKER_HOST={NOWHERE} is set but no Docker engine answers there; "
                     "start that engine or unset DOCKER_HOST."]


def test_ensure_docker_with_a_live_engine_does_nothing_and_records_no_pid(engine, tmp_path) -> None:
    # .ci/run stops only the dockerd whose PID ensure-docker recorded: none, for an engine it did not start.
    record = tmp_path / "dockerd.pid"
    record.write_text("")
    proc = subprocess.run([str(ROOT / "scripts" / "ensure-docker")], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "DOCKERD_RECORD": str(record)})
    assert proc.returncode == 0
    assert proc.stderr == ""
    assert record.read_text() == ""


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


def _debian_12_with_engine_from_install_deps() -> bool:
    release = Path("/etc/os-release").read_text() if Path("/etc/os-release").exists() else ""
    if 'VERSION_ID="12"' not in release or "ID=debian" not in release:
        return False
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "docker.io"], capture_output=True, text=True)
    return proc.returncode == 0 and "deb13" in proc.stdout


@pytest.mark.skipif(not _debian_12_with_engine_from_install_deps(),
                    reason="only on Debian 12 where scripts/install-deps took the engine from Debian 13")
def test_engine_packages_from_debian_13_upgraded_nothing_else(engine) -> None:
    # The four packages are installed, and no configured source offers their versions (they came from Debian 13).
    listed = subprocess.run(["apt", "list", "--installed"], capture_output=True, text=True, check=True).stdout
    local = {line.split("/")[0]: line.split()[1] for line in listed.splitlines() if "[installed,local]" in line}
    assert set(ENGINE) <= set(local), local
    # Nothing else on the machine carries a Debian 13 version.
    assert {name for name, version in local.items() if "deb13" in version} <= set(ENGINE)
    # The machine's own sources never learned of Debian 13, and an upgrade would take nothing from it.
    sources = [p for p in Path("/etc/apt").rglob("*") if p.is_file() and p.suffix in (".list", ".sources")]
    assert not [p for p in sources if "trixie" in p.read_text()], sources
    upgrade = subprocess.run(["apt-get", "-s", "upgrade"], capture_output=True, text=True, check=True).stdout
    assert not [line for line in upgrade.splitlines() if "Debian:13" in line or "trixie" in line]
    # And the engine that answers is that one, with BuildKit's CLI plugin.
    packaged = local["docker.io"].split("+")[0]
    assert engine.version()["Version"].split("+")[0] == packaged
    assert subprocess.run(["docker", "buildx", "version"], capture_output=True).returncode == 0
