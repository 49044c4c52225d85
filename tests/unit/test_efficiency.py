"""dive's layer efficiency on handcrafted layers whose answers are worked out by hand (no daemon)."""

from __future__ import annotations

import io
import json
import math
import tarfile

import pytest
from docker import DockerClient

from dockerlab.efficiency import (
    EfficiencyError,
    ImageEfficiency,
    LayerEntry,
    LayerFiles,
    analyze_image,
    efficiency,
    efficiency_table,
    percent_text,
    read_layer,
    waste_table,
)

from .fakes import FakeAPIClient, fake_client

L = LayerFiles.of


# --------------------------------------------------------------------------- dive's own test case


def test_dive_reference_case_scores_three_quarters():
    # dive's filetree/efficiency_test.go: tree paths without directory entries, so /etc/nginx is
    # not known to be a directory and its whiteout counts 0 bytes.
    # seen: nginx.conf 2000+5000 (min 2000), public 3000, athing 10000, /etc/nginx 0
    # score = (2000+3000+10000+0) / (7000+3000+10000+0) = 15000/20000
    result = efficiency([
        L(("etc/nginx/nginx.conf", 2000), ("etc/nginx/public", 3000)),
        L(("etc/nginx/nginx.conf", 5000), ("etc/athing", 10000)),
        L(("etc/.wh.nginx", 0)),
    ])
    assert result.score == 0.75
    wasted = [(w.path, w.cumulative_size, w.layers) for w in result.inefficiencies]
    assert wasted == [("/etc/nginx/nginx.conf", 7000, 2)]
    assert result.wasted_bytes == 7000
    assert result.size_bytes == 20000
    assert result.user_size_bytes == 15000
    assert result.user_wasted_percent == pytest.approx(7000 / 15000)


def test_directory_whiteout_counts_everything_below_it_once():
    # As docker writes layers: directory entries present. The whiteout of /etc/nginx is sized
    # from the stacked tree (nginx.conf is 5000 by then, public 3000): 8000, seen once, so
    # dive does not count it as waste. score = (2000+3000+10000+8000) / (7000+3000+10000+8000)
    result = efficiency([
        L("etc/", "etc/nginx/", ("etc/nginx/nginx.conf", 2000), ("etc/nginx/public", 3000)),
        L("etc/", "etc/nginx/", ("etc/nginx/nginx.conf", 5000), ("etc/athing", 10000)),
        L("etc/", ("etc/.wh.nginx", 0)),
    ])
    assert result.score == pytest.approx(23000 / 28000)
    assert result.wasted_bytes == 7000


# --------------------------------------------------------------------------- the basic cases


def test_overwriting_a_file_wastes_both_copies():
    result = efficiency([L(("app", 10)), L(("app", 30))])
    assert result.score == 0.25  # min 10 / (10 + 30)
    assert result.wasted_bytes == 40
    assert result.user_wasted_percent == pytest.approx(40 / 30)
    assert not result.passes_efficiency() and not result.passes_user_wasted()


def test_file_deleted_in_a_later_layer_is_wasted_with_its_size():
    # big: [1000, 0] -> min 0; keep: [100]; new: [50]
    result = efficiency([L(("big", 1000), ("keep", 100)), L((".wh.big", 0), ("new", 50))])
    assert result.score == pytest.approx(150 / 1150)
    assert result.wasted_bytes == 1000
    assert result.user_size_bytes == 50
    assert result.user_wasted_percent == 20.0


def test_file_created_and_deleted_in_the_same_layer_leaves_nothing():
    # what "clean up in the same RUN" gives: the layer holds only what survived
    result = efficiency([L(("keep", 100)), L(("new", 50))])
    assert result.score == 1.0
    assert result.wasted_bytes == 0
    assert result.user_wasted_percent == 0.0
    assert result.passes_ci()


def test_one_layer_image_is_fully_efficient_and_its_user_percent_is_nan():
    result = efficiency([L("usr/", ("usr/hello", 1234))])
    assert result.score == 1.0
    assert result.user_size_bytes == 0
    assert math.isnan(result.user_wasted_percent)
    assert result.passes_ci()  # NaN > 0.1 is false, as in Go


