"""Read what BuildKit's build cache holds: ``docker system df``, ``docker buildx du`` and the engine's records.

The build cache is not made of images. It holds BuildKit's own records: the result of every
step (``regular``: a snapshot of the stage's filesystem after the step), the copies of the build
context and the Dockerfile it received (``source.local``) and the contents of cache mounts
(``exec.cachemount``). The engine lists them in ``GET /system/df`` (docker-py's ``client.df()``,
key ``BuildCache``); the CLI sums them in ``docker system df`` and ``docker buildx du``.

>>> cache_by_type([{"Type": "regular", "Size": 10}, {"Type": "exec.cachemount", "Size": 57},
...                {"Type": "regular", "Size": 5}])
[CacheKind(type='exec.cachemount', records=1, size=57), CacheKind(type='regular', records=2, size=15)]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dockerlab.engine import resolve_client
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

    >>> system_df_row("TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\\n"
    ...               "Build Cache     14        0         62.59MB   62.59MB\\n")
    {'TYPE': 'Build Cache', 'TOTAL': '14', 'ACTIVE': '0', 'SIZE': '62.59MB', 'RECLAIMABLE': '62.59MB'}
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise DockerLabError("`docker system df` printed nothing.")
    header = re.split(r"\s{2,}", lines[0].strip())
    for line in lines[1:]:
        cells = re.split(r"\s{2,}", line.strip())
        if cells and cells[0] == kind:
            return dict(zip(header, cells, strict=False))
    raise DockerLabError(f"`docker system df` has no {kind!r} row.")


def du_summary(text: str) -> dict[str, str]:
    """The summary lines at the end of ``docker buildx du`` (``Shared``, ``Private``, ``Reclaimable``, ``Total``).

    >>> du_summary("ID  RECLAIMABLE  SIZE\\nab*  true  57MB\\n"
    ...            "Shared:\\t\\t5.546MB\\nPrivate:\\t62.59MB\\nTotal:\\t\\t68.14MB\\n")
    {'Shared': '5.546MB', 'Private': '62.59MB', 'Total': '68.14MB'}
    """
    summary = {}
    for line in text.splitlines():
        if m := re.match(r"^(Shared|Private|Reclaimable|Total):\s+(\S+)\s*$", line):
            summary[m.group(1)] = m.group(2)
    if "Total" not in summary:
        raise DockerLabError("`docker buildx du` printed no Total line.")
    return summary


#: Cache mount ids the book's Dockerfiles use start with this; BuildKit records them as `with id "/ch09-…"`.
BOOK_CACHE_ID_PREFIX = "ch09-"


def book_cache_mounts(records: Iterable[Mapping[str, Any]], prefix: str = BOOK_CACHE_ID_PREFIX) -> list[str]:
    """IDs of the cache mount records whose mount id starts with ``prefix``: the book's own, and nothing else.

    >>> book_cache_mounts([
    ...     {"ID": "a1", "Type": "exec.cachemount",
    ...      "Description": 'cached mount /x from exec /bin/sh -c y with id "/ch09-apt-1"'},
    ...     {"ID": "b2", "Type": "exec.cachemount",
    ...      "Description": 'cached mount /x from exec /bin/sh -c y with id "/mine"'},
    ...     {"ID": "c3", "Type": "regular", "Description": 'mount / from exec /bin/sh -c with id "/ch09-apt-1"'}])
    ['a1']
    """
    marker = f'with id "/{prefix}'
    return [str(r["ID"]) for r in records
            if r.get("Type") == "exec.cachemount" and marker in str(r.get("Description", ""))]


def remove_book_cache_mounts(prefix: str = BOOK_CACHE_ID_PREFIX, client: Any | None = None,
                             host: str | None = None) -> int:
    """Remove the book's own cache mounts from an engine's build cache, one record at a time, and nothing else.

    ``docker builder prune --filter id=ID`` removes exactly one record; a plain prune would take
    the reader's whole build cache with it. Returns the bytes removed.
    """
    import subprocess

    from dockerlab.build import cli_env, docker_cli

    client = resolve_client(client)
    records = {str(r["ID"]): int(r.get("Size") or 0) for r in client.df().get("BuildCache") or []}
    removed = 0
    for record in book_cache_mounts(client.df().get("BuildCache") or [], prefix):
        proc = subprocess.run([docker_cli(), "builder", "prune", "--force", "--filter", f"id={record}"],
                              capture_output=True, text=True, env=cli_env(host))
        if proc.returncode != 0:
            raise DockerLabError(f"could not remove the book's cache mount {record[:12]}: {proc.stderr.strip()}")
        removed += records.get(record, 0)
    return removed
