"""Size budgets: one data file (``budgets.toml``) caps every example image, so a size regression
fails a test like a broken unit test would.

>>> parse_size("2MB"), parse_size("1.5 kB"), parse_size("120B")
(2000000, 1500, 120)
"""

from __future__ import annotations

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
    """Tag -> byte limit from the ``[images]`` table of ``path``."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {tag: parse_size(str(limit)) for tag, limit in data.get("images", {}).items()}


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
