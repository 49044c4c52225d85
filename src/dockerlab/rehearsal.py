"""``make ci-rehearsal``: replay the GitHub workflow's jobs here, as close to GitHub's runners as this machine
allows.

GitHub's ``ubuntu-24.04`` runner is a non-root user with passwordless sudo, an engine that already runs,
and a fresh checkout. The rehearsal makes the same on this machine: a user ``ch09ci`` in the ``docker``
group with passwordless sudo, the engine started by ``scripts/ensure-docker`` with the base images on it
(bootstrapped as root when missing, where the runner would pull them from Docker Hub), and then the jobs of
``.github/workflows/book.yml`` in the file's order, as that user -- read from the YAML, so the rehearsal is
the workflow:

* ``plan``: its ``run:`` steps in a fresh clone; what they write to ``$GITHUB_OUTPUT`` (a file the
  rehearsal provides) becomes the job's outputs, the matrix among them;
* ``execute``: the matrix expanded from the plan's real output (:func:`expand_matrix`), then each
  combination's ``run:`` steps, one combination after another, each in a fresh clone with ``${{ matrix.* }}``
  filled in; the engine is cleaned between jobs (bases kept), as each job's runner would be fresh;
* ``render``: its ``run:`` steps in a fresh clone.

``if:`` conditions are evaluated as GitHub does (:func:`evaluate`: the event, step outputs, ``needs``,
``success()``, ``failure()``, ``always()``, ``cancelled()``). ``actions/upload-artifact`` and
``actions/download-artifact`` are emulated by copying into and out of a folder of the rehearsal
(:func:`upload_artifact`, :func:`download_artifact`); other ``uses:`` steps are not rehearsed.

What it cannot rehearse (README): Docker Hub (bases are bootstrapped from Debian packages here), the
runner's own Docker version and Ubuntu's package set, GitHub's API (a pull request's download of main's
nightly artefacts finds nothing), and the other ``uses:`` steps (the checkout is the fresh clone;
setup-python is the Python 3.11 running the rehearsal, put first on the user's PATH -- with the traverse bit
opened on the folders above it for the rehearsal's length when they are closed, as /root is here).

>>> ctx = {"github.event_name": "schedule"}
>>> (should_run({"if": "failure()"}, ctx, failed=False), should_run({"if": "always()"}, ctx, failed=True),
...  should_run({}, ctx, failed=True), should_run({"if": "github.event_name == 'pull_request'"}, ctx, failed=False))
(False, True, False, False)
"""

from __future__ import annotations

import argparse
import fnmatch
import itertools
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dockerlab.errors import RehearsalError

USER = "ch09ci"
#: The event a rehearsal stands for unless told: the nightly, which executes every page from scratch.
EVENT = "schedule"
EVENTS = ("schedule", "push", "workflow_dispatch", "pull_request")
_EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")
_TOKEN = re.compile(r"""\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|<=|>=|&&|\|\||[!()<>,])
                        |(?P<name>[A-Za-z_][\w.-]*))""", re.VERBOSE)
_STATUS = ("success", "failure", "always", "cancelled")
_HAS_STATUS = re.compile(r"\b(?:success|failure|always|cancelled)\s*\(")
#: Contexts whose missing properties are null, as on GitHub (a skipped step has no outputs).
_NULL_WHEN_MISSING = ("steps.", "needs.")
UPLOAD, DOWNLOAD = "actions/upload-artifact", "actions/download-artifact"


def read_workflow(path: Path) -> dict[str, Any]:
    """The workflow file, checked to have jobs."""
    flow = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(flow, dict) or not isinstance(flow.get("jobs"), dict):
        raise RehearsalError(f"{path} has no jobs.")
    return flow


def workflow_steps(path: Path, job: str) -> list[dict[str, Any]]:
    """The steps of ``job`` in the workflow file, as written."""
    try:
        return list(read_workflow(path)["jobs"][job]["steps"])
    except (KeyError, TypeError):
        raise RehearsalError(f"{path} has no job {job!r} with steps.") from None


