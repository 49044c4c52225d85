"""Read what BuildKit's build cache holds: ``docker system df``, ``docker buildx du`` and the engine's records.

The build cache is not made of images. It holds BuildKit's own records: the result of every
step (``regular``: a snapshot of the stage's filesystem after the step), the copies of the build
context and the Dockerfile it received (``source.local``) and the contents of cache mounts
(``exec.cachemount``). The engine lists them in ``GET /system/df`` (docker-py's ``client.df()``,
key ``BuildCache``); the CLI sums them in ``docker system df`` and ``docker buildx du``.

>>> cache_by_type([{"Type": "regular", "Size": 10}, {"Type": "exec.cachemount", "Size": 57}, {"Type": "regular", "Size": 5}])
[CacheKind(type='exec.cachemount', records=1, size=57), CacheKind(type='regular', records=2, size=15)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from dockerlab.errors import DockerLabError


@dataclass(frozen=True)
class CacheKind:
    """The build cache records of one type: how many, and their bytes."""

    type: str
    records: int
    size: int


def cache_by_type(records: Iterable[Mapping[str, Any]]) -> list[CacheKind]:
    """Group the engine's build cache records (``client.df()["BuildCache"]``) by type, largest first."""
    totals: dict[str, list[int]] = {}
    for record in records:
        entry = totals.setdefault(str(record.get("Type", "")), [0, 0])
        entry[0] += 1
        entry[1] += int(record.get("Size") or 0)
    kinds = [CacheKind(kind, count, size) for kind, (count, size) in totals.items()]
    return sorted(kinds, key=lambda k: (-k.size, k.type))


def system_df_row(text: str, kind: str = "Build Cache") -> dict[str, str]:
    """One row of ``docker system df`` (``TYPE  TOTAL  ACTIVE  SIZE  RECLAIMABLE``) by its type.

    >>> system_df_row("TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\\nBuild Cache     14        0         62.59MB   62.59MB\\n")
    {'TYPE': 'Build Cache', 'TOTAL': '14', 'ACTIVE': '0', 'SIZE': '62.59MB', 'RECLAIMABLE': '62.59MB'}
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise DockerLabError("`docker system df` printed nothing.")
    header = re.split(r"\s{2,}", lines[0].strip())
    for line in lines[1:]:
        cells = re.split(r"\s{2,}", line.strip())
        if cells and cells[0] == kind:
            return dict(zip(header, cells))
    raise DockerLabError(f"`docker system df` has no {kind!r} row.")


def du_summary(text: str) -> dict[str, str]:
    """The summary lines at the end of ``docker buildx du`` (``Shared``, ``Private``, ``Reclaimable``, ``Total``).

    >>> du_summary("ID  RECLAIMABLE  SIZE\\nab*  true  57MB\\nShared:\\t\\t5.546MB\\nPrivate:\\t62.59MB\\nTotal:\\t\\t68.14MB\\n")
    {'Shared': '5.546MB', 'Private': '62.59MB', 'Total': '68.14MB'}
    """
    summary = {}
    for line in text.splitlines():
        if m := re.match(r"^(Shared|Private|Reclaimable|Total):\s+(\S+)\s*$", line):
            summary[m.group(1)] = m.group(2)
    if "Total" not in summary:
        raise DockerLabError("`docker buildx du` printed no Total line.")
    return summary
