"""``make ci-rehearsal``: replay the GitHub workflow's build job here, as close to GitHub's runner as this
machine allows.

GitHub's ``ubuntu-24.04`` runner is a non-root user with passwordless sudo, an engine that already runs,
and a fresh checkout. The rehearsal makes the same on this machine: a user ``ch09ci`` in the ``docker``
group with passwordless sudo, the engine started by ``scripts/ensure-docker`` with the base images on it
(bootstrapped as root when missing, where the runner would pull them from Docker Hub), a fresh clone of this
checkout in a temporary folder, and then every ``run:`` step of ``.github/workflows/book.yml``'s build
job, in order, as that user -- read from the YAML, so the rehearsal is the workflow.

What it cannot rehearse (README): Docker Hub (bases are bootstrapped from Debian packages here), the
runner's own Docker version and Ubuntu's package set, and the ``uses:`` steps (the checkout is the fresh
clone; setup-python is the Python 3.11 running the rehearsal, put first on the user's PATH -- with the traverse
bit opened on the folders above it for the rehearsal's length when they are closed, as /root is here).

>>> (should_run({"if": "failure()"}, failed=False), should_run({"if": "always()"}, failed=True),
...  should_run({}, failed=True))
(False, True, False)
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from dockerlab.errors import RehearsalError

USER = "ch09ci"
_EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def workflow_steps(path: Path, job: str = "build") -> list[dict[str, Any]]:
    """The steps of ``job`` in the workflow file, as written."""
    flow = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        return list(flow["jobs"][job]["steps"])
    except (KeyError, TypeError):
        raise RehearsalError(f"{path} has no job {job!r} with steps.") from None


def substitute(text: str, context: dict[str, str]) -> str:
    """Replace ``${{ name }}`` expressions the rehearsal knows; any other expression is an error.

    >>> substitute("PATH=${{ github.workspace }}/.x", {"github.workspace": "/w"})
    'PATH=/w/.x'
    """
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in context:
            raise RehearsalError(f"the rehearsal does not know the expression ${{{{ {name} }}}}.")
        return context[name]

    return _EXPRESSION.sub(value, text)


def should_run(step: dict[str, Any], *, failed: bool) -> bool:
    """Whether a ``run:`` step runs, after earlier steps failed or not: GitHub's rule for ``if``.

    Plain steps run while nothing failed; ``failure()`` only after a failure, ``always()`` in any case.
    Conditions on the event or the branch (deployment) are false in a rehearsal.
    """
    condition = str(step.get("if", "")).strip()
    if not condition:
        return not failed
    if condition == "always()":
        return True
    if condition == "failure()":
        return failed
    return False


def _as_root(command: list[str]) -> None:
    proc = subprocess.run(command, capture_output=True, text=True)
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


def rehearse(root: Path, workflow: Path, user: str = USER) -> int:
    """Clone ``root``, run the workflow's build job as ``user``; return the number of failed steps."""
    if os.geteuid() != 0:
        raise RehearsalError("the rehearsal makes a user and installs sudo: run it as root (make ci-rehearsal).")
    # The runner's engine is installed and running before any step; installing it here also makes the docker
    # group that the user joins.
    _as_root([str(root / "scripts" / "ensure-docker")])
    # The runner pulls the official bases from Docker Hub, which this machine cannot reach: they are made here,
    # as root, before any step (kept when already on the engine), so the user's steps find them as they would.
    print("rehearsal: the base images stand in for Docker Hub (bootstrapped here as root when missing)", flush=True)
    _as_root([sys.executable, "-m", "dockerlab", "bases"])
    prepare_user(user)
    work = Path(tempfile.mkdtemp(prefix="ch09-rehearsal-"))
    clone = work / "book"
    # Cloned as root (git refuses to serve a repository that another user owns), then given to the user.
    _as_root(["git", "clone", "-q", f"file://{root}", str(clone)])
    _as_root(["chown", "-R", f"{user}:{user}", str(work)])
    as_user = ["sudo", "-u", user, "-H", "--"]
    context = {"github.workspace": str(clone)}
    python = setup_python()
    path = f"{python}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    # pip's own settings (an index mirror) reach the user as they would through the runner's environment.
    pip = [f"{k}={v}" for k, v in os.environ.items() if k.startswith("PIP_")]
    failed = 1
    try:
        with traversable(python / "python3"):
            failed = _run_steps(workflow, clone, as_user, [f"PATH={path}", *pip], context)
        return failed
    finally:
        if failed:
            print(f"rehearsal: the clone is kept for a look at what failed: {clone}", flush=True)
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


def _run_steps(workflow: Path, clone: Path, as_user: list[str], base_env: list[str],
               context: dict[str, str]) -> int:
    failed = 0
    for number, step in enumerate(workflow_steps(workflow), 1):
        name = step.get("name") or step.get("uses") or f"step {number}"
        if "run" not in step:
            print(f"rehearsal: [{number}] {name}: a `uses:` step, not rehearsed", flush=True)
            continue
        if not should_run(step, failed=failed > 0):
            print(f"rehearsal: [{number}] {name}: skipped (if: {step.get('if', 'earlier failure')})", flush=True)
            continue
        env = {key: substitute(str(value), context) for key, value in (step.get("env") or {}).items()}
        script = substitute(str(step["run"]), context)
        print(f"rehearsal: [{number}] {name}", flush=True)
        proc = subprocess.run([*as_user, "env", *base_env, *(f"{k}={v}" for k, v in env.items()), "CI=true",
                               f"GITHUB_WORKSPACE={clone}", "bash", "-eo", "pipefail", "-c", script], cwd=clone)
        if proc.returncode != 0:
            failed += 1
            print(f"rehearsal: [{number}] {name}: FAILED with exit status {proc.returncode}", flush=True)
    print(f"rehearsal: {'passed' if not failed else f'{failed} step(s) failed'} (clone: {clone})", flush=True)
    return failed


def main(argv: list[str] | None = None) -> int:
    from dockerlab.examples import project_root

    root = project_root()
    try:
        failed = rehearse(root, root / ".github" / "workflows" / "book.yml")
    except RehearsalError as err:
        print(f"ci-rehearsal: error: {err}", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