# -- expressions --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    """What the status functions answer: for a step, whether an earlier step failed; for a job, how the jobs
    it needs (and theirs) ended."""

    success: bool = True
    failure: bool = False
    cancelled: bool = False


def _tokens(expression: str) -> list[tuple[str, str]]:
    tokens, at = [], 0
    while at < len(expression):
        match = _TOKEN.match(expression, at)
        if match is None or match.end() == at:
            if not expression[at:].strip():
                break
            raise RehearsalError(f"the rehearsal cannot read the expression {expression!r} (at {expression[at:]!r}).")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        at = match.end()
    return tokens


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "") and value == value  # NaN is false too


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip() or 0)
        except ValueError:
            return float("nan")
    return float("nan")


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()  # GitHub compares strings ignoring case
    if type(left) is not type(right) and not (isinstance(left, dict | list) or isinstance(right, dict | list)):
        return _number(left) == _number(right)
    return bool(left == right)


def _text(value: Any) -> str:
    """A value as GitHub writes it into text: null is empty, booleans are lowercase, objects are JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


class _Parser:
    """A recursive-descent reader of GitHub's expression language, as much of it as a workflow here uses:
    literals, context names (``github.event_name``, ``steps.plan.outputs.matrix``), ``!``, ``==``, ``!=``,
    ``<``, ``<=``, ``>``, ``>=``, ``&&``, ``||``, parentheses, the status functions, ``fromJSON``, ``toJSON``,
    ``contains``, ``startsWith``, ``endsWith``."""

    def __init__(self, expression: str, context: Mapping[str, Any], status: Status) -> None:
        self.expression, self.context, self.status = expression, context, status
        self.tokens, self.at = _tokens(expression), 0

    def parse(self) -> Any:
        value = self._or()
        if self.at != len(self.tokens):
            raise RehearsalError(f"the rehearsal cannot read the expression {self.expression!r} "
                                 f"(unexpected {self.tokens[self.at][1]!r}).")
        return value

    def _peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        if self.at >= len(self.tokens) or (expected is not None and self.tokens[self.at][1] != expected):
            raise RehearsalError(f"the rehearsal cannot read the expression {self.expression!r} "
                                 f"(expected {expected or 'more'}).")
        self.at += 1
        return self.tokens[self.at - 1]

    def _or(self) -> Any:
        value = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            value = value if _truthy(value) else right
        return value

    def _and(self) -> Any:
        value = self._compare()
        while self._peek() == "&&":
            self._take()
            right = self._compare()
            value = right if _truthy(value) else value
        return value

    def _compare(self) -> Any:
        left = self._unary()
        op = self._peek()
        if op in ("==", "!=", "<", "<=", ">", ">="):
            self._take()
            right = self._unary()
            if op == "==":
                return _equal(left, right)
            if op == "!=":
                return not _equal(left, right)
            a, b = _number(left), _number(right)
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        return left

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not _truthy(self._unary())
        return self._primary()

    def _primary(self) -> Any:
        kind, token = self._take()
        if token == "(" and kind == "op":
            value = self._or()
            self._take(")")
            return value
        if kind == "str":
            return token[1:-1].replace("''", "'")
        if kind == "num":
            return float(token)
        if kind != "name":
            raise RehearsalError(f"the rehearsal cannot read the expression {self.expression!r} (at {token!r}).")
        if self._peek() == "(":
            self._take()
            args: list[Any] = []
            while self._peek() != ")":
                args.append(self._or())
                if self._peek() == ",":
                    self._take()
            self._take(")")
            return self._call(token, args)
        literals = {"true": True, "false": False, "null": None}
        if token in literals:
            return literals[token]
        if token in self.context:
            return self.context[token]
        if token.startswith(_NULL_WHEN_MISSING):
            return None
        raise RehearsalError(f"the rehearsal does not know the expression ${{{{ {token} }}}}.")

    def _call(self, name: str, args: list[Any]) -> Any:
        lowered = name.lower()
        if lowered in _STATUS and not args:
            return {"success": self.status.success and not self.status.cancelled,
                    "failure": self.status.failure, "always": True, "cancelled": self.status.cancelled}[lowered]
        if lowered == "fromjson" and len(args) == 1:
            try:
                return json.loads(_text(args[0]))
            except ValueError:
                raise RehearsalError(f"fromJSON got no JSON: {_text(args[0])[:200]!r}.") from None
        if lowered == "tojson" and len(args) == 1:
            return json.dumps(args[0], indent=2)
        if lowered == "contains" and len(args) == 2:
            if isinstance(args[0], list):
                return any(_equal(item, args[1]) for item in args[0])
            return _text(args[1]).casefold() in _text(args[0]).casefold()
        if lowered in ("startswith", "endswith") and len(args) == 2:
            text, part = _text(args[0]).casefold(), _text(args[1]).casefold()
            return text.startswith(part) if lowered == "startswith" else text.endswith(part)
        raise RehearsalError(f"the rehearsal does not know the function {name}() with {len(args)} argument(s).")


