"""Reading OCI image archives, comparing two builds, and the build helpers around them (no daemon).

The archives are built here, byte for byte as BuildKit lays them out: ``index.json`` pointing at a
manifest, the manifest at a config and layer blobs under ``blobs/sha256/``.
"""

from __future__ import annotations

import doctest
import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from dockerlab import reproducible
from dockerlab.build import BuildResult
from dockerlab.reproducible import (
    DIGEST,
    Epoch,
    FileChange,
    LayerFile,
    ReproducibleError,
    changed_paths,
    compare_archives,
    file_changes,
    file_sha256,
    forget_untagged,
    image_files,
    oci_digest,
    oci_image,
    oci_output,
    reader_command,
    source_date_epoch,
    utc,
)

from .fakes import FakeAPIClient, fake_client

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
EPOCH = 1_795_885_900


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _tar(entries: list[tuple[str, bytes | None, float, int]]) -> bytes:
    """A layer tar: (path, content or None for a directory, mtime, mode)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content, mtime, mode in entries:
            info = tarfile.TarInfo(name)
            info.mtime = mtime
            info.mode = mode
            if content is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return out.getvalue()


def make_archive(path: Path, layers: list[list[tuple[str, bytes | None, float, int]]], *,
                 created: str = "2026-11-28T17:11:40Z", compress: bool = False, attestation: bool = False) -> Path:
    """Write an OCI layout archive holding one image with ``layers``; returns ``path``."""
    blobs: dict[str, bytes] = {}

    def blob(data: bytes) -> str:
        digest = _sha(data)
        blobs[digest] = data
        return digest

    layer_descs, diff_ids = [], []
    for entries in layers:
        raw = _tar(entries)
        diff_ids.append(_sha(raw))
        stored = gzip.compress(raw, mtime=0) if compress else raw
        layer_descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if compress else ""),
                            "digest": blob(stored), "size": len(stored)})
    config = json.dumps({"architecture": "amd64", "os": "linux", "created": created,
                         "history": [{"created": created, "created_by": "COPY hello / # buildkit"}],
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}, sort_keys=True).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST,
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": blob(config), "size": len(config)},
                           "layers": layer_descs}, sort_keys=True).encode()
    top = {"mediaType": MANIFEST, "digest": blob(manifest), "size": len(manifest),
           "platform": {"architecture": "amd64", "os": "linux"}}
    if attestation:
        statement = b'{"predicate": {"metadata": {"buildStartedOn": "2026-11-29T14:00:00Z"}}}'
        att = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST,
                          "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                     "digest": blob(b"{}"), "size": 2},
                          "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": blob(statement),
                                      "size": len(statement)}]}).encode()
        inner = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": [
            {"mediaType": MANIFEST, "digest": blob(att), "size": len(att),
             "platform": {"architecture": "unknown", "os": "unknown"}},
            top,
        ]}).encode()
        top = {"mediaType": INDEX, "digest": blob(inner), "size": len(inner)}
    index = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": [top]}).encode()
    members = {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}', "index.json": index,
               **{"blobs/sha256/" + d.split(":", 1)[1]: data for d, data in sorted(blobs.items())}}
    with tarfile.open(path, "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            archive.addfile(info, io.BytesIO(data))
    return path


HELLO = [[("hello", b"\x7fELF hello", 1_795_962_314, 0o755)]]


def test_the_digest_is_the_manifest_index_json_points_at(tmp_path: Path) -> None:
    path = make_archive(tmp_path / "a.tar", HELLO)
    image = oci_image(path)
    with tarfile.open(path) as archive:
        manifest = archive.extractfile("blobs/sha256/" + image.manifest_digest.split(":")[1]).read()
    assert DIGEST.match(image.digest)
    assert image.digest == image.manifest_digest == _sha(manifest) == oci_digest(path)
    assert image.created == "2026-11-28T17:11:40Z"
    assert image.history_created == ("2026-11-28T17:11:40Z",)
    assert len(image.layers) == len(image.diff_ids) == 1


def test_two_identical_builds_compare_equal(tmp_path: Path) -> None:
    first = make_archive(tmp_path / "1.tar", HELLO)
    second = make_archive(tmp_path / "2.tar", HELLO)
    diff = compare_archives(first, second)
    assert diff.same_digest and diff.same_config
    assert diff.config_fields == () and diff.layers == () and diff.files == ()
    assert diff.summary() == "same digest"
    assert file_sha256(first) == file_sha256(second)


def test_build_times_in_the_config_change_the_digest_but_no_layer(tmp_path: Path) -> None:
    first = make_archive(tmp_path / "1.tar", HELLO, created="2026-11-29T14:26:43Z")
    second = make_archive(tmp_path / "2.tar", HELLO, created="2026-11-29T14:26:44Z")
    diff = compare_archives(first, second)
    assert not diff.same_digest
    assert diff.config_fields == ("created", "history")
    assert diff.layers == () and diff.files == ()
    assert diff.summary() == "config: created, history"


def test_a_file_mtime_changes_the_layer_and_is_named(tmp_path: Path) -> None:
    later = [[("hello", b"\x7fELF hello", 1_795_962_400, 0o755)]]
    diff = compare_archives(make_archive(tmp_path / "1.tar", HELLO), make_archive(tmp_path / "2.tar", later))
    assert not diff.same_digest
    assert diff.config_fields == ("rootfs",)
    assert diff.layers == (1,) and diff.blobs == (1,)
    assert [(c.layer, c.path, c.what, c.first_mtime, c.second_mtime) for c in diff.files] == [
        (1, "hello", "mtime", 1_795_962_314.0, 1_795_962_400.0)]
    assert diff.summary() == "config: rootfs; layers: 1; files: mtime"


def test_only_the_layer_that_differs_is_listed_in_gzip_archives(tmp_path: Path) -> None:
    certs = [("etc", None, 100, 0o755), ("etc/ca.crt", b"CA", 100, 0o644)]
    one = make_archive(tmp_path / "1.tar", [certs, [("webapi", b"bin", 100, 0o755)]], compress=True)
    two = make_archive(tmp_path / "2.tar", [certs, [("webapi", b"bin", 200, 0o755)]], compress=True)
    diff = compare_archives(one, two)
    assert diff.layers == (2,)
    assert [(c.layer, c.path, c.what) for c in diff.files] == [(2, "webapi", "mtime")]
    assert all(layer.media_type.endswith("+gzip") for layer in oci_image(one).layers)


def test_content_mode_and_added_files_are_told_apart(tmp_path: Path) -> None:
    one = make_archive(tmp_path / "1.tar", [[("a", b"1", 5, 0o644), ("b", b"x", 5, 0o644), ("c", b"y", 5, 0o644)]])
    two = make_archive(tmp_path / "2.tar", [[("a", b"2", 5, 0o644), ("b", b"x", 5, 0o600), ("d", b"z", 5, 0o644)]])
    kinds = {c.path: c.what for c in compare_archives(one, two).files}
    assert kinds == {"a": "content", "b": "metadata", "c": "only in first", "d": "only in second"}


def test_file_changes_ignores_equal_entries_and_sorts_by_path() -> None:
    same = LayerFile("etc", "dir", 0o755, (0, 0), 0, 1.0, "")
    first = {"etc": same, "z": LayerFile("z", "file", 0o644, (0, 0), 1, 1.0, "aa"),
             "a": LayerFile("a", "file", 0o644, (0, 0), 1, 1.0, "aa")}
    second = {"etc": same, "z": LayerFile("z", "file", 0o644, (0, 0), 1, 2.0, "aa"),
              "a": LayerFile("a", "file", 0o644, (0, 0), 1, 3.0, "aa")}
    assert [(c.path, c.what) for c in file_changes(1, first, second)] == [("a", "mtime"), ("z", "mtime")]


def test_layer_paths_lose_a_leading_dot_slash_but_keep_hidden_names(tmp_path: Path) -> None:
    path = make_archive(tmp_path / "a.tar", [[("./.hidden", b"x", 5, 0o644), ("./etc/", None, 5, 0o755)]])
    assert sorted(image_files(path)[0]) == [".hidden", "etc"]


def test_an_index_with_an_attestation_keeps_the_index_digest(tmp_path: Path) -> None:
    plain = oci_image(make_archive(tmp_path / "plain.tar", HELLO))
    attested = oci_image(make_archive(tmp_path / "attested.tar", HELLO, attestation=True))
    # The image inside is the same; what a registry would name the image is not.
    assert attested.manifest_digest == plain.manifest_digest
    assert attested.digest != plain.digest and DIGEST.match(attested.digest)
    assert attested.config_digest == plain.config_digest


def test_a_file_that_is_no_oci_layout_says_so(tmp_path: Path) -> None:
    path = tmp_path / "x.tar"
    with tarfile.open(path, "w") as archive:
        info = tarfile.TarInfo("manifest.json")
        archive.addfile(info, io.BytesIO(b""))
    with pytest.raises(ReproducibleError, match="index.json"):
        oci_image(path)


def test_epoch_helpers() -> None:
    assert utc(EPOCH) == "2026-11-28T17:11:40Z"
    assert Epoch(EPOCH, "git").iso == "2026-11-28T17:11:40Z"
    assert Epoch(EPOCH, "git").env == {"SOURCE_DATE_EPOCH": str(EPOCH)}
    assert oci_output(Path("/w/a.tar"), rewrite_timestamp=False) == "type=oci,dest=/w/a.tar"


def _git(folder: Path, *args: str, when: int | None = None) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{when} +0000"
    subprocess.run(["git", *args], cwd=folder, env=env, check=True, capture_output=True)


def test_source_date_epoch_is_the_last_commit_touching_the_folder(tmp_path: Path) -> None:
    (tmp_path / "hello").mkdir()
    (tmp_path / "other").mkdir()
    _git(tmp_path, "init", "-q")
    (tmp_path / "hello" / "hello.go").write_text("package main\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "hello", when=1_700_000_000)
    (tmp_path / "other" / "x").write_text("x")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "other", when=1_800_000_000)
    # An uncommitted edit does not move it either: CI builds commits.
    (tmp_path / "hello" / "hello.go").write_text("package main // edited\n")
    assert source_date_epoch(tmp_path / "hello") == Epoch(1_700_000_000, "git")
    assert source_date_epoch(tmp_path / "other") == Epoch(1_800_000_000, "git")


def test_without_git_history_the_newest_file_time_is_used(tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    folder.mkdir()
    for name, when in [("a", 1_600_000_000), ("b", 1_650_000_000)]:
        (folder / name).write_text(name)
        os.utime(folder / name, (when, when))
    assert source_date_epoch(folder) == Epoch(1_650_000_000, "mtime")
    with pytest.raises(ReproducibleError, match="no git history"):
        empty = tmp_path / "empty"
        empty.mkdir()
        source_date_epoch(empty)


def test_reader_command_names_the_archive_and_the_epoch() -> None:
    build = BuildResult("", (), 1.0, "buildkit", (
        "/usr/bin/docker", "buildx", "build", "--output=type=oci,dest=/w/oci/webapi-1.tar,rewrite-timestamp=true",
        "--builder", "default", "--progress=plain", "--target", "runtime-scratch", "--no-cache",
        "--iidfile", "/tmp/iid", "--provenance=false", "."))
    assert reader_command(build, EPOCH, Path("/w/oci/webapi-1.tar")) == (
        f"SOURCE_DATE_EPOCH={EPOCH} docker buildx build --output=type=oci,dest=webapi-1.tar,rewrite-timestamp=true "
        "--target runtime-scratch --no-cache --provenance=false .")
    assert reader_command(build, None).startswith("docker buildx build --output=type=oci,dest=/w/oci/")


def test_reproducible_build_exports_an_oci_archive_with_the_epoch(tmp_path: Path, monkeypatch) -> None:
    seen: dict[str, Any] = {}

    def fake_build(context, tag, **kwargs):
        seen.update(kwargs, tag=tag)
        dest = Path(kwargs["output"].split("dest=")[1].split(",")[0])
        make_archive(dest, HELLO)
        return BuildResult("", (), 0.5, "buildkit", ("docker", "buildx", "build", f"--output={kwargs['output']}", "."))

    monkeypatch.setattr(reproducible, "docker_build", fake_build)
    result = reproducible.reproducible_build(tmp_path, tmp_path / "out" / "hello-1.tar", what="examples/hello",
                                             epoch=EPOCH, host="unix:///n/docker.sock")
    assert seen["tag"] is None and seen["no_cache"] is True and seen["host"] == "unix:///n/docker.sock"
    assert seen["output"].endswith(",rewrite-timestamp=true") and seen["output"].startswith("type=oci,dest=")
    assert seen["options"] == ["--provenance=false"]
    assert seen["env"] == {"SOURCE_DATE_EPOCH": str(EPOCH)}
    assert result.digest == oci_digest(result.archive) and result.sha256 == file_sha256(result.archive)
    assert result.command.startswith(
        f"SOURCE_DATE_EPOCH={EPOCH} docker buildx build --output=type=oci,dest=hello-1.tar")

    reproducible.reproducible_build(tmp_path, tmp_path / "out" / "c.tar", what="x", epoch=None,
                                    rewrite_timestamp=False, default_attestations=True)
    assert seen["output"] == f"type=oci,dest={tmp_path / 'out' / 'c.tar'}"
    assert seen["options"] == [] and seen["env"] is None


class _Proc:
    def __init__(self, returncode: int, stderr: str) -> None:
        self.returncode, self.stderr, self.stdout = returncode, stderr, ""


def test_build_refusal_keeps_the_builders_whole_explanation(tmp_path: Path, monkeypatch) -> None:
    stderr = ("#0 building with \"default\" instance using docker driver\n"
              "ERROR: OCI exporter is not supported for the docker driver.\n"
              "Switch to a different driver, or turn on the containerd image store, and try again.\n"
              "Learn more at https://docs.docker.com/go/build-exporters/\n")
    calls = []
    monkeypatch.setattr(reproducible.subprocess, "run", lambda cmd, **kw: calls.append((cmd, kw)) or _Proc(1, stderr))
    text = reproducible.build_refusal(tmp_path, "type=oci,dest=x.tar", epoch=0)
    assert text == ("OCI exporter is not supported for the docker driver. Switch to a different driver, or turn on "
                    "the containerd image store, and try again. Learn more at https://docs.docker.com/go/build-exporters/")
    command, kwargs = calls[0]
    assert "--output=type=oci,dest=x.tar" in command and command[-1] == "."
    assert kwargs["env"]["SOURCE_DATE_EPOCH"] == "0"
    monkeypatch.setattr(reproducible.subprocess, "run", lambda cmd, **kw: _Proc(0, ""))
    assert reproducible.build_refusal(tmp_path, "type=oci,dest=x.tar") is None


OURS = {"org.ch09book.project": "ch09"}


def test_forget_untagged_removes_only_the_books_untagged_images() -> None:
    api = FakeAPIClient()
    old = api.add_image(labels=OURS)
    api.add_image("ch09/repro-hello:latest", labels=OURS)
    theirs = api.add_image(labels={})
    busy = api.add_image(labels=OURS)
    fake_client(api).containers.create(busy)  # a container still uses it
    assert forget_untagged(old, api) is True
    assert forget_untagged("ch09/repro-hello:latest", api) is False
    assert forget_untagged(theirs, api) is False
    assert forget_untagged(busy, api) is False
    assert forget_untagged("sha256:" + "9" * 64, api) is False  # gone already
    assert [args["image"] for method, args in api.calls if method == "remove_image"] == [old, busy]
    assert old not in api.image_store and busy in api.image_store


def test_loaded_build_saves_the_image_and_forgets_the_one_it_replaced(tmp_path: Path, monkeypatch) -> None:
    tag = "ch09/repro-hello:latest"
    api = FakeAPIClient()
    one = api.add_image(tag, labels=OURS)
    seen: dict[str, Any] = {}

    def fake_build(context, build_tag, **kwargs):
        seen.update(kwargs)
        two = api.add_image(build_tag, labels=OURS, saved=b"archive-bytes")  # the tag moves to the new image
        return BuildResult(two, (), 0.5, "buildkit",
                           ("docker", "buildx", "build", "--load", "-t", build_tag, "."))

    monkeypatch.setattr(reproducible, "docker_build", fake_build)
    result = reproducible.loaded_build(tmp_path, tag, tmp_path / "saved" / "2.tar", example="hello", epoch=EPOCH,
                                       rewrite_timestamp=True, client=api)
    assert result.image_id == api.inspect_image(tag)["Id"] != one
    assert result.archive.read_bytes() == b"archive-bytes"
    assert [args["image"] for method, args in api.calls if method == "remove_image"] == [one]
    assert one not in api.image_store
    assert seen["no_cache"] is True and seen["output"] == "type=docker,rewrite-timestamp=true"
    assert seen["labels"] == {"org.ch09book.project": "ch09", "org.ch09book.example": "hello"}
    assert seen["env"] == {"SOURCE_DATE_EPOCH": str(EPOCH)}
    assert result.command.startswith(f"SOURCE_DATE_EPOCH={EPOCH} docker buildx build")


def test_changed_paths_keeps_order_and_kinds() -> None:
    changes = [FileChange(1, "etc", "mtime", 1.0, 2.0), FileChange(1, "etc/ssl", "mtime", 1.0, 2.0),
               FileChange(2, "webapi", "content", 1.0, 2.0), FileChange(2, "etc", "mtime", 1.0, 2.0)]
    assert changed_paths(changes) == ["etc", "etc/ssl", "webapi"]
    assert changed_paths(changes, ["content"]) == ["webapi"]


def test_the_module_examples_hold() -> None:
    assert doctest.testmod(reproducible).failed == 0
