"""Base images: pulled from a registry when one answers, otherwise bootstrapped from Debian packages.

The examples' Dockerfiles use official names (``FROM debian:bookworm-slim``, ``FROM busybox``,
``FROM golang:1.19``). When no registry answers, each name is built here the way the official image
is built, tagged with the official name and labelled with its provenance, so nothing pretends:

* ``debian:bookworm`` -- ``debootstrap --variant=minbase`` (as debuerreotype does) plus the
  minimizing apt/dpkg config, published as ``FROM scratch`` + ``ADD rootfs.tar /``;
* ``debian:bookworm-slim`` -- the same rootfs, slimmed as ``debuerreotype-slimify`` does;
* ``busybox:latest`` -- Debian's ``busybox-static`` binary in ``FROM scratch``, applets as hard links;
* ``golang:1.19`` -- ``debian:bookworm`` plus Debian's ``golang-go`` (Go 1.19) and a C toolchain;
* ``ch09/distroless-static:debian12`` -- a distroless-style runtime made here (never pulled): the files
  of Debian's ca-certificates, tzdata and netbase in ``FROM scratch``, a nonroot user (65532), ``/tmp``;
* ``ch09/distroless-python3:debian12`` -- the same made here for Python (never pulled): the static runtime
  plus the files of Debian's python3.11 packages and the shared libraries they link (ldd closure).

Alpine cannot be made from Debian packages; it is never faked (see :data:`UNAVAILABLE`).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docker.errors import APIError, ImageNotFound, NotFound

from dockerlab.build import docker_build
from dockerlab.engine import resolve_client
from dockerlab.errors import BaseImageError, DockerLabError, ExampleBuildError
from dockerlab.examples import project_root, work_dir
from dockerlab.measure import image_stats
from dockerlab.ownership import container_labels, image_labels
from dockerlab.references import split_reference, tagged

SOURCE_LABEL = "org.ch09book.base.source"
RECIPE_LABEL = "org.ch09book.base.recipe"
PACKAGES_LABEL = "org.ch09book.base.packages"

DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = os.environ.get("CH09_DEBIAN_MIRROR", "http://deb.debian.org/debian")
#: Fixed file times in every bootstrapped rootfs, so two builds give the same bytes where they can.
SOURCE_DATE_EPOCH = int(os.environ.get("SOURCE_DATE_EPOCH", "1735689600"))  # 2025-01-01T00:00:00Z

#: Images that cannot be made here without a registry, and why.
UNAVAILABLE: dict[str, str] = {
    "alpine": "Alpine Linux is built from Alpine's own packages (apk), which are not in Debian's archive, "
    "and no container registry is reachable from this build",
}
#: The same reasons, as the book's pages say them.
UNAVAILABLE_KO: dict[str, str] = {
    "alpine": "알파인 리눅스는 알파인 자체 패키지(apk)로 만들어지는데, 이 패키지는 데비안 저장소에 없고 "
    "이 빌드에서는 컨테이너 레지스트리에도 닿을 수 없습니다.",
}


@dataclass(frozen=True)
class BaseImage:
    """One base image as this build has it."""

    name: str
    id: str
    size: int
    origin: str  # "pulled" | "bootstrapped" | "local"
    detail: str  # where it came from: a repo digest, or the bootstrap recipe
    packages: str = ""

    @property
    def short_id(self) -> str:
        return self.id.split(":", 1)[-1][:12]


def _run(cmd: list[str], what: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, check=True, text=True, capture_output=True, **kwargs)
    except FileNotFoundError:
        raise BaseImageError(
            f"cannot {what}: `{cmd[0]}` is not installed (run `make deps` as root on Debian)."
        ) from None
    except subprocess.CalledProcessError as err:
        tail = (err.stderr or err.stdout or "").strip().splitlines()[-3:]
        raise BaseImageError(f"cannot {what}: `{' '.join(cmd[:3])} ...` failed: {' / '.join(tail)}") from None


# --------------------------------------------------------------------------- provenance


def base_provenance(name: str, client: Any | None = None) -> BaseImage:
    """Describe the local image ``name``: pulled (with its repo digest) or bootstrapped (with its recipe).

    An image that arrived by a pull carries a repo digest, even when it was first built here
    and pushed to a registry: then it is "pulled", and its recipe is kept in ``packages``.
    """
    client = resolve_client(client)
    stats = image_stats(name, client)
    bootstrapped = stats.label(SOURCE_LABEL) == "bootstrapped"
    packages = stats.label(PACKAGES_LABEL) if bootstrapped else ""
    if stats.digests:
        return BaseImage(name, stats.id, stats.size, "pulled", stats.digests[0], packages)
    if bootstrapped:
        return BaseImage(name, stats.id, stats.size, "bootstrapped", stats.label(RECIPE_LABEL), packages)
    return BaseImage(name, stats.id, stats.size, "local", "present in the engine, origin unknown")


# --------------------------------------------------------------------------- pulling


def _split(name: str) -> tuple[str, str]:
    """Repository and tag of a base image's name: ``127.0.0.1:5000/busybox`` is tag ``latest``, not ``5000/busybox``."""
    try:
        return split_reference(name)
    except ValueError as err:
        raise BaseImageError(f"cannot pull {name}: {err}") from None


