"""One run at a time per checkout: a second build, notebook run or bootstrap stops with one sentence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dockerlab.locking import CheckoutBusy, checkout_lock


def test_a_second_holder_is_refused_and_the_lock_is_free_again_afterwards(tmp_path: Path) -> None:
    with checkout_lock(tmp_path, "the book build"):
        with pytest.raises(CheckoutBusy) as err:
            with checkout_lock(tmp_path, "make notebooks"):
                pass
        assert str(err.value).startswith("make notebooks cannot start: the book build (pid ")
    with checkout_lock(tmp_path, "make notebooks"):
        pass


@pytest.mark.parametrize("command",
                         [["build", "--source", "{root}", "--out", "{root}/_build"], ["notebooks"], ["bases"]])
def test_the_cli_stops_with_one_sentence_while_another_run_holds_the_checkout(tmp_path: Path, command) -> None:
    (tmp_path / "examples").mkdir()
    (tmp_path / "conf.py").write_text("")
    args = [a.replace("{root}", str(tmp_path)) for a in command]
    with checkout_lock(tmp_path, "the book build"):
        proc = subprocess.run([sys.executable, "-m", "dockerlab", *args], capture_output=True, text=True, timeout=60,
                              cwd=tmp_path, env={"CH09_ROOT": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and " cannot start: the book build (pid " in lines[0], proc.stderr
