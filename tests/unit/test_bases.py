import tarfile
from pathlib import Path

import pytest

from dockerlab import bases
from dockerlab.bases import (
    MINIMIZING_CONFIG,
    RECIPE_LABEL,
    SOURCE_LABEL,
    _minimize,
    _slimify,
    _tar_rootfs,
    base_provenance,
    ensure_base,
)
from dockerlab.errors import BaseImageError

from .fakes import FakeAPIClient, fake_client


def _engine(*offered: str, pull_error: str | None = None) -> FakeAPIClient:
    """A fake engine whose registries serve ``offered`` (or do not answer, with ``pull_error``)."""
    api = FakeAPIClient()
    for reference in offered:
        api.offer(reference)
    api.pull_error = pull_error
    return api


def _pulls(api: FakeAPIClient) -> list[dict[str, str]]:
    return [args for method, args in api.calls if method == "pull"]


def test_existing_image_is_kept_and_not_pulled() -> None:
    api = _engine("busybox:latest")
    api.add_image("busybox:latest", size=10, labels={SOURCE_LABEL: "bootstrapped", RECIPE_LABEL: "r"})
    base = ensure_base("busybox", client=fake_client(api))
    assert (base.name, base.origin, base.detail) == ("busybox:latest", "bootstrapped", "r")
    assert not _pulls(api)


def test_pull_from_a_given_registry_is_tagged_with_the_official_name() -> None:
    api = _engine("127.0.0.1:5000/debian:bookworm")
    base = ensure_base("debian:bookworm", registry="127.0.0.1:5000", client=fake_client(api))
    assert _pulls(api) == [{"repository": "127.0.0.1:5000/debian", "tag": "bookworm"}]
    assert "debian:bookworm" in api.inspect_image("127.0.0.1:5000/debian:bookworm")["RepoTags"]
    assert base.origin == "pulled"
    assert base.detail.startswith("127.0.0.1:5000/debian@sha256:")


def _fake_bootstrap(monkeypatch, name: str) -> list[str]:
    """Replace ``name``'s bootstrap recipe with one that records the call and adds a labelled image."""
    made: list[str] = []

    def fake_bootstrap(name, client, root):
        made.append(name)
        client.api.add_image(name, size=5, labels={SOURCE_LABEL: "bootstrapped", RECIPE_LABEL: "recipe"})

    monkeypatch.setitem(bases.BOOTSTRAPPERS, name, fake_bootstrap)
    return made


def test_failed_pull_falls_back_to_the_bootstrap_recipe(monkeypatch) -> None:
    api = _engine(pull_error="dial tcp: lookup registry-1.docker.io: no such host")
    made = _fake_bootstrap(monkeypatch, "busybox:latest")
    base = ensure_base("busybox", client=fake_client(api))
    assert made == ["busybox:latest"]
    assert base.origin == "bootstrapped"


def test_the_books_own_bases_are_built_here_never_pulled_from_docker_hub(monkeypatch) -> None:
    # Docker Hub answers (no pull error), but ch09/ there is somebody else's namespace.
    api = _engine("ch09/distroless-static:debian12")
    made = _fake_bootstrap(monkeypatch, "ch09/distroless-static:debian12")
    base = ensure_base("ch09/distroless-static:debian12", client=fake_client(api))
    assert made == ["ch09/distroless-static:debian12"] and base.origin == "bootstrapped"
    assert not _pulls(api)
    # A registry of the reader's own (CH09_REGISTRY) may serve them.
    api2 = _engine("127.0.0.1:5000/ch09/distroless-static:debian12")
    ensure_base("ch09/distroless-static:debian12", registry="127.0.0.1:5000", client=fake_client(api2))
    assert _pulls(api2) == [{"repository": "127.0.0.1:5000/ch09/distroless-static", "tag": "debian12"}]


def test_alpine_is_never_faked() -> None:
    api = _engine(pull_error="no such host")
    with pytest.raises(BaseImageError) as err:
        ensure_base("alpine:3.20", client=fake_client(api))
    message = str(err.value)
    assert message.startswith("alpine:3.20 is not available in this build: Alpine Linux is built from")
    assert api.images(name="alpine") == []


