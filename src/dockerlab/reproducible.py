"""Reproducible image digests with BuildKit: build twice, read the digests, say what differs.

Two cold builds of unchanged sources differ when something records *when* they ran: the
``created`` times in the image config and its history, and the modification time (mtime) of
every file a step writes into a layer. ``SOURCE_DATE_EPOCH`` fixes the first kind; BuildKit's
exporter option ``rewrite-timestamp=true`` clamps the second to the same value. This module
builds an example to an OCI archive (``docker buildx build --output type=oci,dest=…``), reads
the image digest from the archive, and compares two archives down to the files of each layer.

>>> oci_image(Path("hello-1.tar")).digest  # doctest: +SKIP
'sha256:4c8c3dd5390667229f1f9f3d118b2431bc11feba18e7e1c4f3087e2ad2185b7d'

The same reader works for ``docker image save`` archives (an OCI layout since Engine 25), so the
images the book's own engine loads can be compared the same way (:func:`loaded_build`).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from dockerlab.build import BuildResult, cli_env, docker_build, docker_cli
from dockerlab.engine import resolve_api
from dockerlab.errors import ReproducibleError
from dockerlab.examples import example_dir
from dockerlab.ownership import PROJECT, PROJECT_LABEL, image_labels

#: ``sha256:`` and 64 lowercase hex digits: the form of every digest in an image.
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
#: Media types of an image index (a list of manifests) and of one image manifest.
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")
MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json")


# --------------------------------------------------------------------------- SOURCE_DATE_EPOCH


@dataclass(frozen=True)
class Epoch:
    """The ``SOURCE_DATE_EPOCH`` value for a folder and where it came from."""

    value: int
    source: Literal["git", "mtime"]  # the last commit touching the folder, or (no git history) its newest file

    @property
    def iso(self) -> str:
        """The value as a UTC time, e.g. ``2026-11-28T17:11:40Z``.

        >>> Epoch(0, "git").iso
        '1970-01-01T00:00:00Z'
        """
        return utc(self.value)

    @property
    def env(self) -> dict[str, str]:
        """The environment a build needs: ``{"SOURCE_DATE_EPOCH": "…"}``."""
        return {"SOURCE_DATE_EPOCH": str(self.value)}


def utc(seconds: float) -> str:
    """Seconds since 1970 as ``YYYY-MM-DDTHH:MM:SSZ`` (fractions dropped).

    >>> utc(1795885900)
    '2026-11-28T17:11:40Z'
    """
    return datetime.fromtimestamp(int(seconds), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def source_date_epoch(folder: Path) -> Epoch:
    """The time of the last commit that touched ``folder`` (``git log -1 --format=%ct -- FOLDER``), as CI would set it.

    Outside a git checkout (the book built from a copy of its sources) it falls back to the
    newest modification time of a file in the folder, and says so in ``source``.

    >>> source_date_epoch(example_dir("hello")).source in ("git", "mtime")  # doctest: +SKIP
    True
    """
    folder = folder.resolve()
    git = shutil.which("git")
    if git:
        # Read the log even when the checkout is another user's (`sudo make test` in the runner's clone): git
        # refuses such a repository unless it is named safe, so the folder's own ancestors are (one is the top).
        safe = [arg for parent in (folder, *folder.parents) for arg in ("-c", f"safe.directory={parent}")]
        proc = subprocess.run([git, *safe, "log", "-1", "--format=%ct", "--", "."], cwd=folder, capture_output=True,
                              text=True)
        if proc.returncode == 0 and proc.stdout.strip().isdigit():
            return Epoch(int(proc.stdout.strip()), "git")
    times = [p.stat().st_mtime for p in folder.rglob("*") if p.is_file()]
    if not times:
        raise ReproducibleError(f"{folder} has no git history and no files to take a SOURCE_DATE_EPOCH from.")
    return Epoch(int(max(times)), "mtime")


# --------------------------------------------------------------------------- reading OCI layouts


@dataclass(frozen=True)
class Descriptor:
    """One blob an image refers to: its media type, digest and size (bytes as stored)."""

    media_type: str
    digest: str
    size: int
    annotations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class OciImage:
    """One image in an OCI layout archive, as a registry would identify it.

    ``digest`` is the descriptor ``index.json`` points at: for a single-platform image without
    attestations it is the image manifest's digest, which a registry reports as the image digest
    (``docker buildx imagetools inspect``, ``docker image ls --digests``). ``config_digest`` is what
    an engine on the overlay2 store calls the image ID.
    """

    digest: str
    manifest_digest: str
    config_digest: str
    layers: tuple[Descriptor, ...]
    diff_ids: tuple[str, ...]
    config: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def created(self) -> str | None:
        return self.config.get("created")

    @property
    def history_created(self) -> tuple[str | None, ...]:
        return tuple(h.get("created") for h in self.config.get("history") or [])


def _blob_name(digest: str) -> str:
    if not DIGEST.match(digest):
        raise ReproducibleError(f"{digest!r} is not a sha256 digest.")
    return "blobs/sha256/" + digest.split(":", 1)[1]


def _json_member(archive: tarfile.TarFile, name: str) -> Any:
    try:
        member = archive.extractfile(name)
    except KeyError:
        member = None
    if member is None:
        raise ReproducibleError(f"the archive has no {name}; is it an OCI image layout?")
    return json.load(member)


def _descriptor(entry: Mapping[str, Any]) -> Descriptor:
    return Descriptor(entry["mediaType"], entry["digest"], int(entry["size"]),
                      tuple(sorted((entry.get("annotations") or {}).items())))


def read_image(archive: tarfile.TarFile) -> OciImage:
    """The image an opened OCI layout archive holds (``index.json`` → manifest → config).

    When ``index.json`` points at an index (e.g. an image with attestations), the first image
    manifest in it is read; ``digest`` stays the index's.
    """
    index = _json_member(archive, "index.json")
    manifests = index.get("manifests") or []
    if not manifests:
        raise ReproducibleError("index.json lists no manifest.")
    top = manifests[0]
    entry = top
    if top.get("mediaType") in INDEX_TYPES:
        inner = _json_member(archive, _blob_name(top["digest"]))
        entry = next((m for m in inner.get("manifests") or [] if m.get("mediaType") in MANIFEST_TYPES
                      and (m.get("platform") or {}).get("os") != "unknown"), None)
        if entry is None:
            raise ReproducibleError(f"the index {top['digest']} holds no image manifest.")
    manifest = _json_member(archive, _blob_name(entry["digest"]))
    config = _json_member(archive, _blob_name(manifest["config"]["digest"]))
    return OciImage(
        digest=top["digest"],
        manifest_digest=entry["digest"],
        config_digest=manifest["config"]["digest"],
        layers=tuple(_descriptor(layer) for layer in manifest.get("layers") or []),
        diff_ids=tuple((config.get("rootfs") or {}).get("diff_ids") or []),
        config=config,
    )


def oci_image(path: Path) -> OciImage:
    """Read the image in the OCI layout archive at ``path``
    (``--output type=oci,dest=PATH`` or ``docker image save``)."""
    with tarfile.open(path) as archive:
        return read_image(archive)


def oci_digest(path: Path) -> str:
    """The image digest of the OCI archive at ``path``: the manifest ``index.json`` points at.

    >>> oci_digest(Path("hello-1.tar"))  # doctest: +SKIP
    'sha256:4c8c3dd5390667229f1f9f3d118b2431bc11feba18e7e1c4f3087e2ad2185b7d'
    """
    return oci_image(path).digest


def file_sha256(path: Path) -> str:
    """``sha256sum`` of a file, as ``sha256:<hex>``.

    >>> import tempfile; p = Path(tempfile.mkdtemp()) / "e"; _ = p.write_bytes(b""); file_sha256(p)[:15]
    'sha256:e3b0c442'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


