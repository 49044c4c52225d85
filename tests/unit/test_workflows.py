"""The CI workflows pass a real linter (zizmor) and GitHub's workflow schema, and keep the project's rules."""

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def _book() -> dict[str, Any]:
    flow: dict[str, Any] = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    return flow


def _step(job: dict[str, Any], uses: str, **with_: str) -> dict[str, Any]:
    """The one step of ``job`` using ``uses`` whose ``with:`` has the values given."""
    found = [s for s in job["steps"] if uses in s.get("uses", "")
             and all(str((s.get("with") or {}).get(k)) == v for k, v in with_.items())]
    assert len(found) == 1, f"{uses} {with_}: {len(found)} steps"
    return found[0]


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(str(s.get("run", "")) for s in job["steps"])


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
    flow = _book()
    triggers = flow[True]  # YAML 1.1 reads the key `on` as True
    assert {"pull_request", "schedule", "push", "workflow_dispatch"} <= set(triggers)
    assert flow["permissions"] == {"contents": "read"}
    assert "group" in flow["concurrency"]
    assert list(flow["jobs"]) == ["plan", "execute", "render", "deploy"]
    # Only the plan job reads the Actions API (main's nightly artefacts), and only reads it.
    assert flow["jobs"]["plan"]["permissions"] == {"contents": "read", "actions": "read"}
    assert all("permissions" not in flow["jobs"][job] for job in ("execute", "render"))
    deploy = flow["jobs"]["deploy"]
    assert deploy["needs"] == "render"
    assert "refs/heads/main" in deploy["if"] and "pull_request" in deploy["if"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}


def test_the_matrix_is_the_plan_jobs_output() -> None:
    jobs = _book()["jobs"]
    plan, execute = jobs["plan"], jobs["execute"]
    step = next(s for s in plan["steps"] if "dockerlab plan" in s.get("run", ""))
    assert "--groups 4" in step["run"] and '"matrix=$matrix" >> "$GITHUB_OUTPUT"' in step["run"]
    assert plan["outputs"]["matrix"] == f"${{{{ steps.{step['id']}.outputs.matrix }}}}"
    assert plan["outputs"]["any"] == f"${{{{ steps.{step['id']}.outputs.any }}}}"
    assert execute["needs"] == "plan"
    assert execute["strategy"] == {"fail-fast": False, "matrix": "${{ fromJSON(needs.plan.outputs.matrix) }}"}
    # An empty matrix is an error on GitHub: the job is skipped when the plan has nothing to execute.
    assert execute["if"] == "needs.plan.outputs.any == 'true'"


def test_the_nightly_executes_every_page_and_a_pull_request_only_the_stale_ones() -> None:
    jobs = _book()["jobs"]
    step = next(s for s in jobs["plan"]["steps"] if "dockerlab plan" in s.get("run", ""))
    # --stale only on a pull request; the nightly, pushes and manual runs plan every page ...
    assert step["env"]["EVENT"] == "${{ github.event_name }}"
    assert re.search(r'if \[ "\$EVENT" = pull_request \]; then\s+args\+=\(--stale\)\s+fi', step["run"])
    # ... and each group executes its pages even when an artefact looks current.
    run = next(s for s in jobs["execute"]["steps"] if "dockerlab execute" in s.get("run", ""))
    assert "execute --force" in run["run"]
    assert run["env"]["PAGES"] == "${{ matrix.pages }}"  # through env:, not a template in the script
    assert "${{" not in run["run"]
    assert "${{ github.run_id }}" in run["env"]["CH09_EXECUTED_WHERE"]
    assert "${{ matrix.name }}" in run["env"]["CH09_EXECUTED_WHERE"]
    reuse = next(s for s in jobs["plan"]["steps"] if "gh run download" in s.get("run", ""))
    assert reuse["if"] == "github.event_name == 'pull_request'"


def test_a_pull_request_reuses_mains_nightly_artefacts() -> None:
    plan = _book()["jobs"]["plan"]
    reuse = next(s for s in plan["steps"] if "gh run download" in s.get("run", ""))
    script = reuse["run"]
    assert "gh run list --workflow book.yml --branch main --event schedule --status success --limit 1" in script
    assert "--pattern 'artefacts-*'" in script and "_build/artefacts/" in script
    assert reuse["env"]["GH_TOKEN"] == "${{ github.token }}"
    # None to reuse is no failure, and the stale ones are dropped before they are passed on.
    assert script.count("exit 0") >= 2 and "dockerlab stale" in script
    upload = _step(plan, "actions/upload-artifact", name="artefacts-reused")
    assert upload["if"] == f"steps.{reuse['id']}.outputs.reused == 'true'"
    assert upload["with"]["path"] == "_build/artefacts/"
    order = [s.get("id") for s in plan["steps"]]
    assert order.index(reuse["id"]) < order.index("plan") < plan["steps"].index(upload)


def test_each_group_uploads_its_artefacts_and_render_merges_them() -> None:
    jobs = _book()["jobs"]
    execute, render = jobs["execute"], jobs["render"]
    upload = _step(execute, "actions/upload-artifact", name="artefacts-${{ matrix.name }}")
    assert upload["with"]["path"] == "_build/artefacts/" and upload["with"]["if-no-files-found"] == "error"
    assert "if" not in upload
    reports = _step(execute, "actions/upload-artifact", name="execution-reports-${{ matrix.name }}")
    assert reports["if"] == "failure()" and "_build/reports/" in reports["with"]["path"]
    runs = _runs(execute)
    assert "sudo scripts/install-deps" in runs and "make venv" in runs and "dockerlab bases" in runs
    assert "make html" not in runs and "make test" not in runs

    assert render["needs"] == ["plan", "execute"]
    # Runs when execute was skipped (nothing stale), not when a group failed.
    assert render["if"] == "${{ !cancelled() && !failure() }}"
    download = _step(render, "actions/download-artifact")
    assert download["with"] == {"pattern": "artefacts-*", "path": "_build/artefacts", "merge-multiple": True}
    names = [s.get("uses", "") or s.get("run", "") for s in render["steps"]]
    at = names.index(download["uses"])
    assert any("make html" in n for n in names[at:]) and any("make test" in n for n in names[at:])
    reports = _step(render, "actions/upload-artifact", name="execution-reports")
    assert reports["if"] == "failure()" and "_build/reports/" in reports["with"]["path"]
    assert _step(render, "actions/upload-pages-artifact")["with"]["path"] == "_build/html"
    clean = next(s for s in render["steps"] if "clean-docker" in s.get("run", ""))
    assert clean["if"] == "always()"