def evaluate(expression: str, context: Mapping[str, Any], status: Status | None = None) -> Any:
    """The value of one expression (without ``${{ }}``) in ``context``, a flat mapping of dotted names.

    >>> evaluate("github.event_name != 'pull_request' && github.ref == 'refs/heads/main'",
    ...          {"github.event_name": "schedule", "github.ref": "refs/heads/main"})
    True
    >>> evaluate("fromJSON(needs.plan.outputs.matrix)", {"needs.plan.outputs.matrix": '{"include": []}'})
    {'include': []}
    >>> evaluate("steps.reuse.outputs.reused == 'true'", {}), evaluate("!cancelled() && !failure()", {})
    (False, True)
    """
    return _Parser(expression, context, status or Status()).parse()


def substitute(text: str, context: Mapping[str, Any]) -> str:
    """Replace each ``${{ expression }}``; a name the rehearsal does not know is an error.

    >>> substitute("PATH=${{ github.workspace }}/.x", {"github.workspace": "/w"})
    'PATH=/w/.x'
    >>> substitute("artefacts-${{ matrix.name }}", {"matrix.name": "02"})
    'artefacts-02'
    """
    return _EXPRESSION.sub(lambda match: _text(evaluate(match.group(1), context)), text)


def value_of(field_value: Any, context: Mapping[str, Any]) -> Any:
    """A workflow field that may be one whole expression (``matrix: ${{ fromJSON(...) }}``): its value, not
    its text; other strings are substituted, other values are returned as they are."""
    if isinstance(field_value, str):
        whole = _EXPRESSION.fullmatch(field_value.strip())
        if whole:
            return evaluate(whole.group(1), context)
        return substitute(field_value, context)
    return field_value


def condition(expression: Any, context: Mapping[str, Any], status: Status) -> bool:
    """GitHub's rule for an ``if:``: no condition is ``success()``; a condition that calls no status function
    is ``success() && (condition)``; ``${{ }}`` around it is optional.

    >>> condition("", {}, Status(success=False, failure=True)), condition("always()", {}, Status(failure=True))
    (False, True)
    >>> condition("${{ !cancelled() && !failure() }}", {}, Status(success=False))  # a needed job was skipped
    True
    >>> condition("needs.plan.outputs.any == 'true'", {"needs.plan.outputs.any": "true"}, Status(success=False))
    False
    """
    if isinstance(expression, bool):
        return expression and status.success
    text = str(expression or "").strip()
    whole = _EXPRESSION.fullmatch(text)
    if whole:
        text = whole.group(1)
    if not text:
        text = "success()"
    elif not _HAS_STATUS.search(text):
        text = f"success() && ({text})"
    return _truthy(evaluate(text, context, status))


def should_run(step: Mapping[str, Any], context: Mapping[str, Any], *, failed: bool) -> bool:
    """Whether a step runs, after earlier steps of its job failed or not (:func:`condition`)."""
    return condition(step.get("if"), context, Status(success=not failed, failure=failed))


# -- matrices, outputs, artifacts ---------------------------------------------------------------------------