# --------------------------------------------------------------------------- what differs


@dataclass(frozen=True)
class LayerFile:
    """One entry of a layer tar: what a digest depends on (type, mode, owner, size, mtime, content)."""

    path: str
    kind: str  # "file", "dir", "symlink", "hardlink", "other"
    mode: int
    owner: tuple[int, int]
    size: int
    mtime: float
    content: str  # sha256 of a regular file's bytes, the target of a link, "" otherwise


def _kind(info: tarfile.TarInfo) -> str:
    if info.isreg():
        return "file"
    if info.isdir():
        return "dir"
    if info.issym():
        return "symlink"
    if info.islnk():
        return "hardlink"
    return "other"


def layer_files(archive: tarfile.TarFile, layer: Descriptor) -> dict[str, LayerFile]:
    """The entries of one layer blob (plain or gzip tar), by path without a leading ``./`` or ``/``."""
    try:
        blob = archive.extractfile(_blob_name(layer.digest))
    except KeyError:
        blob = None
    if blob is None:
        raise ReproducibleError(f"layer {layer.digest} is missing from the archive.")
    files: dict[str, LayerFile] = {}
    with tarfile.open(fileobj=blob, mode="r|*") as tar:
        for info in tar:
            path = info.name.removeprefix("./").lstrip("/").rstrip("/") or "."
            content = ""
            if info.isreg():
                data = tar.extractfile(info)
                content = hashlib.sha256(data.read() if data else b"").hexdigest()
            elif info.issym() or info.islnk():
                content = info.linkname
            files[path] = LayerFile(path, _kind(info), info.mode, (info.uid, info.gid), info.size,
                                    float(info.pax_headers.get("mtime", info.mtime)), content)
    return files


