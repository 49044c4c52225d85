"""apt's phases read from BuildKit's plain log (page 03-5's table)."""

from __future__ import annotations

import pytest

from dockerlab.aptlog import apt_timeline
from dockerlab.errors import DockerLabError

#: Shaped like a real second build with apt's cache mounted: lists already there ("Hit"), one small .deb fetched.
CACHED = [
    "#6 [internal] load build context",
    "#6 DONE 0.0s",
    "#7 [1/1] RUN --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y curl jq",
    "#7 0.301 Hit:1 http://deb.debian.org/debian bookworm InRelease",
    "#7 0.410 Get:2 http://deb.debian.org/debian bookworm-updates InRelease [55.4 kB]",
    "#7 0.702 Fetched 151 kB in 0s (393 kB/s)",
    "#7 0.950 Reading package lists...",
    "#7 1.820 Reading package lists...",
    "#7 2.040 Building dependency tree...",
    "#7 2.210 Need to get 387 kB of archives.",
    "#7 2.480 Fetched 387 kB in 0s (1430 kB/s)",
    "#7 4.100 Setting up jq (1.6-2.1) ...",
    "#7 DONE 4.6s",
    "#8 exporting to image",
]


def test_the_phases_add_up_to_the_steps_time_and_the_bytes_are_apts_own() -> None:
    t = apt_timeline(CACHED)
    assert t.lists_s == pytest.approx(0.95)
    assert t.reread_s == pytest.approx(0.22)
    assert t.debs_s == pytest.approx(0.27)
    assert t.lists_s + t.reread_s + t.debs_s + t.rest_s == pytest.approx(4.6)
    assert (t.lists, t.debs) == (151_000, 387_000)
    assert t.fetch_s == pytest.approx(1.22)


def test_nothing_to_download_is_no_time_and_no_bytes() -> None:
    log = [line for line in CACHED if "387 kB in" not in line]
    t = apt_timeline(log)
    assert t.debs_s == 0 and t.debs == 0


@pytest.mark.parametrize("log", [[], [line for line in CACHED if "Reading package lists" not in line]])
def test_a_log_without_an_apt_step_is_one_sentence(log: list[str]) -> None:
    with pytest.raises(DockerLabError, match="build log"):
        apt_timeline(log)
