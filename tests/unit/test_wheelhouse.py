"""The wheelhouse helper with no network: pip is replaced by a fake that writes the files it would download."""

from __future__ import annotations

import doctest
import subprocess
from pathlib import Path
from typing import ClassVar

import pytest

from dockerlab import wheelhouse
from dockerlab.errors import DockerLabError
from dockerlab.wheelhouse import (
    add_wheelhouse,
    cached_wheelhouse,
    download_command,
    requirements_digest,
)
from tests.conftest import ROOT


@pytest.fixture
def example(tmp_path: Path) -> Path:
    (tmp_path / "conf.py").write_text("")
    folder = tmp_path / "examples" / "svc"
    folder.mkdir(parents=True)
    (folder / "requirements.txt").write_text("psutil==7.2.2 --hash=sha256:" + "a" * 64 + "\n")
    (folder / "build-requirements.txt").write_text("setuptools==80.9.0 --hash=sha256:" + "b" * 64 + "\n")
    return folder


class FakePip:
    """Stands in for subprocess.run: records each pip call and 'downloads' one file per requirement file."""

    FILES: ClassVar[dict[str, str]] = {
        "requirements.txt": "psutil-7.2.2.tar.gz",
        "build-requirements.txt": "setuptools-80.9.0-py3-none-any.whl",
    }

    def __init__(self, fail: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.fail = fail

    def __call__(self, command, **kwargs):
        self.calls.append(command)
        if self.fail:
            return subprocess.CompletedProcess(command, 1, "", f"Collecting psutil\nERROR: {self.fail}\n")
        dest = Path(command[command.index("-d") + 1])
        requirements = Path(command[command.index("-r") + 1])
        (dest / self.FILES[requirements.name]).write_text(requirements.name)
        return subprocess.CompletedProcess(command, 0, "Saved", "")


def test_sdists_for_the_service_and_wheels_for_the_build_tools() -> None:
    app = download_command(Path("requirements.txt"), Path("wh"), python="py")
    tools = download_command(Path("build-requirements.txt"), Path("wh"), python="py")
    assert app[:4] == ["py", "-m", "pip", "download"] and "--require-hashes" in app and "--no-deps" in app
    assert app[app.index("--no-binary") + 1] == ":all:" and "--only-binary" not in app
    assert tools[tools.index("--only-binary") + 1] == ":all:" and "--no-binary" not in tools


def test_downloaded_once_then_reused_and_copied_into_each_context(example: Path, monkeypatch) -> None:
    fake = FakePip()
    monkeypatch.setattr(wheelhouse.subprocess, "run", fake)
    root = example.parents[1]
    first = cached_wheelhouse(example, root)
    assert first == root / "_build" / "work" / "wheelhouse" / requirements_digest(example)
    assert len(fake.calls) == 2
    assert cached_wheelhouse(example, root) == first and len(fake.calls) == 2  # no second download

    monkeypatch.setenv("CH09_ROOT", str(root))
    context = root / "ctx"
    context.mkdir()
    for name in ("requirements.txt", "build-requirements.txt"):
        (context / name).write_bytes((example / name).read_bytes())
    files = add_wheelhouse(context)
    assert [f.name for f in files] == ["psutil-7.2.2.tar.gz", "setuptools-80.9.0-py3-none-any.whl"]
    assert all(f.parent == context / "wheelhouse" for f in files)
    assert len(fake.calls) == 2


def test_a_new_pin_gets_a_new_wheelhouse(example: Path) -> None:
    before = requirements_digest(example)
    (example / "requirements.txt").write_text("psutil==7.2.1 --hash=sha256:" + "c" * 64 + "\n")
    assert requirements_digest(example) != before


def test_a_failed_download_is_one_sentence_and_leaves_no_finished_wheelhouse(example: Path, monkeypatch) -> None:
    monkeypatch.setattr(wheelhouse.subprocess, "run", FakePip(fail="THESE PACKAGES DO NOT MATCH THE HASHES"))
    root = example.parents[1]
    with pytest.raises(DockerLabError) as err:
        cached_wheelhouse(example, root)
    assert str(err.value) == ("cannot download the wheelhouse for requirements.txt with pip: "
                              "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES")
    assert not (root / "_build" / "work" / "wheelhouse" / requirements_digest(example)).exists()


def test_a_folder_without_requirements_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(DockerLabError, match="has no requirements.txt"):
        cached_wheelhouse(tmp_path, tmp_path)


def test_the_example_pins_every_file_with_a_hash() -> None:
    for name in ("requirements.txt", "build-requirements.txt"):
        lines = [line for line in (ROOT / "examples" / "pyservice" / name).read_text().splitlines()
                 if line.strip() and not line.lstrip().startswith("#")]
        text = " ".join(lines)
        assert "==" in text and "--hash=sha256:" in text, name


def test_the_doctests_pass() -> None:
    assert doctest.testmod(wheelhouse).failed == 0