def image_files(path: Path) -> list[dict[str, LayerFile]]:
    """The entries of every layer of the image in the archive at ``path``, first layer first.

    >>> {f.mtime for layer in image_files(Path("hello-1.tar")) for f in layer.values()}  # doctest: +SKIP
    {1795885900.0}
    """
    with tarfile.open(path) as archive:
        image = read_image(archive)
        return [layer_files(archive, layer) for layer in image.layers]


@dataclass(frozen=True)
class FileChange:
    """One path that differs between the same layer of two images."""

    layer: int  # 1 = the first layer
    path: str
    what: Literal["mtime", "content", "metadata", "only in first", "only in second"]
    first_mtime: float | None
    second_mtime: float | None


def file_changes(layer: int, first: Mapping[str, LayerFile], second: Mapping[str, LayerFile]) -> list[FileChange]:
    """What differs between two listings of the same layer, path by path, sorted by path.

    >>> a = {"hello": LayerFile("hello", "file", 0o755, (0, 0), 3, 10.0, "ab")}
    >>> b = {"hello": LayerFile("hello", "file", 0o755, (0, 0), 3, 20.0, "ab")}
    >>> [(c.path, c.what) for c in file_changes(1, a, b)]
    [('hello', 'mtime')]
    """
    changes = []
    for path in sorted(set(first) | set(second)):
        one, two = first.get(path), second.get(path)
        if one is None or two is None:
            what: Literal["mtime", "content", "metadata", "only in first", "only in second"] = (
                "only in second" if one is None else "only in first")
        elif one == two:
            continue
        elif one.content != two.content or one.size != two.size:
            what = "content"
        elif (one.kind, one.mode, one.owner) != (two.kind, two.mode, two.owner):
            what = "metadata"
        else:
            what = "mtime"
        changes.append(FileChange(layer, path, what, one.mtime if one else None, two.mtime if two else None))
    return changes


