"""Size budgets: one data file (``budgets.toml``) caps every example image, so a size regression
fails a test like a broken unit test would.

>>> parse_size("2MB"), parse_size("1.5 kB"), parse_size("120B")
(2000000, 1500, 120)
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dockerlab.errors import DockerLabError
from dockerlab.sizes import human_size

_UNITS = {"B": 1, "kB": 10**3, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)\s*$")


def parse_size(text: str) -> int:
    """Bytes in a size written like docker prints it (``1.82MB``; decimal units, or KiB/MiB/GiB)."""
    match = _SIZE.match(text)
    if not match or match.group(2) not in _UNITS:
        raise DockerLabError(f"not a size: {text!r} (write e.g. 2MB, 750kB or 1.5GB).")
    return round(float(match.group(1)) * _UNITS[match.group(2)])


@dataclass(frozen=True)
class Budget:
    tag: str
    limit: int
    size: int | None  # None: the image does not exist

    @property
    def ok(self) -> bool:
        return self.size is not None and self.size <= self.limit

    def sentence(self) -> str:
        if self.size is None:
            return f"{self.tag}: no such image (its budget is {human_size(self.limit)})"
        verdict = "within" if self.ok else "OVER"
        return f"{self.tag}: {human_size(self.size)} is {verdict} its budget of {human_size(self.limit)}"


def load_budgets(path: Path) -> dict[str, int]:
    """Tag -> byte limit from the ``[images]`` table of ``path``.

    A missing, unreadable or empty file, or a budget that is not a size, raises
    :class:`DockerLabError` with one sentence naming the file: a check of nothing must not pass.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DockerLabError(f"{path}: no such budget file.") from None
    except tomllib.TOMLDecodeError as err:
        raise DockerLabError(f"{path}: not valid TOML ({err}).") from None
    images = data.get("images")
    if not isinstance(images, dict) or not images:
        raise DockerLabError(f"{path}: no image budgets (an [images] table with one \"tag\" = \"size\" per image).")
    budgets = {}
    for tag, limit in images.items():
        if not isinstance(limit, str):
            raise DockerLabError(f"{path}: the budget of {tag} must be a size in quotes, e.g. \"2MB\", not {limit!r}.")
        try:
            budgets[tag] = parse_size(limit)
        except DockerLabError as err:
            raise DockerLabError(f"{path}: the budget of {tag} is {err}") from None
    return budgets


def check_budgets(path: Path, client: Any | None = None) -> list[Budget]:
    """Compare every budgeted image's size (``docker image inspect``) with its limit."""
    from docker.errors import ImageNotFound

    from dockerlab.measure import image_stats

    results = []
    for tag, limit in load_budgets(path).items():
        try:
            size: int | None = image_stats(tag, client).size
        except ImageNotFound:
            size = None
        results.append(Budget(tag, limit, size))
    return results


#: A new budget is the measured size plus this share, written with two significant digits.
HEADROOM = 0.10


def budget_for(size: int, headroom: float = HEADROOM) -> str:
    """The budget text for an image of ``size`` bytes: size + ``headroom``, rounded up to two significant digits.

    >>> budget_for(1_814_796), budget_for(148_241_320), budget_for(640)
    ('2MB', '170MB', '710B')
    """
    target = size * (1 + headroom)
    unit, scale = "B", 1
    for name, factor in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if target >= factor:
            unit, scale = name, factor
            break
    value = target / scale
    step = 10 ** (len(str(int(value))) - 2) if value >= 10 else 0.1
    rounded = math.ceil(value / step - 1e-9) * step
    text = f"{rounded:.0f}" if rounded >= 10 or float(rounded).is_integer() else f"{rounded:.1f}"
    return f"{text}{unit}"


def reset_budgets(path: Path, client: Any | None = None) -> list[tuple[str, str, str]]:
    """Rewrite every budget in ``path`` as measured size + :data:`HEADROOM`, keeping comments and order.

    Returns (tag, old, new) for each budget. An image that does not exist keeps its budget.
    Used after a deliberate change of what the book builds (e.g. a new builder), never to hide growth.
    """
    from docker.errors import ImageNotFound

    from dockerlab.measure import image_stats

    changes = []
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for i, line in enumerate(lines):
        match = re.match(r'^(\s*"([^"]+)"\s*=\s*")([^"]+)(".*)$', line.rstrip("\n"))
        if not match:
            continue
        try:
            size = image_stats(match.group(2), client).size
        except ImageNotFound:
            continue
        new = budget_for(size)
        changes.append((match.group(2), match.group(3), new))
        lines[i] = f"{match.group(1)}{new}{match.group(4)}\n"
    path.write_text("".join(lines), encoding="utf-8")
    return changes
