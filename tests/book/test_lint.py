"""The lint page: what it shows equals hadolint's own output on the same files, run here again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest

from tests.book.test_multistage import _table_with, outputs_of
from tests.conftest import ROOT

LINT = "chapters/03-6-lint"
HADOLINT = str(Path(sys.executable).with_name("hadolint"))
CONFIG = "examples/lint/.hadolint.yaml"


def _hadolint_json(*files: str, config: str | None = None) -> list[dict]:
    """hadolint's own JSON for ``files``, run from the book's root as the page ran it."""
    with tempfile.TemporaryDirectory() as home:
        empty = Path(home) / "empty.yaml"
        empty.write_text("{}\n")
        proc = subprocess.run([HADOLINT, "--format", "json", "--config", config or str(empty), *files], cwd=ROOT,
                              capture_output=True, text=True, check=False, env={**os.environ, "HOME": home})
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def _cell(text: str) -> str:
    """A table cell's text as the page reads (the table reader puts a space after each code mark)."""
    return text.replace(" ,", ",")


def _codes(findings: list[dict], file: str) -> str:
    codes = list(dict.fromkeys(f["code"] for f in findings if f["file"] == file))
    return ", ".join(codes) or "없음"


@pytest.fixture(scope="module")
def page(built_book):
    return built_book.page(LINT)


def test_the_page_shows_hadolints_version_and_its_own_text(page) -> None:
    version = subprocess.run([HADOLINT, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    outputs = [o.strip() + "\n" for o in outputs_of(page)]
    assert any(f"$ hadolint --version\n{version}" in o for o in outputs)
    split = "examples/tech-run-layers/Dockerfile.split"
    shown = next(o for o in outputs if o.startswith("$ hadolint examples/tech-run-layers/"))
    direct = subprocess.run([HADOLINT, "--no-color", split, "examples/tech-run-layers/Dockerfile.chained"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert direct.stdout in shown and f"(exit status {direct.returncode})" in shown
    assert direct.returncode == 1 and f"{split}:12 DL3059 info:" in direct.stdout


def test_every_before_breaks_its_rule_and_every_after_does_not(page) -> None:
    table = _table_with(page, "hadolint가 찾은 규칙")
    header, rows = table[0], table[1:]
    assert len(rows) == 7
    for row in rows:
        before, after = (f"examples/{row[header.index(c)]}" for c in ("이전", "이후"))
        found = _hadolint_json(before, after)
        assert _cell(row[header.index("hadolint가 찾은 규칙")]) == _codes(found, before), before
        assert _cell(row[header.index("이후에 남은 규칙")]) == _codes(found, after), after
        assert set(_codes(found, before).split(", ")) - set(_codes(found, after).split(", ")), (before, after)


def test_the_table_of_every_dockerfile_equals_hadolints_json(page) -> None:
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples").rglob("Dockerfile*"))
    found = _hadolint_json(*files)
    table = _table_with(page, "규칙")
    header, rows = table[0], table[1:]
    assert header == ["Dockerfile", "error", "warning", "info", "style", "규칙"]
    assert [f"examples/{r[0]}" for r in rows] == files
    for row in rows:
        file = f"examples/{row[0]}"
        levels = Counter(f["level"] for f in found if f["file"] == file)
        assert [int(n) for n in row[1:5]] == [levels[level] for level in header[1:5]], file
        assert _cell(row[5]) == _codes(found, file), file
    text = " ".join(page.get_text(" ").split())
    assert f"예제 Dockerfile {len(files)} 개에서 hadolint가 찾은 것은 모두 {len(found)} 건" in text


def test_the_recommended_dockerfiles_pass_the_pipelines_settings(page) -> None:
    recommended = ["examples/hello/Dockerfile", "examples/floor-hello/Dockerfile", "examples/webapi/Dockerfile",
                   "examples/pyservice/Dockerfile"]
    proc = subprocess.run([HADOLINT, "--config", CONFIG, *recommended], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
    shown = next(o for o in (p.strip() for p in outputs_of(page)) if o.startswith(f"$ hadolint --config {CONFIG}"))
    assert "(exit status 0)" in shown
    # Every rule switched off says why, on the lines just above it.
    for file in recommended:
        lines = (ROOT / file).read_text().splitlines()
        for n, line in enumerate(lines):
            if line.startswith("# hadolint ignore="):
                reason = lines[n - 1] if n > 0 else ""
                assert reason.startswith("# ") and not reason.startswith("# hadolint") and line[18:] in reason, \
                    (file, n + 1)
                assert f"{file}:{n + 1}: {line}" in shown
    # The settings are strict where the book says so: the "before" of the apt lesson fails them.
    failing = subprocess.run([HADOLINT, "--no-color", "--config", CONFIG, "examples/tech-apt-cleanup/Dockerfile.later"],
                             cwd=ROOT, capture_output=True, text=True)
    assert failing.returncode == 1 and "DL3009 error" in failing.stdout


def test_docker_build_check_ran_or_says_why_not(page) -> None:
    shown = next(o for o in (p.strip() for p in outputs_of(page)) if o.startswith("$ docker buildx version"))
    text = page.get_text(" ")
    if "unknown flag: --check" in shown:
        assert "이 빌드에서는 실행하지 않음" in text and "Buildx 0.15.0" in text
    else:
        assert "(exit status" in shown and "이 빌드에서는 실행하지 않음" not in text