@dataclass(frozen=True)
class Comparison:
    """Two builds of the same image: are the digests equal, and if not, where do they part?"""

    first: OciImage
    second: OciImage
    config_fields: tuple[str, ...]  # top-level config fields that differ ("created", "history", "rootfs")
    layers: tuple[int, ...]  # layers (1 = first) whose uncompressed content (diff ID) differs
    blobs: tuple[int, ...]  # layers whose stored blob differs (content, or only the compression)
    files: tuple[FileChange, ...]

    @property
    def same_digest(self) -> bool:
        return self.first.digest == self.second.digest

    @property
    def same_config(self) -> bool:
        return self.first.config_digest == self.second.config_digest

    def summary(self) -> str:
        """One line: ``same digest`` or where the two builds differ.

        >>> img = OciImage("sha256:" + "a" * 64, "sha256:" + "a" * 64, "sha256:" + "b" * 64, (), ())
        >>> Comparison(img, img, (), (), (), ()).summary()
        'same digest'
        """
        if self.same_digest:
            return "same digest"
        parts = []
        if self.config_fields:
            parts.append("config: " + ", ".join(self.config_fields))
        if self.layers:
            parts.append("layers: " + ", ".join(str(n) for n in self.layers))
        kinds = sorted({c.what for c in self.files})
        if kinds:
            parts.append("files: " + ", ".join(kinds))
        return "; ".join(parts) or "manifest only"


def compare_archives(first: Path, second: Path) -> Comparison:
    """Compare the images in two OCI layout archives: config fields, layers, and files of differing layers.

    >>> compare_archives(Path("hello-1.tar"), Path("hello-2.tar")).same_digest  # doctest: +SKIP
    True
    """
    with tarfile.open(first) as one, tarfile.open(second) as two:
        a, b = read_image(one), read_image(two)
        fields = tuple(sorted(k for k in set(a.config) | set(b.config) if a.config.get(k) != b.config.get(k)))
        count = max(len(a.diff_ids), len(b.diff_ids))
        differing = tuple(i + 1 for i in range(count)
                          if i >= len(a.diff_ids) or i >= len(b.diff_ids) or a.diff_ids[i] != b.diff_ids[i])
        blobs = tuple(i + 1 for i in range(max(len(a.layers), len(b.layers)))
                      if i >= len(a.layers) or i >= len(b.layers) or a.layers[i].digest != b.layers[i].digest)
        changes: list[FileChange] = []
        for n in differing:
            if n <= len(a.layers) and n <= len(b.layers):
                changes += file_changes(n, layer_files(one, a.layers[n - 1]), layer_files(two, b.layers[n - 1]))
    return Comparison(a, b, fields, differing, blobs, tuple(changes))


# --------------------------------------------------------------------------- building twice


def oci_output(dest: Path, rewrite_timestamp: bool = True) -> str:
    """The ``--output`` value for an OCI archive.

    >>> oci_output(Path("/tmp/hello-1.tar"))
    'type=oci,dest=/tmp/hello-1.tar,rewrite-timestamp=true'
    """
    return f"type=oci,dest={dest}" + (",rewrite-timestamp=true" if rewrite_timestamp else "")


def reader_command(build: BuildResult, epoch: int | None, dest: Path | None = None) -> str:
    """The command as a reader types it: ``SOURCE_DATE_EPOCH=… docker buildx build …``, the archive by its name.

    >>> command = ("docker", "buildx", "build", "--output=type=oci,dest=/t/x/a.tar", "--progress=plain", ".")
    >>> b = BuildResult("", (), 0.0, "buildkit", command)
    >>> reader_command(b, 0, Path("/t/x/a.tar"))
    'SOURCE_DATE_EPOCH=0 docker buildx build --output=type=oci,dest=a.tar .'
    """
    command = build.reader_command
    if dest is not None:
        command = command.replace(f"dest={dest}", f"dest={dest.name}")
    return (f"SOURCE_DATE_EPOCH={epoch} " if epoch is not None else "") + command