def test_no_bootstrap_when_forbidden(monkeypatch) -> None:
    monkeypatch.setenv("CH09_NO_BOOTSTRAP", "1")
    with pytest.raises(BaseImageError, match="cannot pull debian:bookworm"):
        ensure_base("debian:bookworm", client=fake_client(_engine(pull_error="no such host")))


def test_provenance_of_an_image_of_unknown_origin() -> None:
    api = FakeAPIClient()
    api.add_image("x:latest", size=1)
    assert base_provenance("x:latest", fake_client(api)).origin == "local"


def _tree(root: Path) -> Path:
    for rel in ("usr/share/doc/pkg/copyright", "usr/share/doc/pkg/changelog.gz", "usr/share/man/man1/ls.1.gz",
                "usr/share/locale/ko/LC_MESSAGES/x.mo", "usr/bin/ls", "etc/dpkg/dpkg.cfg.d/.keep"):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)
    return root


def test_slimify_removes_docs_but_keeps_copyright(tmp_path: Path) -> None:
    root = _tree(tmp_path / "rootfs")
    _slimify(root)
    assert (root / "usr/share/doc/pkg/copyright").exists()
    assert not (root / "usr/share/doc/pkg/changelog.gz").exists()
    assert not (root / "usr/share/man/man1").exists()
    assert not (root / "usr/share/locale/ko").exists()
    assert (root / "usr/bin/ls").exists()
    config = (root / "etc/dpkg/dpkg.cfg.d/docker").read_text()
    assert "path-exclude /usr/share/man/*" in config and "path-include /usr/share/doc/*/copyright" in config


def test_minimize_writes_the_docker_apt_config(tmp_path: Path) -> None:
    _minimize(tmp_path)
    for rel, text in MINIMIZING_CONFIG.items():
        assert (tmp_path / rel).read_text() == text
    assert (tmp_path / "usr/sbin/policy-rc.d").stat().st_mode & 0o111


def test_rootfs_tarball_is_reproducible(tmp_path: Path) -> None:
    root = _tree(tmp_path / "rootfs")
    (root / "dev").mkdir()
    (root / "dev" / "null-ish").write_text("")
    first = _tar_rootfs(root, tmp_path / "a.tar.gz", gzip=True)
    (root / "usr/bin/ls").touch()  # a newer mtime must not change the bytes
    second = _tar_rootfs(root, tmp_path / "b.tar.gz", gzip=True)
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(first) as tar:
        names = tar.getnames()
    assert "./usr/bin/ls" in names and "./dev" in names and "./dev/null-ish" not in names


def test_a_pulled_copy_of_a_bootstrapped_image_is_pulled_and_keeps_its_recipe() -> None:
    labels = {SOURCE_LABEL: "bootstrapped", RECIPE_LABEL: "r", bases.PACKAGES_LABEL: "busybox-static=1"}
    api = FakeAPIClient()
    api.add_image("b:1", size=1, labels=labels, digests=["127.0.0.1:5000/b@sha256:" + "f" * 64])
    base = base_provenance("b:1", fake_client(api))
    assert (base.origin, base.packages) == ("pulled", "busybox-static=1")
    assert base.detail.startswith("127.0.0.1:5000/b@sha256:")


@pytest.mark.parametrize(
    ("name", "repo", "tag"),
    [
        ("127.0.0.1:5000/ch09/busybox:1.36", "127.0.0.1:5000/ch09/busybox", "1.36"),
        ("localhost:5000/debian:bookworm-slim", "localhost:5000/debian", "bookworm-slim"),
        ("ch09/distroless-static:debian12", "ch09/distroless-static", "debian12"),
    ],
)
def test_a_registry_port_in_a_base_name_is_not_its_tag(name: str, repo: str, tag: str) -> None:
    api = _engine(name)
    base = bases.pull_base(name, client=fake_client(api))
    assert _pulls(api) == [{"repository": repo, "tag": tag}]
    assert base.name == name