def test_waste_with_no_user_bytes_is_infinite_and_fails():
    result = efficiency([L(("a", 10)), L((".wh.a", 0))])
    assert result.user_wasted_percent == math.inf
    assert not result.passes_user_wasted()


def test_no_bytes_at_all_scores_one():
    assert efficiency([]).score == 1.0
    assert efficiency([L("empty/")]).score == 1.0


def test_ci_thresholds_are_inclusive_like_dive():
    # score = (1 + 89) / (1 + 10 + 89) = 0.9 exactly: dive fails only when 0.9 > score
    at_threshold = efficiency([L(("a", 1), ("b", 89)), L(("a", 10))])
    assert at_threshold.score == 0.9
    assert at_threshold.passes_efficiency()
    # wasted (1 + 1) / user (1 + 19) = 0.1 exactly: passes; one byte more of waste fails
    assert efficiency([L(("a", 1)), L(("a", 1), ("c", 19))]).passes_user_wasted()
    assert not efficiency([L(("a", 1)), L(("a", 2), ("c", 18))]).passes_user_wasted()


def test_whiteout_of_a_path_no_lower_layer_has_is_counted_as_unresolved():
    result = efficiency([L(("x", 5)), L((".wh.ghost", 0), ("y", 7))])
    assert result.unresolved_whiteouts == 1
    assert result.score == 1.0


def test_a_path_repeated_in_three_layers_counts_three_times():
    # download, chmod and chmod again: 6 + 6 + 6 wasted, smallest 6
    result = efficiency([L("bin/"), L(("bin/tool", 6)), L(("bin/tool", 6)), L(("bin/tool", 6))])
    assert result.inefficiencies[0].layers == 3
    assert result.wasted_bytes == 18
    assert result.score == pytest.approx(6 / 18)


# --------------------------------------------------------------------------- opaque directories


OPAQUE_LAYERS = [
    L("d/", ("d/a", 100), "d/sub/", ("d/sub/b", 200), ("d/keep", 50)),
    # `rm -rf /d && mkdir /d && ...`: overlayfs marks /d opaque, the layer re-adds keep and new
    L("d/", ("d/.wh..wh..opq", 0), ("d/keep", 70), ("d/new", 30)),
]


def test_opaque_directory_hides_lower_files_like_whiteouts():
    # hidden: d/a (a file: 0 bytes, like a whiteout) and d/sub (a directory: 200 below it).
    # seen: d/a [100, 0], d/sub/b [200], d/sub [200], d/keep [50, 70], d/new [30]
    result = efficiency(OPAQUE_LAYERS)
    assert result.opaque_dirs == 1
    assert result.score == pytest.approx((0 + 200 + 200 + 50 + 30) / (100 + 200 + 200 + 120 + 30))
    assert result.wasted_bytes == 100 + 120
    assert {w.path for w in result.inefficiencies} == {"/d/a", "/d/keep"}


def test_opaque_markers_ignored_reproduces_dive():
    # dive skips ".wh..wh.." names: only d/keep is seen twice
    result = efficiency(OPAQUE_LAYERS, opaque=False)
    assert result.score == pytest.approx((100 + 200 + 50 + 30) / (100 + 200 + 120 + 30))
    assert result.wasted_bytes == 120


def test_opaque_directory_clears_the_stack_for_later_whiteouts():
    # after the opaque layer, /d/sub no longer exists, so a later whiteout of it is unresolved
    result = efficiency([*OPAQUE_LAYERS, L("d/", ("d/.wh.sub", 0))])
    assert result.unresolved_whiteouts == 1
    kept = efficiency([*OPAQUE_LAYERS, L("d/", ("d/.wh.sub", 0))], opaque=False)
    assert kept.unresolved_whiteouts == 0


# --------------------------------------------------------------------------- reading real tar bytes