@dataclass(frozen=True)
class ArchiveBuild:
    """One cold build exported to an OCI archive."""

    archive: Path
    image: OciImage
    sha256: str  # of the whole archive file: equal only when the archives are byte for byte the same
    build: BuildResult
    epoch: int | None
    rewrite_timestamp: bool

    @property
    def digest(self) -> str:
        return self.image.digest

    @property
    def command(self) -> str:
        return reader_command(self.build, self.epoch, self.archive)


def reproducible_build(
    context: Path,
    dest: Path,
    *,
    what: str,
    epoch: int | None,
    rewrite_timestamp: bool = True,
    target: str | None = None,
    host: str | None = None,
    default_attestations: bool = False,
    no_cache: bool = True,
) -> ArchiveBuild:
    """One cold build of ``context`` into the OCI archive ``dest``; returns its digest and the archive's sha256.

    ``SOURCE_DATE_EPOCH=epoch`` is set in the CLI's environment (buildx passes it to BuildKit as the
    build argument of that name). ``host`` builds on another engine (a cold node whose image store
    can export OCI archives). The build runs with ``--provenance=false`` (a provenance attestation
    records when the build ran) unless ``default_attestations`` leaves buildx's default in place.

    >>> reproducible_build(ctx, Path("hello-1.tar"), what="examples/hello", epoch=0).digest  # doctest: +SKIP
    'sha256:…'
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        dest.unlink()
    build = docker_build(
        context, None, what=what, target=target, no_cache=no_cache, host=host,
        output=oci_output(dest, rewrite_timestamp), options=[] if default_attestations else ["--provenance=false"],
        env={"SOURCE_DATE_EPOCH": str(epoch)} if epoch is not None else None,
    )
    return ArchiveBuild(dest, oci_image(dest), file_sha256(dest), build, epoch, rewrite_timestamp)


def build_refusal(context: Path, output: str, *, epoch: int | None = None, target: str | None = None,
                  host: str | None = None) -> str | None:
    """Try ``docker buildx build --no-cache --output OUTPUT``; return the builder's whole error (``None`` if it built).

    :func:`~dockerlab.build.docker_build` keeps one line of a failure; an exporter that is not
    supported explains itself over several (what to switch on, where to read more).
    """
    command = [docker_cli(), "buildx", "build", "--progress=plain", "--no-cache", "--provenance=false",
               f"--output={output}"]
    if target:
        command += ["--target", target]
    env = cli_env(host)
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = str(epoch)
    proc = subprocess.run([*command, "."], cwd=context, capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=3600)
    if proc.returncode == 0:
        return None
    dest = re.search(r"(?:^|,)dest=([^,]+)", output)
    if dest and Path(dest.group(1)).is_file() and Path(dest.group(1)).stat().st_size == 0:
        Path(dest.group(1)).unlink()  # the CLI opens the file before the builder refuses
    lines = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if line.startswith("ERROR:")), max(len(lines) - 1, 0))
    return " ".join(lines[start:]).removeprefix("ERROR:").strip() or f"exit status {proc.returncode}"


# --------------------------------------------------------------------------- the book's own engine


@dataclass(frozen=True)
class LoadedBuild:
    """One cold build loaded into the engine (``--load`` or ``--output type=docker``), saved for comparison."""

    tag: str
    image_id: str
    archive: Path  # ``docker image save`` of the image, an OCI layout
    build: BuildResult
    epoch: int | None

    @property
    def command(self) -> str:
        return reader_command(self.build, self.epoch)


def save_image(reference: str, dest: Path, client: Any | None = None) -> Path:
    """``docker image save REFERENCE -o DEST``."""
    api = resolve_api(client)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "wb") as out:
        for chunk in api.get_image(reference):
            out.write(chunk)
    return dest


def _image_id(api: Any, reference: str) -> str | None:
    from docker.errors import ImageNotFound

    try:
        return str(api.inspect_image(reference)["Id"])
    except ImageNotFound:
        return None


def forget_untagged(image_id: str, client: Any | None = None) -> bool:
    """Remove ``image_id`` if it is the book's (labelled), has no tag left and no container; True if removed."""
    from docker.errors import APIError, ImageNotFound

    api = resolve_api(client)
    try:
        info = api.inspect_image(image_id)
    except ImageNotFound:
        return False
    labels = (info.get("Config") or {}).get("Labels") or {}
    if labels.get(PROJECT_LABEL) != PROJECT or info.get("RepoTags"):
        return False
    try:
        api.remove_image(image_id, noprune=False)
    except APIError:  # a container still uses it
        return False
    return True