def test_a_base_named_with_a_registry_port_and_no_tag_is_pulled_as_latest() -> None:
    api = _engine("127.0.0.1:5000/busybox:latest")
    base = ensure_base("127.0.0.1:5000/busybox", client=fake_client(api))
    assert _pulls(api) == [{"repository": "127.0.0.1:5000/busybox", "tag": "latest"}]
    assert base.name == "127.0.0.1:5000/busybox:latest"


def test_the_python_runtime_is_bootstrapped_on_the_static_one_with_its_script(tmp_path: Path, monkeypatch) -> None:
    import shutil

    from tests.conftest import ROOT

    shutil.copytree(ROOT / "bases" / "distroless-python3", tmp_path / "bases" / "distroless-python3")
    ensured, built = [], []
    monkeypatch.setattr(bases, "ensure_base", lambda name, **kwargs: ensured.append(name))
    monkeypatch.setattr(bases, "_build_base", lambda context, *args: built.append((context, *args)))
    bases.BOOTSTRAPPERS["ch09/distroless-python3:debian12"]("ch09/distroless-python3:debian12", None, tmp_path)
    assert ensured == ["ch09/distroless-static:debian12"]
    context, name, recipe, packages, dockerfile = built[0]
    assert (context / "collect-python.sh").read_bytes() == (dockerfile.parent / "collect-python.sh").read_bytes()
    assert name == "ch09/distroless-python3:debian12"
    assert recipe.startswith("built here from Debian packages, not Google's distroless")
    assert "python3.11-minimal" in packages
    final_stage = dockerfile.read_text().rsplit("\nFROM ", 1)[1]
    assert final_stage.startswith("ch09/distroless-static:debian12\n")
    # Made after the static runtime it builds on, and kept by clean-docker like every known base.
    assert bases.KNOWN_BASES.index("ch09/distroless-static:debian12") < bases.KNOWN_BASES.index(name)


def test_an_exported_filesystem_is_repacked_without_unpacking_so_owners_links_and_modes_stay(tmp_path: Path) -> None:
    import io
    import tarfile

    from dockerlab.bases import SOURCE_DATE_EPOCH, repack_rootfs_tar

    raw = tmp_path / "exported.tar"

    def entry(name: str, kind: bytes = tarfile.DIRTYPE, uid: int = 0, mode: int = 0o755, data: bytes = b"",
              link: str = "") -> tuple[tarfile.TarInfo, bytes]:
        info = tarfile.TarInfo(name)
        info.type, info.uid, info.gid, info.mode, info.mtime, info.linkname = kind, uid, uid, mode, 2_000_000_000, link
        info.uname = "someone"
        info.size = len(data) if kind == tarfile.REGTYPE else 0
        return info, data

    with tarfile.open(raw, "w") as tar:
        for info, data in [entry("bin"), entry("bin/busybox", tarfile.REGTYPE, data=b"\x7fELF"),
                           entry("bin/sh", tarfile.LNKTYPE, link="bin/busybox"),
                           entry("var/cache/apt/archives/partial", uid=42, mode=0o700),
                           entry("dev"), entry("dev/null", tarfile.CHRTYPE, mode=0o666),
                           entry("proc"), entry("proc/cpuinfo", tarfile.REGTYPE, data=b"x")]:
            tar.addfile(info, io.BytesIO(data) if data else None)
    out = repack_rootfs_tar(raw, tmp_path / "rootfs.tar.gz")
    with tarfile.open(out) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert list(members) == ["./bin", "./bin/busybox", "./bin/sh", "./var/cache/apt/archives/partial",
                                 "./dev", "./proc"]
        partial = members["./var/cache/apt/archives/partial"]
        assert (partial.uid, partial.gid, partial.mode) == (42, 42, 0o700)  # apt's own user keeps its folder
        assert members["./bin/sh"].islnk() and members["./bin/sh"].linkname == "./bin/busybox"
        assert tar.extractfile("./bin/busybox").read() == b"\x7fELF"
        assert all(m.mtime == SOURCE_DATE_EPOCH and m.uname == "" for m in members.values())
    first = out.read_bytes()
    assert repack_rootfs_tar(raw, tmp_path / "again.tar.gz").read_bytes() == first  # reproducible