def pull_base(name: str, registry: str | None = None, client: Any | None = None) -> BaseImage:
    """Pull ``name`` (from ``registry`` when given, e.g. ``127.0.0.1:5000``) and tag it ``name``.

    Raises :class:`BaseImageError` when the registry does not answer or lacks the image.
    """
    client = resolve_client(client)
    repo, tag = _split(name)
    remote = f"{registry.rstrip('/')}/{repo}" if registry else repo
    try:
        for chunk in client.api.pull(remote, tag=tag, stream=True, decode=True):
            if "error" in chunk:
                raise BaseImageError(f"cannot pull {remote}:{tag}: {chunk['error']}")
    except (APIError, NotFound) as err:
        raise BaseImageError(f"cannot pull {remote}:{tag}: {getattr(err, 'explanation', None) or err}") from None
    if registry:
        client.api.tag(f"{remote}:{tag}", repo, tag)
    return base_provenance(name, client)


# --------------------------------------------------------------------------- bootstrapping


def _tar_rootfs(rootfs: Path, out: Path, *, gzip: bool = False) -> Path:
    """Tar ``rootfs`` reproducibly (sorted names, numeric owners, clamped times), without /dev, /proc, /sys contents."""
    tmp = out.with_suffix(out.suffix + ".part")
    _run(
        [
            "tar", "--numeric-owner", "--sort=name", f"--mtime=@{SOURCE_DATE_EPOCH}", "--clamp-mtime",
            "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*",
            "-C", str(rootfs), "-cf", str(tmp), ".",
        ],
        "pack the root filesystem",
    )
    if gzip:
        # Compressed beside the target and renamed when complete: an interrupted run leaves no
        # truncated tarball that a later build would take for the finished one.
        zipped_tmp = out.with_suffix(out.suffix + ".gz-part")
        with open(tmp, "rb") as src, open(zipped_tmp, "wb") as dst:
            # mtime=0 and no file name keep the gzip header reproducible.
            import gzip as _gzip

            with _gzip.GzipFile(fileobj=dst, mode="wb", mtime=0, filename="") as zipped:
                shutil.copyfileobj(src, zipped)
        tmp.unlink()
        zipped_tmp.replace(out)
    else:
        tmp.replace(out)
    return out


