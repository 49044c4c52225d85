"""The CI rehearsal reads the real workflow: every step it would run, with every expression it can fill in."""

from __future__ import annotations

import pytest

from dockerlab.rehearsal import RehearsalError, should_run, substitute, workflow_steps
from tests.conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"


def test_every_run_step_of_the_build_job_can_be_rehearsed() -> None:
    steps = workflow_steps(WORKFLOW)
    runs = [s for s in steps if "run" in s]
    assert [s["name"] for s in runs if should_run(s, failed=False)][:3] == [
        "System packages the examples use", "The book's virtualenv", "A browser for the page tests"]
    for step in runs:  # no expression the rehearsal could not fill in
        substitute(str(step["run"]), {"github.workspace": "/w"})
        for value in (step.get("env") or {}).values():
            substitute(str(value), {"github.workspace": "/w"})
    assert any("make html" in s["run"] for s in runs) and any("make test" in s["run"] for s in runs)


def test_cleanup_runs_after_a_failure_and_deployment_never() -> None:
    assert should_run({"if": "always()"}, failed=True)
    assert not should_run({"if": "github.event_name != 'pull_request'"}, failed=False)
    assert not should_run({}, failed=True)


def test_an_unknown_expression_is_one_sentence() -> None:
    with pytest.raises(RehearsalError, match=r"does not know the expression \$\{\{ secrets.TOKEN \}\}"):
        substitute("${{ secrets.TOKEN }}", {})
