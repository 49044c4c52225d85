"""Finding a token in a saved image: config strings and layer files, on archives built in memory (no daemon)."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from dockerlab.leaks import (
    Finding,
    _server_files,
    _stream_contains,
    find_bytes,
    find_in_archive,
    find_in_config,
    find_in_layer,
)

from .fakes import FakeAPIClient, fake_client

TOKEN = "9121d4928e0d95e5a7558fe0b046461a"


def _tar(entries: list[tuple[str, bytes | None | str]]) -> bytes:
    """A tar of files (bytes), directories (None) and symlinks ("->target")."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif isinstance(data, str):
                info.type, info.linkname = tarfile.SYMTYPE, data.removeprefix("->")
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _config(env: list[str], history: list[str]) -> dict:
    return {
        "architecture": "amd64",
        "config": {"Env": env, "Cmd": ["sh"]},
        "history": [{"created_by": h} for h in history],
        "rootfs": {"type": "layers", "diff_ids": []},
    }


def _saved(config: dict, layers: list[bytes], oci: bool = True) -> bytes:
    """A ``docker image save`` archive: OCI blob paths (Engine 25+) or the legacy ``<id>/layer.tar`` ones."""
    if oci:
        config_path = "blobs/sha256/" + "c" * 64
        paths = [f"blobs/sha256/{i:064x}" for i in range(len(layers))]
    else:
        config_path = "c" * 64 + ".json"
        paths = [f"{i:064x}/layer.tar" for i in range(len(layers))]
    manifest = [{"Config": config_path, "RepoTags": ["ch09/test:fake"], "Layers": paths}]
    files = [("manifest.json", json.dumps(manifest).encode()), (config_path, json.dumps(config).encode())]
    return _tar(files + list(zip(paths, layers, strict=True)))


def _search(raw: bytes, needle: str | bytes, **kwargs) -> list[Finding]:
    with tarfile.open(fileobj=io.BytesIO(raw)) as archive:
        return find_in_archive(archive, needle, **kwargs)


BASE = _tar([("bin/", None), ("bin/sh", b"\x7fELF" + b"\0" * 100)])


# --------------------------------------------------------------------------- the four ways a token travels


def test_a_build_argument_is_found_in_the_history_only() -> None:
    config = _config(["PATH=/bin"], ["ADD file:x in /", "ARG TOKEN",
                                     f"RUN |1 TOKEN={TOKEN} /bin/sh -c wget http://u:$TOKEN@h/f # buildkit"])
    found = _search(_saved(config, [BASE, _tar([("f", b"data")])]), TOKEN)
    assert found == [Finding("config", "history[2].created_by")]
    assert found[0].where == "설정 history[2].created_by"


def test_an_env_is_found_in_env_and_in_the_history() -> None:
    config = _config(["PATH=/bin", f"TOKEN={TOKEN}"], ["ADD file:x in /", f"ENV TOKEN={TOKEN}"])
    found = _search(_saved(config, [BASE]), TOKEN)
    assert [f.location for f in found] == ["config.Env[1]", "history[1].created_by"]


def test_a_copied_file_deleted_later_is_still_in_the_layer_that_added_it() -> None:
    config = _config(["PATH=/bin"], ["ADD file:x in /", "COPY token /tmp/token", "RUN wget ... && rm /tmp/token"])
    added = _tar([("tmp/", None), ("tmp/token", TOKEN.encode())])
    deleted = _tar([("tmp/", None), ("tmp/.wh.token", b""), ("f", b"data")])
    found = _search(_saved(config, [BASE, added, deleted]), TOKEN)
    assert found == [Finding("layer", "tmp/token", 1)]
    assert found[0].where == "레이어 2: tmp/token"


def test_a_secret_mount_leaves_nothing() -> None:
    config = _config(["PATH=/bin"], ["ADD file:x in /", "RUN wget http://u:$(cat /run/secrets/token)@h/f # buildkit"])
    assert _search(_saved(config, [BASE, _tar([("f", b"data")])]), TOKEN) == []


def test_the_legacy_save_layout_is_read_too() -> None:
    config = _config([f"TOKEN={TOKEN}"], [])
    layer = _tar([("etc/", None), ("etc/app.conf", f"token = {TOKEN}\n".encode())])
    found = _search(_saved(config, [BASE, layer], oci=False), TOKEN)
    assert [f.where for f in found] == ["설정 config.Env[0]", "레이어 2: etc/app.conf"]


# --------------------------------------------------------------------------- the search itself


def test_a_match_across_two_reads_is_found() -> None:
    data = b"x" * 10 + TOKEN.encode() + b"y" * 10
    for chunk in (1, 7, 16, 31, 1000):
        assert _stream_contains(io.BytesIO(data), TOKEN.encode(), chunk), chunk
    assert not _stream_contains(io.BytesIO(data[:25] + data[26:]), TOKEN.encode(), 7)


def test_a_token_split_by_a_chunk_boundary_in_a_layer_is_found() -> None:
    data = b"a" * 100 + TOKEN.encode() + b"b" * 100
    layer = _tar([("blob", data)])
    with tarfile.open(fileobj=io.BytesIO(layer), mode="r|*") as tar:
        assert find_in_layer(tar, TOKEN, 0, chunk=110) == [Finding("layer", "blob", 0)]


def test_names_and_link_targets_count() -> None:
    layer = _tar([(f"keys/{TOKEN}.pem", b"-"), ("current", f"->keys/{TOKEN}.pem"), ("other", b"nothing")])
    with tarfile.open(fileobj=io.BytesIO(layer), mode="r|*") as tar:
        assert [f.location for f in find_in_layer(tar, TOKEN, 3)] == [f"keys/{TOKEN}.pem", "current"]


def test_config_keys_lists_and_bytes_needles() -> None:
    config = {"config": {"Labels": {TOKEN: "x", "y": ["a", f"b{TOKEN}"]}}}
    found = find_in_config(config, TOKEN.encode())
    assert [f.location for f in found] == [f"config.Labels.{TOKEN}", "config.Labels.y[1]"]


def test_an_empty_needle_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        _search(_saved(_config([], []), [BASE]), "")


def test_find_bytes_saves_the_image_and_searches_it() -> None:
    config = _config([f"TOKEN={TOKEN}"], [f"ENV TOKEN={TOKEN}"])
    api = FakeAPIClient()
    saved = _saved(config, [BASE, _tar([("tmp/token", TOKEN.encode())])])
    assert len(saved) > 4096  # so it arrives in more than one piece
    api.add_image("ch09/test:fake", saved=saved)
    found = find_bytes("ch09/test:fake", TOKEN, fake_client(api))
    assert [f.where for f in found] == ["설정 config.Env[0]", "설정 history[0].created_by", "레이어 2: tmp/token"]


# --------------------------------------------------------------------------- the file server's files


def test_server_files_protect_everything_with_the_password() -> None:
    with tarfile.open(fileobj=io.BytesIO(_server_files("ch09", TOKEN, {"private.txt": b"data\n"}))) as tar:
        conf = tar.extractfile("etc/httpd.conf")
        assert conf is not None and conf.read() == f"/:ch09:{TOKEN}\n".encode()
        page = tar.extractfile("www/private.txt")
        assert page is not None and page.read() == b"data\n"


@pytest.mark.parametrize("user, password", [("a:b", "p"), ("u", "p:q"), ("u", "p\n/:x:y")])
def test_server_files_refuse_what_httpd_conf_cannot_hold(user: str, password: str) -> None:
    with pytest.raises(ValueError, match="':'"):
        _server_files(user, password, {})
