"""The CI workflows pass a real linter (zizmor) and GitHub's workflow schema, and keep the project's rules."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        path = Path(shutil.which(name) or name)
    return str(path)


def test_there_are_workflows() -> None:
    assert WORKFLOWS


def test_workflows_match_githubs_schema() -> None:
    proc = subprocess.run([_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                           *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_finds_nothing_even_pedantic() -> None:
    proc = subprocess.run([_tool("zizmor"), "--offline", "--persona=pedantic", str(ROOT / ".github" / "workflows")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_by_commit_sha(path: Path) -> None:
    uses = re.findall(r"uses:\s*(\S+)", path.read_text())
    assert uses
    for ref in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{path.name}: {ref} is not pinned by SHA"


def test_book_workflow_rules() -> None:
    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    triggers = flow[True]  # YAML 1.1 reads the key `on` as True
    assert {"pull_request", "schedule", "push"} <= set(triggers)
    assert flow["permissions"] == {"contents": "read"}
    assert "group" in flow["concurrency"]
    build = flow["jobs"]["build"]
    runs = [step.get("run", "") for step in build["steps"]]
    assert any("make html" in r for r in runs) and any("make test" in r for r in runs)
    reports = next(s for s in build["steps"] if "upload-artifact" in s.get("uses", ""))
    assert reports["if"] == "failure()" and "_build/reports/" in reports["with"]["path"]
    deploy = flow["jobs"]["deploy"]
    assert "refs/heads/main" in deploy["if"] and "pull_request" in deploy["if"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