def expand_matrix(matrix: Any) -> list[dict[str, Any]]:
    """The combinations of a ``strategy.matrix`` (already evaluated), as GitHub makes them: the product of
    its vectors less ``exclude``, then each ``include`` entry added to every combination whose original values
    it does not overwrite, or made a combination of its own. No combination is an error, as on GitHub.

    >>> expand_matrix({"include": [{"name": "01", "pages": "a b"}, {"name": "02", "pages": "c"}]})
    [{'name': '01', 'pages': 'a b'}, {'name': '02', 'pages': 'c'}]
    >>> expand_matrix({"os": ["x", "y"], "exclude": [{"os": "y"}], "include": [{"os": "x", "extra": 1}]})
    [{'os': 'x', 'extra': 1}]
    """
    if not isinstance(matrix, dict):
        raise RehearsalError(f"the matrix is not a mapping: {matrix!r}.")
    include, exclude = matrix.get("include") or [], matrix.get("exclude") or []
    vectors = {key: value for key, value in matrix.items() if key not in ("include", "exclude")}
    for key, value in vectors.items():
        if not isinstance(value, list) or not value:
            raise RehearsalError(f"the matrix vector {key!r} is not a non-empty list.")
    combos = [dict(zip(vectors, values, strict=True)) for values in itertools.product(*vectors.values())] \
        if vectors else []
    combos = [c for c in combos if not any(all(_equal(c.get(k), v) for k, v in ex.items()) for ex in exclude)]
    originals = [dict(c) for c in combos]
    for extra in include:
        fits = [i for i, original in enumerate(originals)
                if all(_equal(original[k], v) for k, v in extra.items() if k in original)]
        for i in fits:
            combos[i].update(extra)
        if not fits:
            combos.append(dict(extra))
    if not combos:
        raise RehearsalError("the matrix has no combination (GitHub fails such a job: guard it with an if:).")
    return combos


def parse_outputs(text: str) -> dict[str, str]:
    """What a step wrote to ``$GITHUB_OUTPUT``: ``name=value`` lines and ``name<<DELIMITER`` blocks.

    >>> parse_outputs('matrix={"include":[]}\\nany=false\\nnotes<<EOF\\none\\ntwo\\nEOF\\n')
    {'matrix': '{"include":[]}', 'any': 'false', 'notes': 'one\\ntwo'}
    """
    outputs: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            for row in lines:
                if row == delimiter:
                    break
                block.append(row)
            else:
                raise RehearsalError(f"the output {name} written to $GITHUB_OUTPUT has no end line {delimiter!r}.")
            outputs[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
        elif line.strip():
            raise RehearsalError(f"a step wrote a line to $GITHUB_OUTPUT that is no output: {line[:80]!r}.")
    return outputs


def _artifact_name(name: str) -> str:
    if not name or re.search(r'[":<>|*?\\/\r\n]', name):
        raise RehearsalError(f"{name!r} is not a name GitHub takes for an artifact.")
    return name


def upload_artifact(inputs: Mapping[str, Any], workspace: Path, store: Path) -> list[Path]:
    """``actions/upload-artifact`` (v4) by copying: the files under ``inputs["path"]`` (one path or glob a
    line, relative to ``workspace``; hidden files left out) are copied into ``store/<name>/``, relative to
    the least common ancestor of the paths; return the files copied. A second artifact of the same name is
    an error, as on GitHub; no file is one when ``if-no-files-found`` is ``error``."""
    name = _artifact_name(str(inputs.get("name") or "artifact"))
    lines = [line.strip() for line in str(inputs.get("path") or "").splitlines() if line.strip()]
    if any(line.startswith("!") for line in lines):
        raise RehearsalError("the rehearsal does not emulate exclusions (!) in an artifact's path.")
    matched = [found for line in lines for found in sorted(workspace.glob(line.rstrip("/")))]
    files: list[tuple[Path, Path]] = []
    if matched:
        base = matched[0] if len(matched) == 1 else Path(os.path.commonpath(matched))
        if base.is_file():
            base = base.parent
        for found in matched:
            for file in sorted(found.rglob("*")) if found.is_dir() else [found]:
                relative = file.relative_to(base)
                if file.is_file() and not any(part.startswith(".") for part in file.relative_to(found.parent).parts):
                    files.append((file, relative))
    if not files:
        if str(inputs.get("if-no-files-found", "warn")) == "error":
            raise RehearsalError(f"no file to upload as artifact {name} (path: {', '.join(lines)}).")
        print(f"rehearsal: no file to upload as artifact {name}; none uploaded", flush=True)
        return []
    target = store / name
    if target.exists():
        raise RehearsalError(f"an artifact named {name} was uploaded already in this run (GitHub refuses a second).")
    for file, relative in files:
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, target / relative)
    return [relative for _, relative in files]


