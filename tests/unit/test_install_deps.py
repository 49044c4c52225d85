"""scripts/install-deps, run against stand-ins for apt-get, dpkg-query and docker that record what
they are asked: on Debian 12 exactly the four engine packages come from Debian 13, fetched with an
apt state of their own; the machine's own sources serve everything else."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

ENGINE = ["docker.io", "docker-cli", "docker-buildx", "containerd"]

APT_GET = r"""#!/bin/sh
# Records each call; `download` leaves a .deb per package in the current folder, like apt-get does.
printf '%s\n' "$*" >> "$FAKE_LOG/apt-get"
for arg in "$@"; do
  case "$arg" in Dir::Etc::SourceList=*) cp "${arg#Dir::Etc::SourceList=}" "$FAKE_LOG/sources.list" ;; esac
done
case " $* " in
  *" download "*)
    after=0
    for arg in "$@"; do
      if [ "$after" = 1 ]; then case "$arg" in -*) ;; *) : > "${arg}_1.0_amd64.deb" ;; esac; fi
      [ "$arg" = download ] && after=1
    done ;;
esac
exit 0
"""


@pytest.fixture
def fakes(tmp_path: Path):
    bindir = tmp_path / "bin"
    log = tmp_path / "log"
    bindir.mkdir()
    log.mkdir()
    (bindir / "apt-get").write_text(APT_GET)
    (bindir / "dpkg-query").write_text("#!/bin/sh\nexit 1\n")  # nothing is installed
    # `apt-cache show PKG` succeeds for what the distribution offers (all but $FAKE_UNAVAILABLE).
    (bindir / "apt-cache").write_text(
        '#!/bin/sh\nfor p in $FAKE_UNAVAILABLE; do [ "$p" = "$2" ] && exit 100; done\nexit 0\n')
    (bindir / "docker").write_text("#!/bin/sh\nexit 1\n")  # no engine answers
    (bindir / "id").write_text("#!/bin/sh\necho 0\n")  # root
    for tool in bindir.iterdir():
        tool.chmod(0o755)
    return tmp_path


def run(fakes: Path, version_id: str, *, engine_answers: bool = False, distro: str = "debian",
        unavailable: str = "", stderr: list[str] | None = None, args: tuple[str, ...] = ()) -> list[str]:
    os_release = fakes / "os-release"
    os_release.write_text(f"ID={distro}\nVERSION_ID=\"{version_id}\"\n")
    if engine_answers:
        (fakes / "bin" / "docker").write_text("#!/bin/sh\nexit 0\n")
    env = {**os.environ, "PATH": f"{fakes / 'bin'}:{os.environ['PATH']}", "FAKE_LOG": str(fakes / "log"),
           "CH09_OS_RELEASE": str(os_release), "CH09_APT_LOG": str(fakes / "apt.log"), "FAKE_UNAVAILABLE": unavailable}
    proc = subprocess.run([str(ROOT / "scripts" / "install-deps"), *args], capture_output=True, text=True, env=env,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    if stderr is not None:
        stderr.extend(proc.stderr.splitlines())
    calls = fakes / "log" / "apt-get"
    return calls.read_text().splitlines() if calls.exists() else []


def test_debian_12_takes_exactly_the_engine_from_debian_13_with_a_private_apt_state(fakes: Path) -> None:
    calls = run(fakes, "12")
    private = [c for c in calls if "Dir::Etc::SourceList=" in c]
    assert len(private) == 2  # update, then download, both with the private state
    for call in private:
        assert "Dir::Etc::SourceParts=/dev/null" in call
        assert "Dir::State::Lists=/tmp/ch09-apt-state." in call and "Dir::Cache=/tmp/ch09-apt-state." in call
    assert private[0].endswith(" update")
    assert private[1].split(" download ")[1].split() == ENGINE
    assert (fakes / "log" / "sources.list").read_text().split() == [
        "deb", "[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]", "http://deb.debian.org/debian",
        "trixie", "main"]
    installs = [c for c in calls if c.startswith("install ")]
    assert len(installs) == 2
    engine_debs = [Path(w).name for w in installs[0].split() if w.endswith(".deb")]
    assert sorted(engine_debs) == sorted(f"{p}_1.0_amd64.deb" for p in ENGINE)
    assert "--no-install-recommends" in installs[0].split()
    # Everything else comes from the machine's own sources: no private state, no .deb files.
    rest = installs[1].split()
    assert not any(".deb" in w or "Dir::" in w for w in rest)
    assert {"golang-go", "skopeo", "docker-registry"} <= set(rest)
    assert not set(ENGINE) & set(rest)
    assert "chromium" not in rest  # only the tests need the browser: make html does not wait for it


def test_the_tests_packages_are_only_the_browser(fakes: Path) -> None:
    calls = run(fakes, "12", args=("--tests",))
    installs = [c.split() for c in calls if c.startswith("install ")]
    assert [words[-1] for words in installs] == ["chromium"]
    assert not any("Dir::Etc::SourceList=" in c for c in calls)  # the engine is not its business


def test_an_unknown_argument_is_one_sentence(fakes: Path) -> None:
    proc = subprocess.run([str(ROOT / "scripts" / "install-deps"), "--test"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("install-deps: error: unknown argument --test; the only option is --tests "
                                   "(the packages only the tests need).")


def test_debian_13_installs_the_ordinary_packages(fakes: Path) -> None:
    calls = run(fakes, "13")
    assert not any("Dir::Etc::SourceList=" in c for c in calls)
    engine_install = next(c for c in calls if c.startswith("install ") and "docker.io" in c)
    assert engine_install.split()[-4:] == ENGINE


def test_an_engine_that_already_answers_is_used_as_it_is(fakes: Path) -> None:
    calls = run(fakes, "12", engine_answers=True)
    assert not any("Dir::Etc::SourceList=" in c for c in calls)
    assert not any(set(ENGINE) & set(c.split()) for c in calls)


def test_ubuntu_with_its_own_engine_skips_what_its_apt_does_not_offer(fakes: Path) -> None:
    said: list[str] = []
    calls = run(fakes, "24.04", engine_answers=True, distro="ubuntu", unavailable="skopeo", stderr=said)
    install = next(c for c in calls if c.startswith("install "))
    assert "skopeo" not in install.split() and "golang-go" in install.split()
    assert not any(set(ENGINE) & set(c.split()) for c in calls)
    assert "install-deps: warning: this system's apt offers no skopeo; skipping." in said
    said.clear()
    calls = run(fakes, "24.04", engine_answers=True, distro="ubuntu", unavailable="chromium", stderr=said,
                args=("--tests",))
    assert "install-deps: warning: this system's apt offers no chromium; skipping." in said
