"""A test run goes in tiers (unit, integration, book, clean_slate), and a tier with a failure is the last run.

Run on a small copy of the suite's layout with the suite's own ``tests/conftest.py``, in a pytest of its own.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

#: The suite checks the engine for leftovers at the end of a run with engine tests; this one has no engine.
_NO_ENGINE = ("import pytest\n\n@pytest.fixture(scope='session', autouse=True)\n"
              "def no_containers_left_behind():\n    yield\n")
_CLEAN = "import pytest\n\n@pytest.mark.clean_slate\ndef test_clears():\n    pass\n"


def _suite(tmp_path: Path, *, integration_fails: bool) -> subprocess.CompletedProcess[str]:
    tests = tmp_path / "tests"
    for tier in ("unit", "integration", "book"):
        (tests / tier).mkdir(parents=True)
        (tests / tier / "__init__.py").write_text("")
        (tests / tier / "conftest.py").write_text(_NO_ENGINE)
    (tests / "__init__.py").write_text("")
    shutil.copy(ROOT / "tests" / "conftest.py", tests / "conftest.py")
    # File names that sort against the tiers: the run must not follow them.
    (tests / "book" / "test_a_book.py").write_text("def test_reads_the_book():\n    pass\n")
    (tests / "integration" / "test_a_hygiene.py").write_text(_CLEAN)
    (tests / "integration" / "test_b_engine.py").write_text(
        f"def test_engine():\n    assert {not integration_fails}\n")
    (tests / "unit" / "test_z_unit.py").write_text("def test_unit():\n    pass\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    engine\n    book\n    clean_slate\n")
    return subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "tests"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)


def _ran(output: str) -> list[str]:
    return re.findall(r"::(test_\w+) (?:PASSED|FAILED)", output)


def test_tiers_run_in_order_whatever_the_file_names(tmp_path: Path) -> None:
    proc = _suite(tmp_path, integration_fails=False)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert _ran(proc.stdout) == ["test_unit", "test_engine", "test_reads_the_book", "test_clears"]


def test_a_failing_tier_is_the_last_one_run(tmp_path: Path) -> None:
    proc = _suite(tmp_path, integration_fails=True)
    assert proc.returncode == 1
    assert _ran(proc.stdout) == ["test_unit", "test_engine"]
    assert "integration tests failed: the book tests and any later tier were not run" in proc.stdout