def repack_rootfs_tar(raw: Path, out: Path) -> Path:
    """Repack a filesystem tar (``docker export``) as :func:`_tar_rootfs` packs a folder -- numeric owners,
    times clamped to ``SOURCE_DATE_EPOCH``, nothing under /dev, /proc, /sys, gzip with a fixed header --
    without unpacking it, so owners, modes, hard links and device files stay as they are whoever runs this.

    The export's own member order is kept (a hard link must follow the file it links to).
    """
    import gzip as _gzip

    def dotted(name: str) -> str:
        name = name.removeprefix("./").strip("/")
        return f"./{name}" if name else "."

    tmp = out.with_suffix(out.suffix + ".gz-part")
    with tarfile.open(raw) as src, open(tmp, "wb") as file, \
            _gzip.GzipFile(fileobj=file, mode="wb", mtime=0, filename="") as zipped, \
            tarfile.open(fileobj=zipped, mode="w", format=tarfile.GNU_FORMAT) as dst:
        for member in src:
            name = dotted(member.name)
            if name.count("/") > 1 and name.split("/")[1] in ("dev", "proc", "sys"):
                continue
            member.name = name
            if member.islnk():
                member.linkname = dotted(member.linkname)
            member.mtime = min(int(member.mtime), SOURCE_DATE_EPOCH)
            member.uname = member.gname = ""
            dst.addfile(member, src.extractfile(member) if member.isreg() else None)
    tmp.replace(out)
    return out


def debootstrap_rootfs(root: Path | None = None) -> Path:
    """Run ``debootstrap --variant=minbase`` once and return the untouched rootfs folder (cached)."""
    target = work_dir("bases", root) / f"{DEBIAN_SUITE}-minbase"
    done = target.with_suffix(".done")
    if done.exists():
        return target
    if target.exists():
        shutil.rmtree(target)
    if os.geteuid() != 0:
        raise BaseImageError("cannot bootstrap Debian: debootstrap must run as root (or make a registry reachable).")
    _run(
        ["debootstrap", "--variant=minbase", DEBIAN_SUITE, str(target), DEBIAN_MIRROR],
        f"debootstrap Debian {DEBIAN_SUITE}",
        env={**os.environ, "SOURCE_DATE_EPOCH": str(SOURCE_DATE_EPOCH)},
    )
    # What debootstrap leaves that differs on every run and is no part of an image.
    for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for item in (target / junk).glob("*"):
            if item.is_file() and item.name not in ("lock",):
                item.unlink()
    for pattern in ("var/log/*.log", "var/log/apt/*", "var/cache/ldconfig/aux-cache", "var/cache/apt/*.bin"):
        for item in target.glob(pattern):
            if item.is_file():
                item.unlink()
    (target / "etc/machine-id").write_text("")
    done.write_text("ok\n")
    return target


#: debuerreotype-minimizing-config: what every official Debian image carries (the trusty tweaks' heirs).
MINIMIZING_CONFIG: dict[str, str] = {
    "usr/sbin/policy-rc.d": "#!/bin/sh\nexit 101\n",
    "etc/dpkg/dpkg.cfg.d/docker-apt-speedup": "force-unsafe-io\n",
    "etc/apt/apt.conf.d/docker-clean": (
        'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb '
        '/var/cache/apt/*.bin || true"; };\n'
        'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb '
        '/var/cache/apt/*.bin || true"; };\n'
        'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n'
    ),
    "etc/apt/apt.conf.d/docker-no-languages": 'Acquire::Languages "none";\n',
    "etc/apt/apt.conf.d/docker-gzip-indexes": (
        'Acquire::GzipIndexes "true";\nAcquire::CompressionTypes::Order:: "gz";\n'
    ),
    "etc/apt/apt.conf.d/docker-autoremove-suggests": 'Apt::AutoRemove::SuggestsImportant "false";\n',
}

#: debuerreotype-slimify: paths dpkg must not install in -slim images (copyright files are kept).
SLIM_EXCLUDES = (
    "/usr/share/doc/*",
    "/usr/share/groff/*",
    "/usr/share/info/*",
    "/usr/share/linda/*",
    "/usr/share/lintian/overrides/*",
    "/usr/share/locale/*",
    "/usr/share/man/*",
)


def _minimize(rootfs: Path) -> None:
    for rel, text in MINIMIZING_CONFIG.items():
        path = rootfs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if rel.endswith("policy-rc.d"):
            path.chmod(0o755)