def loaded_build(
    context: Path,
    tag: str,
    dest: Path,
    *,
    example: str,
    epoch: int | None,
    rewrite_timestamp: bool = False,
    target: str | None = None,
    client: Any | None = None,
) -> LoadedBuild:
    """A cold build into the engine's own image store, labelled as the book's, then saved to ``dest``.

    ``rewrite_timestamp=True`` asks for it the only way a loading build can
    (``--output type=docker,rewrite-timestamp=true``). The image the tag named before, if the
    build moved the tag away from it, is removed (it is the book's and has no other name).
    """
    api = resolve_api(client)
    before = _image_id(api, tag)
    build = docker_build(
        context, tag, what=f"examples/{example}", target=target, no_cache=True,
        labels=image_labels(example),
        output="type=docker,rewrite-timestamp=true" if rewrite_timestamp else None,
        env={"SOURCE_DATE_EPOCH": str(epoch)} if epoch is not None else None,
    )
    image_id = _image_id(api, tag) or build.image_id
    save_image(tag, dest, api)
    if before and before != image_id:
        forget_untagged(before, api)
    return LoadedBuild(tag, image_id, dest, build, epoch)


# --------------------------------------------------------------------------- contexts and nodes


def private_context(example: str, dest: Path, prepare: Callable[[Path], Any] | None = None) -> Path:
    """Copy ``examples/<example>`` to ``dest`` (replacing it) and run ``prepare`` there.

    The book's shared staging folder (``_build/work/contexts/<name>``) is rebuilt by every page
    that builds the same example; a pair of builds compared file by file needs a context of
    its own that nothing else rewrites between the two builds.
    """
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(example_dir(example), dest, symlinks=True)
    if prepare is not None:
        prepare(dest)
    return dest


def copy_image_to(host: str, reference: str) -> str:
    """``docker image save REFERENCE | DOCKER_HOST=HOST docker image load``: give another engine a local image.

    (:class:`~dockerlab.coldnode.ColdNode` has no loading method; this pipes the two CLIs.)
    Returns what ``docker image load`` printed.
    """
    cli = docker_cli()
    save = subprocess.Popen([cli, "image", "save", reference], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=cli_env(None))
    try:
        load = subprocess.run([cli, "image", "load"], stdin=save.stdout, capture_output=True, text=True,
                              env=cli_env(host), timeout=1800)
    finally:
        if save.stdout is not None:
            save.stdout.close()
        save_err = save.stderr.read().decode(errors="replace") if save.stderr else ""
        save.wait()
    if save.returncode != 0:
        raise ReproducibleError(f"docker image save {reference} failed: {save_err.strip()[-300:]}")
    if load.returncode != 0:
        raise ReproducibleError(f"docker image load of {reference} on {host} failed: {load.stderr.strip()[-300:]}")
    return load.stdout.strip()


def changed_paths(
    changes: Iterable[FileChange],
    what: Sequence[str] = ("mtime", "content", "metadata", "only in first", "only in second"),
) -> list[str]:
    """The paths of ``changes`` of the given kinds, in order, each once.

    >>> changes = [FileChange(1, "etc", "mtime", 1.0, 2.0), FileChange(2, "webapi", "content", 1.0, 2.0)]
    >>> changed_paths(changes, ["mtime"])
    ['etc']
    """
    seen: list[str] = []
    for change in changes:
        if change.what in what and change.path not in seen:
            seen.append(change.path)
    return seen