def download_artifact(inputs: Mapping[str, Any], workspace: Path, store: Path) -> list[str]:
    """``actions/download-artifact`` (v4) by copying out of ``store``: the artifact ``name``, else every one
    matching ``pattern`` (every one without it), into ``path`` -- each in a folder of its name unless one
    was named or ``merge-multiple`` is true. Return the names copied; a named artifact missing is an error."""
    destination = workspace / str(inputs.get("path") or ".")
    present = sorted(p.name for p in store.iterdir()) if store.is_dir() else []
    name = str(inputs.get("name") or "")
    if name:
        if name not in present:
            raise RehearsalError(f"no artifact named {name} was uploaded in this run.")
        chosen, merge = [name], True
    else:
        chosen = [p for p in present if fnmatch.fnmatchcase(p, str(inputs.get("pattern") or "*"))]
        merge = str(inputs.get("merge-multiple", False)).lower() == "true"
    if not chosen:
        print("rehearsal: no artifact matched; none downloaded", flush=True)
    for artifact in chosen:
        shutil.copytree(store / artifact, destination if merge else destination / artifact, dirs_exist_ok=True)
    return chosen


# -- the machine: a runner's user, its Python, its clone ----------------------------------------------------


def _as_root(command: list[str], cwd: Path | None = None) -> None:
    proc = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    if proc.returncode != 0:
        raise RehearsalError(f"`{' '.join(command)}` failed: {(proc.stderr or proc.stdout).strip()[-300:]}")


def prepare_user(user: str = USER) -> None:
    """A non-root user in the docker group with passwordless sudo, like GitHub's runner user."""
    if shutil.which("sudo") is None:
        _as_root(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "sudo"])
    try:
        pwd.getpwnam(user)
    except KeyError:
        _as_root(["useradd", "--create-home", "--shell", "/bin/bash", user])
    _as_root(["usermod", "-aG", "docker", user])
    sudoers = Path("/etc/sudoers.d") / user
    sudoers.write_text(f"{user} ALL=(ALL) NOPASSWD:ALL\n")
    sudoers.chmod(0o440)


def closed_folders(path: Path) -> list[Path]:
    """Folders above ``path`` that other users may not traverse (the rehearsal opens them for its length).

    >>> closed_folders(Path("/"))
    []
    """
    return [folder for folder in reversed(path.parents) if not os.stat(folder).st_mode & 0o001]


@contextmanager
def traversable(path: Path) -> Iterator[None]:
    """Let other users reach ``path`` for the length of the block: the traverse bit is added to each closed folder
    above it (here the interpreter lives under /root, mode 700), and their modes are restored afterwards."""
    opened = {folder: os.stat(folder).st_mode for folder in closed_folders(path)}
    try:
        for folder, mode in opened.items():
            os.chmod(folder, mode | 0o001)
        yield
    finally:
        for folder, mode in opened.items():
            os.chmod(folder, mode)


def setup_python() -> Path:
    """The ``bin`` folder of the Python running this: what ``actions/setup-python`` puts on the runner's PATH."""
    return Path(sys.base_prefix) / "bin"


def github_context(event: str, run_id: str) -> dict[str, Any]:
    """The ``github.*`` names the workflow uses, as a run of ``event`` on ``main`` (a pull request's ref is
    its merge ref) would see them; no token (the rehearsal reaches no GitHub API).

    >>> github_context("pull_request", "7")["github.ref"]
    'refs/pull/1/merge'
    """
    if event not in EVENTS:
        raise RehearsalError(f"the rehearsal stands for one of {', '.join(EVENTS)}, not {event!r}.")
    return {"github.event_name": event, "github.run_id": run_id, "github.run_attempt": "1",
            "github.ref": "refs/pull/1/merge" if event == "pull_request" else "refs/heads/main",
            "github.repository": "rehearsal/book", "github.workflow": "book", "github.token": ""}


def job_label(job_id: str, combo: Mapping[str, Any] | None, index: int) -> str:
    """A folder name for one run of a job: ``execute-01`` for the matrix combination named 01.

    >>> job_label("execute", {"name": "01", "pages": "a b"}, 0), job_label("plan", None, 0)
    ('execute-01', 'plan')
    """
    if combo is None:
        return job_id
    tag = re.sub(r"[^\w.-]+", "-", str(combo.get("name", index + 1))).strip("-")
    return f"{job_id}-{tag or index + 1}"


