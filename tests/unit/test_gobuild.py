import struct
from pathlib import Path

import pytest

from dockerlab.errors import DockerLabError
from dockerlab.gobuild import go_build, is_static_elf


def _elf64(path: Path, segment_types: list[int]) -> Path:
    """A minimal little-endian ELF64 header followed by program headers of the given types."""
    phoff, phentsize = 64, 56
    header = bytearray(64)
    header[0:4] = b"\x7fELF"
    header[4], header[5] = 2, 1  # 64-bit, little endian
    header[32:40] = struct.pack("<Q", phoff)
    header[54:56] = struct.pack("<H", phentsize)
    header[56:58] = struct.pack("<H", len(segment_types))
    body = b"".join(struct.pack("<I", t) + bytes(phentsize - 4) for t in segment_types)
    path.write_bytes(bytes(header) + body)
    return path


def test_static_binary_has_no_interpreter(tmp_path: Path) -> None:
    assert is_static_elf(_elf64(tmp_path / "static", [1, 1, 4])) is True  # PT_LOAD, PT_LOAD, PT_NOTE


def test_dynamic_binary_has_an_interpreter(tmp_path: Path) -> None:
    assert is_static_elf(_elf64(tmp_path / "dynamic", [6, 3, 1])) is False  # PT_PHDR, PT_INTERP, PT_LOAD


def test_host_binaries_are_dynamic() -> None:
    assert is_static_elf(Path("/bin/ls")) is False


def test_not_an_elf(tmp_path: Path) -> None:
    (tmp_path / "script").write_text("#!/bin/sh\n")
    with pytest.raises(DockerLabError, match="is not an ELF executable"):
        is_static_elf(tmp_path / "script")


def test_go_build_in_the_builder_container_reports_its_version_and_goroot(tmp_path: Path, monkeypatch) -> None:
    import dockerlab.bases
    import dockerlab.examples
    import dockerlab.gobuild

    def fake_run_image(image, command, **kwargs):
        _elf64(tmp_path / "app", [1])  # what `go build -o app` would leave in the mounted folder
        return "go version go1.19.8 linux/amd64\n/usr/local/go\n"

    monkeypatch.setattr(dockerlab.gobuild.shutil, "which", lambda name: None)
    monkeypatch.setattr(dockerlab.bases, "ensure_base", lambda name, client=None: None)
    monkeypatch.setattr(dockerlab.examples, "run_image", fake_run_image)
    built = go_build(tmp_path, ["-o", "app", "main.go"], "app")
    assert (built.where, built.go_version, built.goroot) == ("container", "go1.19.8", "/usr/local/go")
    assert built.static
