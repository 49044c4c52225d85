"""The CI rehearsal reads the real workflow: the jobs in their order, the matrix from the plan's real output,
every expression it can fill in, GitHub's rules for ``if:``, artifacts emulated by copying."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dockerlab import rehearsal
from dockerlab.rehearsal import (
    RehearsalError,
    Status,
    condition,
    download_artifact,
    evaluate,
    expand_matrix,
    github_context,
    parse_outputs,
    read_workflow,
    should_run,
    substitute,
    upload_artifact,
    value_of,
    workflow_steps,
)
from tests.conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
MATRIX = {"include": [{"name": "01", "pages": "chapters/01-why-small status"}, {"name": "02", "pages": "chapters/02"}]}


def _context(event: str = "schedule") -> dict[str, Any]:
    return {**github_context(event, "42"), "github.workspace": "/w", "runner.temp": "/t",
            "matrix.name": "01", "matrix.pages": "a b", "needs.plan.outputs.matrix": json.dumps(MATRIX),
            "needs.plan.outputs.any": "true", "needs.plan.result": "success", "needs.execute.result": "success"}


@pytest.mark.parametrize("event", ["schedule", "pull_request"])
def test_every_expression_of_the_workflow_can_be_filled_in(event: str) -> None:
    flow = read_workflow(WORKFLOW)
    ctx = _context(event)
    for job_id, job in flow["jobs"].items():
        condition(job.get("if"), ctx, Status())
        for step in job["steps"]:
            if "run" in step or rehearsal.is_artifact_step(step):
                should_run(step, ctx, failed=False)
                should_run(step, ctx, failed=True)
                substitute(str(step.get("run", "")), ctx)
                for value in [*(step.get("env") or {}).values(), *(step.get("with") or {}).values()]:
                    value_of(value, ctx)
        for value in (job.get("outputs") or {}).values():
            substitute(str(value), ctx)
        if "matrix" in (job.get("strategy") or {}):
            assert expand_matrix(value_of(job["strategy"]["matrix"], ctx)) == MATRIX["include"], job_id


def test_which_steps_run_on_the_nightly_and_on_a_pull_request() -> None:
    plan = workflow_steps(WORKFLOW, "plan")

    def ran(event: str, outputs: dict[str, str]) -> list[str]:
        ctx = {**_context(event), **outputs}
        return [s.get("name", s.get("uses", "")) for s in plan
                if ("run" in s or rehearsal.is_artifact_step(s)) and should_run(s, ctx, failed=False)]

    nightly = ran("schedule", {})
    assert nightly == ["The book's virtualenv", "Plan the matrix"]
    pull = ran("pull_request", {"steps.reuse.outputs.reused": "true"})
    assert pull == ["The book's virtualenv", "Reuse main's nightly artefacts (pull requests)", "Plan the matrix",
                    "Upload the reused artefacts"]
    assert "Upload the reused artefacts" not in ran("pull_request", {"steps.reuse.outputs.reused": "false"})
    render = workflow_steps(WORKFLOW, "render")
    after_failure = [s["name"] for s in render if "run" in s and should_run(s, _context(), failed=True)]
    assert after_failure == ["Remove what the book created on the engine"]


def test_expressions_follow_githubs_rules() -> None:
    ctx = {"github.event_name": "Pull_Request", "steps.a.outputs.n": "3"}
    assert evaluate("github.event_name == 'pull_request'", ctx) is True  # strings compare ignoring case
    assert evaluate("steps.a.outputs.n == 3 && steps.a.outputs.n > 2", ctx) is True
    assert evaluate("steps.gone.outputs.x", ctx) is None  # a skipped step's output is null
    assert evaluate("steps.gone.outputs.x || 'fallback'", ctx) == "fallback"
    assert evaluate("!(1 == 2) && contains('abc', 'B') && startsWith('refs/heads/main', 'refs/')", ctx) is True
    assert evaluate("'it''s'", ctx) == "it's"
    assert substitute("${{ fromJSON('true') }} ${{ null }}-", {}) == "true -"
    with pytest.raises(RehearsalError, match="cannot read the expression"):
        evaluate("a ==", {"a": 1})
    with pytest.raises(RehearsalError, match=r"does not know the function hashFiles\(\)"):
        evaluate("hashFiles()", {})


def test_if_conditions_of_jobs_and_steps() -> None:
    skipped_need = Status(success=False, failure=False)
    failed_need = Status(success=False, failure=True)
    render = "${{ !cancelled() && !failure() }}"
    assert condition(render, {}, Status()) and condition(render, {}, skipped_need)
    assert not condition(render, {}, failed_need)
    # Without a status function, a condition is `success() && (...)`: a job after a skipped one is skipped.
    assert not condition("true", {}, skipped_need) and condition("true", {}, Status())
    assert not condition(None, {}, failed_need) and condition(True, {}, Status())
    assert not should_run({"if": "failure()"}, {}, failed=False) and should_run({"if": "failure()"}, {}, failed=True)
    assert should_run({"if": "always()"}, {}, failed=True) and not should_run({}, {}, failed=True)
    deploy = "github.event_name != 'pull_request' && github.ref == 'refs/heads/main'"
    assert condition(deploy, github_context("schedule", "1"), Status())
    assert not condition(deploy, github_context("pull_request", "1"), Status())


def test_an_unknown_expression_is_one_sentence() -> None:
    with pytest.raises(RehearsalError, match=r"does not know the expression \$\{\{ secrets.TOKEN \}\}"):
        substitute("${{ secrets.TOKEN }}", {})


def test_matrix_expansion() -> None:
    assert expand_matrix(MATRIX) == MATRIX["include"]
    assert expand_matrix({"a": [1, 2], "b": ["x"]}) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]
    assert expand_matrix({"a": [1, 2], "include": [{"a": 1, "c": "y"}, {"a": 3}]}) == [
        {"a": 1, "c": "y"}, {"a": 2}, {"a": 3}]
    for empty in ({"include": []}, {}, {"a": [1], "exclude": [{"a": 1}]}):
        with pytest.raises(RehearsalError, match="no combination"):
            expand_matrix(empty)
    with pytest.raises(RehearsalError, match="not a mapping"):
        expand_matrix("01 02")


def test_outputs_written_to_github_output() -> None:
    assert parse_outputs('matrix={"include":[{"name":"01"}]}\nany=true\n') == {
        "matrix": '{"include":[{"name":"01"}]}', "any": "true"}
    assert parse_outputs("a<<X\nb=c\nX\n") == {"a": "b=c"}
    with pytest.raises(RehearsalError, match="no end line"):
        parse_outputs("a<<X\nb\n")


def test_artifacts_are_copied_and_merged(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    for group, page in (("01", "a"), ("02", "b")):
        job = tmp_path / group
        (job / "_build" / "artefacts" / "chapters").mkdir(parents=True)
        (job / "_build" / "artefacts" / "chapters" / f"{page}.json").write_text(page)
        (job / "_build" / "artefacts" / ".hidden").write_text("")
        files = upload_artifact({"name": f"artefacts-{group}", "path": "_build/artefacts/",
                                 "if-no-files-found": "error"}, job, store)
        assert files == [Path("chapters") / f"{page}.json"]
    with pytest.raises(RehearsalError, match="uploaded already"):
        upload_artifact({"name": "artefacts-01", "path": "_build/artefacts/"}, tmp_path / "01", store)
    with pytest.raises(RehearsalError, match="no file to upload"):
        upload_artifact({"name": "x", "path": "nothing/", "if-no-files-found": "error"}, tmp_path, store)
    assert upload_artifact({"name": "y", "path": "nothing/", "if-no-files-found": "ignore"}, tmp_path, store) == []
    # Several paths: relative to their common folder, as upload-artifact does.
    (tmp_path / "01" / "test-artifacts").mkdir()
    (tmp_path / "01" / "test-artifacts" / "t.txt").write_text("t")
    upload_artifact({"name": "reports", "path": "_build/artefacts/\ntest-artifacts/\n"}, tmp_path / "01", store)
    assert (store / "reports" / "_build" / "artefacts" / "chapters" / "a.json").is_file()
    assert (store / "reports" / "test-artifacts" / "t.txt").is_file()

    render = tmp_path / "render"
    render.mkdir()
    got = download_artifact({"pattern": "artefacts-*", "path": "_build/artefacts", "merge-multiple": True},
                            render, store)
    assert got == ["artefacts-01", "artefacts-02"]
    assert sorted(p.name for p in (render / "_build" / "artefacts" / "chapters").iterdir()) == ["a.json", "b.json"]
    download_artifact({"pattern": "artefacts-*", "path": "apart"}, render, store)
    assert (render / "apart" / "artefacts-02" / "chapters" / "b.json").is_file()
    with pytest.raises(RehearsalError, match="no artifact named"):
        download_artifact({"name": "missing"}, render, store)


def _replay(monkeypatch: pytest.MonkeyPatch, plan_outputs: dict[str, str],
            fails: tuple[str, ...] = ()) -> list[tuple[str, dict[str, Any]]]:
    """The real workflow's jobs as the rehearsal orders them, each job's run faked: what ran, with what."""
    ran: list[tuple[str, dict[str, Any]]] = []

    def fake_job(machine: Any, label: str, job: Any, context: dict[str, Any]) -> tuple[bool, dict[str, str]]:
        ran.append((label, context))
        return label not in fails, plan_outputs if label == "plan" else {}

    monkeypatch.setattr(rehearsal, "_run_job", fake_job)
    machine = rehearsal._Machine(ROOT, Path("/nowhere"), "nobody", [])
    rehearsal._run_jobs(machine, read_workflow(WORKFLOW), github_context("schedule", "42"))
    return ran


def test_the_rehearsal_runs_plan_then_each_group_then_render(monkeypatch: pytest.MonkeyPatch) -> None:
    ran = _replay(monkeypatch, {"matrix": json.dumps(MATRIX), "any": "true"})
    assert [label for label, _ in ran] == ["plan", "execute-01", "execute-02", "render"]
    execute = dict(ran)["execute-01"]
    assert execute["matrix.pages"] == "chapters/01-why-small status" and execute["needs.plan.outputs.any"] == "true"
    assert dict(ran)["render"]["needs.execute.result"] == "success"


def test_nothing_stale_skips_execute_and_still_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    ran = _replay(monkeypatch, {"matrix": '{"include":[]}', "any": "false"})
    assert [label for label, _ in ran] == ["plan", "render"]
    assert dict(ran)["render"]["needs.execute.result"] == "skipped"


def test_a_failed_group_runs_the_others_and_stops_render(monkeypatch: pytest.MonkeyPatch) -> None:
    ran = _replay(monkeypatch, {"matrix": json.dumps(MATRIX), "any": "true"}, fails=("execute-01",))
    assert [label for label, _ in ran] == ["plan", "execute-01", "execute-02"]  # fail-fast: false


def _fake_venv(folder: Path, matrix: str) -> Path:
    """A checkout whose ``.venv/bin/python`` answers ``-m dockerlab ...`` with ``matrix`` (and logs its
    arguments), and is the real Python otherwise."""
    venv = folder / ".venv" / "bin"
    venv.mkdir(parents=True)
    (folder / "matrix.json").write_text(matrix)
    python = venv / "python"
    python.write_text(f'#!/bin/sh\nif [ "$1" = -m ] && [ "$2" = dockerlab ]; then\n'
                      f'  echo "$*" >> "{folder}/args.log"; cat "{folder}/matrix.json"; exit 0\nfi\n'
                      f'exec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    return folder


def _run_step(step: dict[str, Any], folder: Path, ctx: dict[str, Any]) -> dict[str, str]:
    output = folder / "output"
    output.write_text("")
    env = {**os.environ, **{k: substitute(str(v), ctx) for k, v in (step.get("env") or {}).items()},
           "GITHUB_OUTPUT": str(output)}
    subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", substitute(step["run"], ctx)],
                   cwd=folder, env=env, check=True, capture_output=True)
    return parse_outputs(output.read_text())


@pytest.mark.parametrize(("event", "matrix", "stale", "any_"), [
    ("schedule", json.dumps(MATRIX, separators=(",", ":")), False, "true"),
    ("pull_request", '{"include":[]}', True, "false"),
])
def test_the_plan_step_writes_the_matrix(tmp_path: Path, event: str, matrix: str, stale: bool, any_: str) -> None:
    step = next(s for s in workflow_steps(WORKFLOW, "plan") if s.get("id") == "plan")
    folder = _fake_venv(tmp_path, matrix)
    outputs = _run_step(step, folder, _context(event))
    assert outputs == {"matrix": matrix, "any": any_}
    assert ("--stale" in (folder / "args.log").read_text()) is stale


def test_the_execute_step_passes_each_page_and_where(tmp_path: Path) -> None:
    step = next(s for s in workflow_steps(WORKFLOW, "execute") if "dockerlab execute" in s.get("run", ""))
    folder = _fake_venv(tmp_path, "")
    _run_step(step, folder, _context())
    assert (folder / "args.log").read_text().split() == ["-m", "dockerlab", "execute", "--force", "a", "b"]
    assert substitute(step["env"]["CH09_EXECUTED_WHERE"], _context()) == "GitHub Actions run 42, job execute 01"


def test_the_reuse_step_survives_no_nightly(tmp_path: Path) -> None:
    """Without gh answering (here: no gh at all), a pull request executes every page: no failure."""
    step = next(s for s in workflow_steps(WORKFLOW, "plan") if s.get("id") == "reuse")
    folder = _fake_venv(tmp_path, "")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "gh").write_text("#!/bin/sh\nexit 1\n")
    (tmp_path / "bin" / "gh").chmod(0o755)
    ctx = _context("pull_request")
    output = folder / "output"
    output.write_text("")
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "GITHUB_OUTPUT": str(output)}
    subprocess.run(["bash", "-eo", "pipefail", "-c", substitute(step["run"], ctx)], cwd=folder, env=env, check=True,
                   capture_output=True)
    assert parse_outputs(output.read_text()) == {"reused": "false"}


def test_a_whole_workflow_replays_with_outputs_and_artifacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rehearsal's own machinery on a small workflow, as this user (no sudo, no chown, no engine)."""
    source = tmp_path / "source"
    source.mkdir()
    (source / "README").write_text("x")
    git = ["git", "-C", str(source), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(source)], check=True)
    subprocess.run([*git, "add", "README"], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    flow = tmp_path / "flow.yml"
    flow.write_text("""
jobs:
  plan:
    outputs: {matrix: "${{ steps.p.outputs.matrix }}"}
    steps:
      - id: p
        run: echo 'matrix={"include":[{"name":"a"},{"name":"b"}]}' >> "$GITHUB_OUTPUT"
  work:
    needs: plan
    strategy: {matrix: "${{ fromJSON(needs.plan.outputs.matrix) }}"}
    steps:
      - env: {NAME: "${{ matrix.name }}"}
        run: mkdir -p out && echo "$NAME" > "out/$NAME.txt"
      - uses: actions/upload-artifact@0000000000000000000000000000000000000000
        with: {name: "out-${{ matrix.name }}", path: out/, if-no-files-found: error}
  last:
    needs: [plan, work]
    if: ${{ !cancelled() && !failure() }}
    steps:
      - uses: actions/download-artifact@0000000000000000000000000000000000000000
        with: {pattern: out-*, path: got, merge-multiple: true}
      - run: grep -qx a got/a.txt && grep -qx b got/b.txt && touch "$GITHUB_WORKSPACE/../done"
""")
    monkeypatch.setattr(rehearsal, "_as_user", lambda user: [])
    monkeypatch.setattr(rehearsal, "_as_root", lambda command, cwd=None: subprocess.run(
        command, check=True) if command[0] == "git" else None)
    work = tmp_path / "work"
    (work / "outputs").mkdir(parents=True)
    (work / "artifacts").mkdir()
    machine = rehearsal._Machine(source, work, "nobody", [f"PATH={os.environ['PATH']}"])
    rehearsal._run_jobs(machine, read_workflow(flow), github_context("schedule", "1"))
    assert machine.failed_steps == 0
    assert (work / "done").is_file()
    assert sorted(p.name for p in (work / "artifacts").iterdir()) == ["out-a", "out-b"]
    assert not (work / "work-a").exists()  # a job's clone goes when it passed