def is_artifact_step(step: Mapping[str, Any]) -> bool:
    """Whether a step is one the rehearsal emulates: an upload or a download of an artifact."""
    return str(step.get("uses", "")).split("@")[0] in (UPLOAD, DOWNLOAD)


@dataclass
class _Machine:
    """What every job of one rehearsal shares: the checkout cloned, the user, the environment, the folders."""

    root: Path
    work: Path
    user: str
    base_env: list[str]
    workflow_env: dict[str, Any] = field(default_factory=dict)
    failed_steps: int = 0
    kept: list[Path] = field(default_factory=list)

    @property
    def store(self) -> Path:
        return self.work / "artifacts"

    def give(self, path: Path) -> None:
        """Make ``path`` (recursively) the user's."""
        _as_root(["chown", "-R", f"{self.user}:{self.user}", str(path)])


def rehearse(root: Path, workflow: Path, user: str = USER, event: str = EVENT) -> int:
    """Run the workflow's jobs as ``user``, each in a fresh clone of ``root``; return the number of failed steps."""
    if os.geteuid() != 0:
        raise RehearsalError("the rehearsal makes a user and installs sudo: run it as root (make ci-rehearsal).")
    flow = read_workflow(workflow)
    context = github_context(event, f"rehearsal-{os.getpid()}")
    # The runner's engine is installed and running before any step; installing it here also makes the docker
    # group that the user joins.
    _as_root([str(root / "scripts" / "ensure-docker")])
    # The runner pulls the official bases from Docker Hub, which this machine cannot reach: they are made here,
    # as root, before any step (kept when already on the engine), so the user's steps find them as they would.
    print("rehearsal: the base images stand in for Docker Hub (bootstrapped here as root when missing)", flush=True)
    _as_root([sys.executable, "-m", "dockerlab", "bases"])
    prepare_user(user)
    work = Path(tempfile.mkdtemp(prefix="ch09-rehearsal-"))
    python = setup_python()
    path = f"{python}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    # pip's own settings (an index mirror) reach the user as they would through the runner's environment.
    pip = [f"{k}={v}" for k, v in os.environ.items() if k.startswith("PIP_")]
    machine = _Machine(root, work, user, [f"PATH={path}", *pip], dict(flow.get("env") or {}))
    finished = False
    try:
        (work / "outputs").mkdir()
        machine.store.mkdir()
        machine.give(work)
        print(f"rehearsal: the workflow as a {event} run (folder: {work})", flush=True)
        with traversable(python / "python3"):
            _run_jobs(machine, flow, context)
        finished = True
        print(f"rehearsal: {'passed' if not machine.failed_steps else f'{machine.failed_steps} step(s) failed'}",
              flush=True)
        return machine.failed_steps
    finally:
        if machine.failed_steps or not finished:
            print(f"rehearsal: kept for a look at what failed: {', '.join(map(str, machine.kept)) or work}",
                  flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
        retire_user(user)


def retire_user(user: str = USER) -> None:
    """Take back what :func:`prepare_user` gave: the passwordless sudo and the user (a member of the docker
    group, as good as root), home folder included."""
    Path("/etc/sudoers.d", user).unlink(missing_ok=True)
    remove_user(user, home=True)


def remove_user(name: str, *, home: bool) -> None:
    """Delete a user this project made for a run (the rehearsal's, a test's reader): its processes are killed
    until none is left (``userdel`` refuses while one runs), then the user, with its home folder when ``home``."""
    deadline = time.monotonic() + 30
    while subprocess.run(["pgrep", "-u", name], capture_output=True).returncode == 0:
        subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    removed = subprocess.run(["userdel", *(["--remove"] if home else []), name], capture_output=True, text=True)
    if removed.returncode != 0:
        raise RehearsalError(f"the user {name} could not be removed: {removed.stderr.strip()}")


def ancestors(jobs: Mapping[str, Any], job_id: str) -> list[str]:
    """The jobs ``job_id`` needs, and the jobs those need, in the file's order; a job that needs a later one
    (or an unknown one) is an error, since the rehearsal runs jobs in the file's order.

    >>> ancestors({"plan": {}, "execute": {"needs": "plan"}, "render": {"needs": ["execute"]}}, "render")
    ['plan', 'execute']
    """
    order = list(jobs)
    found: set[str] = set()
    todo = [job_id]
    while todo:
        needs = (jobs[todo.pop()] or {}).get("needs") or []
        for need in [needs] if isinstance(needs, str) else needs:
            if need not in jobs or order.index(need) >= order.index(job_id):
                raise RehearsalError(f"job {job_id} needs {need}, which is not a job before it in the file.")
            if need not in found:
                found.add(need)
                todo.append(need)
    return [job for job in order if job in found]


def _run_jobs(machine: _Machine, flow: Mapping[str, Any], context: Mapping[str, Any]) -> None:
    jobs: Mapping[str, Any] = flow["jobs"]
    results: dict[str, str] = {}
    outputs: dict[str, dict[str, str]] = {}
    for job_id, job in jobs.items():
        above = ancestors(jobs, job_id)
        needs = job.get("needs") or []
        ctx: dict[str, Any] = dict(context)
        for need in [needs] if isinstance(needs, str) else needs:
            ctx[f"needs.{need}.result"] = results[need]
            ctx.update({f"needs.{need}.outputs.{k}": v for k, v in outputs.get(need, {}).items()})
        status = Status(success=all(results[a] == "success" for a in above),
                        failure=any(results[a] == "failure" for a in above))
        if not condition(job.get("if"), ctx, status):
            print(f"rehearsal: job {job_id}: skipped (if: {job.get('if', 'success()')})", flush=True)
            results[job_id] = "skipped"
            continue
        steps = list(job.get("steps") or [])
        if not any("run" in s or is_artifact_step(s) for s in steps):
            print(f"rehearsal: job {job_id}: only `uses:` steps, not rehearsed", flush=True)
            results[job_id] = "success"
            continue
        strategy = job.get("strategy") or {}
        combos: list[dict[str, Any] | None] = [None]
        if "matrix" in strategy:
            combos = list(expand_matrix(value_of(strategy["matrix"], ctx)))
        results[job_id] = "success"
        for index, combo in enumerate(combos):
            if results[job_id] == "failure" and strategy.get("fail-fast", True) is not False:
                print(f"rehearsal: job {job_label(job_id, combo, index)}: cancelled (fail-fast)", flush=True)
                continue
            run_ctx = {**ctx, **{f"matrix.{k}": v for k, v in (combo or {}).items()}}
            ok, produced = _run_job(machine, job_label(job_id, combo, index), job, run_ctx)
            if not ok:
                results[job_id] = "failure"
            outputs.setdefault(job_id, {}).update({k: v for k, v in produced.items() if v})


def _run_job(machine: _Machine, label: str, job: Mapping[str, Any],
             context: dict[str, Any]) -> tuple[bool, dict[str, str]]:
    """One run of a job in a fresh clone: its steps, then its outputs evaluated from theirs."""
    clone = machine.work / label
    # Cloned as root (git refuses to serve a repository that another user owns), then given to the user.
    _as_root(["git", "clone", "-q", f"file://{machine.root}", str(clone)])
    machine.give(clone)
    ctx: dict[str, Any] = {**context, "github.workspace": str(clone), "runner.temp": str(machine.work / "outputs")}
    print(f"rehearsal: job {label} (clone: {clone})", flush=True)
    failed = 0
    for number, step in enumerate(job.get("steps") or [], 1):
        name = step.get("name") or step.get("uses") or f"step {number}"
        tag = f"rehearsal: {label} [{number}] {name}"
        if "run" not in step and not is_artifact_step(step):
            print(f"{tag}: a `uses:` step, not rehearsed", flush=True)
            continue
        if not should_run(step, ctx, failed=failed > 0):
            print(f"{tag}: skipped (if: {step.get('if', 'earlier failure')})", flush=True)
            continue
        print(tag, flush=True)
        try:
            produced = _run_step(machine, label, number, step, clone, ctx, job)
        except RehearsalError as err:
            print(f"{tag}: FAILED: {err}", flush=True)
            failed += 1
            outcome = "failure"
        else:
            outcome = "success"
            if step.get("id"):
                ctx.update({f"steps.{step['id']}.outputs.{k}": v for k, v in produced.items()})
        if step.get("id"):
            ctx[f"steps.{step['id']}.outcome"] = ctx[f"steps.{step['id']}.conclusion"] = outcome
    try:
        produced = {k: substitute(str(v), ctx) for k, v in (job.get("outputs") or {}).items()}
    except RehearsalError as err:
        print(f"rehearsal: job {label}: its outputs: {err}", flush=True)
        failed, produced = failed + 1, {}
    _clean_engine(machine, clone)
    machine.failed_steps += failed
    if failed:
        machine.kept.append(clone)
        print(f"rehearsal: job {label}: {failed} step(s) failed (clone kept: {clone})", flush=True)
    else:
        shutil.rmtree(clone, ignore_errors=True)
        print(f"rehearsal: job {label}: passed", flush=True)
    return not failed, produced


def _run_step(machine: _Machine, label: str, number: int, step: Mapping[str, Any], clone: Path,
              ctx: Mapping[str, Any], job: Mapping[str, Any]) -> dict[str, str]:
    """One step: an artifact copied, or a ``run:`` script as the user; return what it wrote to $GITHUB_OUTPUT."""
    if is_artifact_step(step):
        inputs = {k: value_of(v, ctx) for k, v in (step.get("with") or {}).items()}
        if str(step["uses"]).startswith(UPLOAD):
            files = upload_artifact(inputs, clone, machine.store)
            print(f"rehearsal: uploaded {len(files)} file(s) as artifact {inputs.get('name')}", flush=True)
        else:
            names = download_artifact(inputs, clone, machine.store)
            destination = clone / str(inputs.get("path") or ".")
            if names:
                # What the root-run copy made is the user's, as the runner's download would be.
                machine.give(clone / destination.relative_to(clone).parts[0] if destination != clone else clone)
            print(f"rehearsal: downloaded {', '.join(names) or 'nothing'} into {destination}", flush=True)
        return {}
    env = {**machine.workflow_env, **(job.get("env") or {}), **(step.get("env") or {})}
    env_pairs = [f"{key}={substitute(str(value), ctx)}" for key, value in env.items()]
    script = substitute(str(step["run"]), ctx)
    output = machine.work / "outputs" / f"{label}-{number}"
    output.write_text("")
    machine.give(output)
    cwd = clone / str(step.get("working-directory") or ".")
    proc = subprocess.run([*_as_user(machine.user), "env", *machine.base_env, *env_pairs, "CI=true",
                           f"GITHUB_WORKSPACE={clone}", f"GITHUB_OUTPUT={output}",
                           "bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd)
    if proc.returncode != 0:
        raise RehearsalError(f"exit status {proc.returncode}")
    return parse_outputs(output.read_text(encoding="utf-8"))


def _as_user(user: str) -> list[str]:
    return ["sudo", "-u", user, "-H", "--"]


def _clean_engine(machine: _Machine, clone: Path) -> None:
    """After a job, remove what its clone's book made on the engine (bases kept): the next job's runner
    would start from a fresh engine, so no page may find an image that another group built."""
    python = clone / ".venv" / "bin" / "python"
    if not python.exists():
        return
    proc = subprocess.run([str(python), "-m", "dockerlab", "clean"], cwd=clone, capture_output=True, text=True,
                          env={**os.environ, "CH09_ROOT": str(clone)})
    if proc.returncode != 0:
        print(f"rehearsal: warning: the engine could not be cleaned after the job in {clone}: "
              f"{(proc.stderr or proc.stdout).strip()[-300:]}", flush=True)


def main(argv: list[str] | None = None) -> int:
    from dockerlab.examples import project_root

    parser = argparse.ArgumentParser(prog="python -m dockerlab.rehearsal", description=__doc__.split("\n\n")[0])
    parser.add_argument("--event", choices=EVENTS, default=EVENT,
                        help="the event the run stands for (default: the nightly, every page from scratch)")
    args = parser.parse_args(argv)
    root = project_root()
    try:
        failed = rehearse(root, root / ".github" / "workflows" / "book.yml", event=args.event)
    except RehearsalError as err:
        print(f"ci-rehearsal: error: {err}", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
