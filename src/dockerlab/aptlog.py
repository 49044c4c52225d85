"""Where an ``apt-get update && apt-get install`` step spent its time, read from BuildKit's plain log.

BuildKit's ``--progress=plain`` log stamps every line a step prints with the seconds since the step
started (``#8 1.234 Fetched 9 kB in 0s``). apt prints ``Reading package lists...`` twice in such a step:
when ``apt-get update`` has fetched the lists, and when ``apt-get install`` starts reading them; ``Need to
get …`` before it fetches the .debs, and a ``Fetched …`` line after each of its two downloads.

>>> log = ["#8 [2/2] RUN apt-get update && apt-get install -y curl", "#8 1.5 Fetched 9000 kB in 1s (7 MB/s)",
...        "#8 1.6 Reading package lists...", "#8 2.1 Reading package lists...", "#8 2.3 Building dependency tree...",
...        "#8 2.5 Need to get 4630 kB of archives.", "#8 3.0 Fetched 4630 kB in 0s (20 MB/s)", "#8 DONE 5.0s"]
>>> t = apt_timeline(log)
>>> [round(s, 2) for s in (t.lists_s, t.reread_s, t.debs_s, t.rest_s)], t.lists, t.debs
([1.6, 0.2, 0.5, 2.7], 9000000, 4630000)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dockerlab.errors import DockerLabError

_TIMED = re.compile(r"^#(\d+) (\d+\.\d+) (.*)$")
_RUN = re.compile(r"^#(\d+) \[[^\]]*\] RUN ")
_FETCHED = re.compile(r"^Fetched (\d+(?:\.\d+)?) (B|kB|MB|GB) in ")
_UNITS = {"B": 1, "kB": 10**3, "MB": 10**6, "GB": 10**9}


@dataclass(frozen=True)
class AptTimeline:
    """The seconds of one apt step's phases, and the bytes apt said it fetched."""

    lists_s: float  # from the step's start until `apt-get update` has fetched the lists
    reread_s: float  # `apt-get install` reading the lists again, until "Building dependency tree"
    debs_s: float  # from "Need to get" until the .debs are fetched
    rest_s: float  # everything else: the lists' processing, resolving, unpacking, configuring
    lists: int  # bytes of lists fetched (apt's own "Fetched" line)
    debs: int  # bytes of .debs fetched

    @property
    def fetch_s(self) -> float:
        """Seconds spent downloading: the lists and the .debs."""
        return self.lists_s + self.debs_s


def apt_timeline(log: Sequence[str]) -> AptTimeline:
    """The first ``RUN`` step's :class:`AptTimeline` in a BuildKit plain log (raises if the log has no apt step)."""
    step = next((m.group(1) for line in log if (m := _RUN.match(line))), None)
    if step is None:
        raise DockerLabError("the build log has no RUN step to read apt's timeline from.")
    timed = [(float(m.group(2)), m.group(3)) for line in log if (m := _TIMED.match(line)) and m.group(1) == step]
    reading = [t for t, text in timed if text.startswith("Reading package lists")]
    done = next((float(line.split()[-1].rstrip("s")) for line in log if line.startswith(f"#{step} DONE ")), None)
    need = next((t for t, text in timed if text.startswith("Need to get")), None)
    if len(reading) < 2 or done is None or need is None:
        raise DockerLabError(f"step #{step} of the build log is not an apt-get update && apt-get install that ran.")
    lists_done, update_end = reading[0], reading[1]
    fetched = [(t, int(float(m.group(1)) * _UNITS[m.group(2)])) for t, text in timed if (m := _FETCHED.match(text))]
    tree = next(t for t, text in timed if t >= update_end and text.startswith("Building dependency tree"))
    debs_done = next((t for t, _ in fetched if t > update_end), need)  # no Fetched line: nothing to download
    lists_s, reread_s, debs_s = lists_done, tree - update_end, debs_done - need
    return AptTimeline(lists_s=lists_s, reread_s=reread_s, debs_s=debs_s,
                       rest_s=done - lists_s - reread_s - debs_s,
                       lists=sum(b for t, b in fetched if t <= update_end),
                       debs=sum(b for t, b in fetched if t > update_end))