def _slimify(rootfs: Path) -> None:
    config = ["# paths excluded from -slim images, as debuerreotype-slimify does"]
    config += [f"path-exclude {p}" for p in SLIM_EXCLUDES]
    config += ["path-include /usr/share/doc/*/copyright"]
    (rootfs / "etc/dpkg/dpkg.cfg.d/docker").write_text("\n".join(config) + "\n")
    for pattern in SLIM_EXCLUDES:
        base = rootfs / pattern.strip("/").rstrip("*").rstrip("/")
        if not base.is_dir():
            continue
        for item in sorted(base.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            keep = pattern.startswith("/usr/share/doc") and item.name == "copyright"
            if item.is_symlink() or item.is_file():
                if not keep:
                    item.unlink()
            elif item.is_dir() and not any(item.iterdir()):
                item.rmdir()


def _build_base(context: Path, name: str, recipe: str, packages: str, dockerfile: Path) -> None:
    shutil.copy(dockerfile, context / "Dockerfile")
    labels = image_labels(extra={SOURCE_LABEL: "bootstrapped", RECIPE_LABEL: recipe, PACKAGES_LABEL: packages})
    try:
        docker_build(context, name, what=f"the base image {name}", labels=labels)
    except ExampleBuildError as err:
        raise BaseImageError(f"cannot bootstrap {name}: {err}") from None


def _dpkg_version(rootfs: Path | None, package: str) -> str:
    cmd = ["dpkg-query", "-W", "-f=${Version}", package]
    if rootfs is not None:
        cmd[1:1] = [f"--admindir={rootfs}/var/lib/dpkg"]
    try:
        return subprocess.run(cmd, check=True, text=True, capture_output=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _fresh_context(name: str, root: Path | None) -> Path:
    """An empty build context for one base under ``_build/work/bases``."""
    context = work_dir("bases", root) / name
    if context.exists():
        shutil.rmtree(context)
    context.mkdir(parents=True)
    return context


def _bases_dir(root: Path | None) -> Path:
    return (root or project_root()) / "bases"


def _bootstrap_debian(name: str, client: Any, root: Path | None, *, slim: bool) -> None:
    raw = debootstrap_rootfs(root)
    context = _fresh_context(("debian-slim" if slim else "debian"), root)
    staged = context / "rootfs"
    _run(["cp", "-a", str(raw), str(staged)], "copy the root filesystem")
    _minimize(staged)
    if slim:
        _slimify(staged)
    _tar_rootfs(staged, context / "rootfs.tar")
    shutil.rmtree(staged)
    recipe = f"debootstrap --variant=minbase {DEBIAN_SUITE} {DEBIAN_MIRROR} + debuerreotype minimizing config"
    if slim:
        recipe += " + debuerreotype-slimify excludes"
    packages = (f"base-files={_dpkg_version(raw, 'base-files')}, dpkg={_dpkg_version(raw, 'dpkg')}, "
                f"apt={_dpkg_version(raw, 'apt')}")
    _build_base(context, name, recipe, packages, _bases_dir(root) / "debian" / "Dockerfile")


def _apt_download(package: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{package}_*.deb"):
        old.unlink()
    _run(["apt-get", "download", "-q", package], f"download the Debian package {package}", cwd=folder)
    debs = sorted(folder.glob(f"{package}_*.deb"))
    if not debs:
        raise BaseImageError(f"cannot download the Debian package {package}: apt-get left no .deb file.")
    return debs[-1]


BUSYBOX_ETC = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
    "nobody:x:65534:65534:nobody:/home:/bin/false\n",
    "etc/group": "root:x:0:\ndaemon:x:1:\nnobody:x:65534:\n",
}


def _bootstrap_busybox(name: str, client: Any, root: Path | None) -> None:
    context = _fresh_context("busybox", root)
    deb = _apt_download("busybox-static", context / "deb")
    unpacked = context / "deb" / "x"
    _run(["dpkg-deb", "-x", str(deb), str(unpacked)], "unpack busybox-static")
    # Lay the rootfs out on the host and ADD it as one tarball: hard links made by a RUN
    # on top of a COPY would copy the binary up into a second layer.
    rootfs = context / "rootfs"
    for folder in ("bin", "etc", "root", "tmp", "home", "var/spool/mail", "var/www", "usr/sbin"):
        (rootfs / folder).mkdir(parents=True, exist_ok=True)
    (rootfs / "tmp").chmod(0o1777)
    binary = rootfs / "bin" / "busybox"
    shutil.copy2(unpacked / "bin" / "busybox", binary)
    applets = _run([str(binary), "--list"], "list the busybox applets").stdout.split()
    for applet in applets:
        if applet != "busybox" and not (rootfs / "bin" / applet).exists():
            os.link(binary, rootfs / "bin" / applet)
    for rel, text in BUSYBOX_ETC.items():
        (rootfs / rel).write_text(text)
    _tar_rootfs(rootfs, context / "rootfs.tar")
    shutil.rmtree(rootfs)
    shutil.rmtree(context / "deb")
    version = deb.name.split("_")[1].replace("%3a", ":")
    _build_base(context, name, "Debian busybox-static in FROM scratch, applets as hard links in /bin",
                f"busybox-static={version}", _bases_dir(root) / "busybox" / "Dockerfile")


def _bootstrap_golang(name: str, client: Any, root: Path | None) -> None:
    ensure_base("debian:bookworm", client=client, root=root)
    context = _fresh_context("golang", root)
    _build_base(context, name, "debian:bookworm + Debian golang-go, gcc, libc6-dev, make, git, ca-certificates",
                "golang-go (Debian bookworm: Go 1.19)", _bases_dir(root) / "golang" / "Dockerfile")


def _bootstrap_distroless(name: str, client: Any, root: Path | None) -> None:
    ensure_base("debian:bookworm", client=client, root=root)
    context = _fresh_context("distroless-static", root)
    _build_base(context, name,
                "built here from Debian packages, not Google's distroless: debian:bookworm stage lays out "
                "ca-certificates, tzdata, netbase, passwd with nonroot (65532), /tmp -> FROM scratch",
                "ca-certificates, tzdata, netbase (Debian bookworm)",
                _bases_dir(root) / "distroless-static" / "Dockerfile")


#: The Debian packages whose files make the Python runtime (collect-python.sh adds the libraries they link).
PYTHON_PACKAGES = "python3.11-minimal, libpython3.11-minimal, libpython3.11-stdlib"


def _bootstrap_distroless_python(name: str, client: Any, root: Path | None) -> None:
    ensure_base("ch09/distroless-static:debian12", client=client, root=root)
    context = _fresh_context("distroless-python3", root)
    folder = _bases_dir(root) / "distroless-python3"
    shutil.copy(folder / "collect-python.sh", context / "collect-python.sh")
    _build_base(context, name,
                "built here from Debian packages, not Google's distroless: ch09/distroless-static:debian12 + "
                f"the files of {PYTHON_PACKAGES} and the shared libraries they link (ldd closure), "
                "/usr/bin/python3 -> python3.11",
                f"{PYTHON_PACKAGES} + their libraries (Debian bookworm)", folder / "Dockerfile")


BOOTSTRAPPERS: dict[str, Callable[[str, Any, Path | None], None]] = {
    "debian:bookworm": lambda n, c, r: _bootstrap_debian(n, c, r, slim=False),
    "debian:bookworm-slim": lambda n, c, r: _bootstrap_debian(n, c, r, slim=True),
    "busybox:latest": _bootstrap_busybox,
    "golang:1.19": _bootstrap_golang,
    "ch09/distroless-static:debian12": _bootstrap_distroless,
    "ch09/distroless-python3:debian12": _bootstrap_distroless_python,
}

#: The base images the book's examples use, in the order they are made.
KNOWN_BASES: tuple[str, ...] = tuple(BOOTSTRAPPERS)


#: The book's own image names: never pulled from Docker Hub, where this namespace is not the book's.
BOOK_NAMESPACE = "ch09/"


def ensure_base(
    name: str,
    *,
    registry: str | None = None,
    client: Any | None = None,
    root: Path | None = None,
) -> BaseImage:
    """Make sure the base image ``name`` exists: keep it, else pull it, else bootstrap it from Debian packages.

    ``registry`` (default ``$CH09_REGISTRY``, else Docker Hub) is where pulls go.

    >>> ensure_base("busybox").origin  # doctest: +SKIP
    'bootstrapped'
    """
    client = resolve_client(client)
    name = tagged(name)
    try:
        return base_provenance(name, client)
    except ImageNotFound:
        pass
    # Two pages executing at once may both find the base missing: one makes it, the other waits and keeps it.
    with _base_lock(name, root):
        try:
            return base_provenance(name, client)
        except ImageNotFound:
            return _make_base(name, client, root, registry)


@contextmanager
def _base_lock(name: str, root: Path | None) -> Iterator[None]:
    """An exclusive ``flock`` held while ``name`` is pulled or bootstrapped, per checkout and base."""
    path = work_dir("bases", root) / (name.replace("/", "_").replace(":", "_") + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _make_base(name: str, client: Any, root: Path | None, registry: str | None) -> BaseImage:
    registry = registry if registry is not None else (os.environ.get("CH09_REGISTRY") or None)
    bootstrap = BOOTSTRAPPERS.get(name)
    if registry is None and name.startswith(BOOK_NAMESPACE) and bootstrap is not None:
        # The book's own bases are built here: on Docker Hub, ch09/ is somebody else's namespace.
        bootstrap(name, client, root)
        return base_provenance(name, client)
    try:
        return pull_base(name, registry, client)
    except BaseImageError as pull_error:
        if bootstrap is None:
            reason = UNAVAILABLE.get(_split(name)[0], "there is no recipe to build it from Debian packages")
            raise BaseImageError(f"{name} is not available in this build: {reason} ({pull_error}).") from None
        if os.environ.get("CH09_NO_BOOTSTRAP"):
            raise
    bootstrap(name, client, root)
    return base_provenance(name, client)


def is_available(name: str, client: Any | None = None) -> tuple[bool, str]:
    """Return (True, "") when ``name`` can be had in this build, else (False, the reason)."""
    try:
        ensure_base(name, client=client)
        return True, ""
    except BaseImageError as err:
        return False, str(err)
    except DockerLabError as err:
        return False, str(err)


def rootfs_tarball(dest: Path, root: Path | None = None, client: Any | None = None) -> str:
    """Write a Debian root filesystem tarball (gzip) to ``dest`` and return where it came from.

    With root and ``debootstrap`` on the host it is the untouched ``debootstrap --variant=minbase``
    output (cached); otherwise it is exported from a ``debian:bookworm`` container.
    """
    cached = work_dir("bases", root) / f"{DEBIAN_SUITE}-minbase-root.tar.gz"
    if not cached.exists():
        if os.geteuid() == 0 and shutil.which("debootstrap"):
            _tar_rootfs(debootstrap_rootfs(root), cached, gzip=True)
        else:
            client = resolve_client(client)
            ensure_base("debian:bookworm", client=client, root=root)
            container = client.containers.create("debian:bookworm", labels=container_labels())
            try:
                raw = cached.parent / "exported.tar"
                with open(raw, "wb") as out:
                    for chunk in container.export():
                        out.write(chunk)
                # Repacked, never unpacked: unpacked by a user who is not root, every file would become that
                # user's (and apt in the image could no longer work as its _apt user).
                repack_rootfs_tar(raw, cached)
                raw.unlink()
            finally:
                container.remove(force=True)
    shutil.copy2(cached, dest)
    if (work_dir("bases", root) / f"{DEBIAN_SUITE}-minbase.done").exists():
        return f"debootstrap --variant=minbase {DEBIAN_SUITE} {DEBIAN_MIRROR}"
    return "exported from a debian:bookworm container"


#: The name examples/rootfs-base's Dockerfile ADDs (the notes' ubuntu-trusty-core-cloudimg-amd64-root.tar.gz).
ROOTFS_TARBALL = "debian-bookworm-minbase-amd64-root.tar.gz"


def add_rootfs_tarball(context: Path) -> str:
    """``build_example`` prepare step for examples/rootfs-base: put the rootfs tarball in the context.

    >>> build_example("rootfs-base", "ch09/rootfs-base:latest", prepare=add_rootfs_tarball)  # doctest: +SKIP
    """
    return rootfs_tarball(context / ROOTFS_TARBALL)