def _tar(members: list[tuple[str, bytes | str | None]]) -> bytes:
    """A tar in memory: bytes = regular file, None = directory, "->x" = symlink, "=>x" = hard link."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif isinstance(data, str) and data.startswith("->"):
                info.type, info.linkname = tarfile.SYMTYPE, data[2:]
                tar.addfile(info)
            elif isinstance(data, str) and data.startswith("=>"):
                info.type, info.linkname = tarfile.LNKTYPE, data[2:]
                tar.addfile(info)
            else:
                assert isinstance(data, bytes)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_read_layer_takes_header_sizes_like_dive():
    raw = _tar([
        ("usr/", None),
        ("usr/bin/", None),
        ("usr/bin/busybox", b"x" * 300),
        ("usr/bin/sh", "=>usr/bin/busybox"),
        ("usr/bin/ls", "->busybox"),
        ("tmp/.wh.junk", b""),
    ])
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r|*") as tar:
        layer = read_layer(tar)
    assert layer.size == 300  # the hard link and the symlink carry no bytes
    assert LayerEntry("usr/bin/busybox", 300, False) in layer.entries
    assert LayerEntry("usr", 0, True) in layer.entries


def _engine_with(tag: str, layers: list[bytes]) -> DockerClient:
    """A fake engine holding ``tag``, whose ``docker image save`` archive has ``layers`` (base first)."""
    paths = [f"{i:064x}/layer.tar" for i in range(len(layers))]
    files = [("manifest.json", json.dumps([{"Config": "c.json", "RepoTags": [tag], "Layers": paths}]).encode())]
    files += list(zip(paths, layers, strict=True))
    api = FakeAPIClient()
    api.add_image(tag, layers=len(layers), saved=_tar([(name, data) for name, data in files]))
    return fake_client(api)


def _analyze(tag: str, layers: list[bytes]) -> ImageEfficiency:
    """analyze_image of ``tag``, an image of ``layers`` in a fake engine."""
    return analyze_image(tag, _engine_with(tag, layers))


def test_analyze_image_reads_the_saved_layers_base_first():
    base = _tar([("app/", None), ("app/data", b"d" * 1000)])
    rewrite = _tar([("app/", None), ("app/data", b"e" * 1000)])
    result = _analyze("ch09/test:fake", [base, rewrite])
    assert result.layers == 2
    assert result.efficiency.score == 0.5
    assert result.efficiency.wasted_bytes == 2000
    assert result.efficiency.user_wasted_percent == 2.0


def test_analyze_image_of_a_missing_image_says_so_in_one_sentence():
    with pytest.raises(EfficiencyError, match="does not exist"):
        analyze_image("ch09/missing:latest", fake_client())


# --------------------------------------------------------------------------- rendering


def test_tables_mark_failures_and_show_percentages():
    good = _analyze("ch09/good:x", [_tar([("a", b"1" * 10)]), _tar([("b", b"2" * 10)])])
    bad = _analyze("ch09/bad:x", [_tar([("a", b"1" * 10)]), _tar([("a", b"2" * 30)])])
    table = efficiency_table([good, bad])
    good_row, bad_row = table.splitlines()[2:]
    assert "`ch09/good:x`" in good_row and "100.00%" in good_row and "실패" not in good_row
    assert "`ch09/bad:x`" in bad_row and "25.00%" in bad_row and bad_row.count("**실패**") == 2
    assert "`/a`" in waste_table(bad)
    assert percent_text(math.inf) == "∞"


def test_analyze_image_reports_dive_exact_numbers_beside_its_own():
    lower = _tar([("d/", None), ("d/a", b"a" * 100), ("d/sub/", None), ("d/sub/b", b"b" * 200), ("d/keep", b"k" * 50)])
    upper = _tar([("d/", None), ("d/.wh..wh..opq", b""), ("d/keep", b"K" * 70), ("d/new", b"n" * 30)])
    result = _analyze("ch09/opaque:fake", [lower, upper])
    assert result.efficiency.wasted_bytes == 220  # d/a hidden (100) + d/keep twice (50 + 70)
    assert result.as_dive.wasted_bytes == 120  # dive skips the opaque marker
    assert result.efficiency.opaque_dirs == result.as_dive.opaque_dirs == 1


def test_long_paths_are_shortened_in_the_middle():
    long = "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4"
    bad = _analyze("ch09/lists:x", [_tar([(long[1:], b"1" * 10)]), _tar([(long[1:], b"2" * 10)])])
    row = waste_table(bad).splitlines()[2]
    assert "…" in row and row.startswith("| `/var/lib/apt/") and "Packages.lz4`" in row
