"""A cold node: a second, private Docker engine that holds no image layers.

``docker rmi`` of one tag on the book's engine is not a cold node: the base layers stay.
This module starts a second ``dockerd`` beside the first, with its own data root, exec root,
pidfile, socket and bridge, and no iptables rules, so it touches nothing of the first
engine. (Not ``--bridge=none``: an engine started so deletes the host's ``docker0``, the
first engine's bridge, and every container started after that fails to get a network.) It pulls
from a registry like a freshly added cluster node would; :func:`cold_node` always stops it and
removes its data.

>>> with cold_node() as node:  # doctest: +SKIP
...     pulled = node.pull("127.0.0.1:5000/busybox:latest")
...     round(pulled.seconds, 1), pulled.disk_added
(0.3, 2121728)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dockerlab import runstate
from dockerlab.errors import ColdNodeError
from dockerlab.examples import BuiltImage, build_example
from dockerlab.ownership import container_labels
from dockerlab.privileged import LabContainer, lab_container, needs_lab
from dockerlab.registry import push_error, stop_process

DOCKERD = "dockerd"

#: Where a node keeps images: the graph driver (``overlay2``, the default of Engine <= 28 and of
#: every engine upgraded from one) or containerd's content store and snapshotter (the default of
#: fresh Engine 29 installs and of Docker Desktop), switched on by a daemon feature.
ImageStore = Literal["overlay2", "containerd"]


def daemon_config(image_store: ImageStore = "overlay2") -> dict[str, Any]:
    """The node's own ``daemon.json``: empty, or the containerd image store switched on.

    >>> daemon_config("containerd")
    {'features': {'containerd-snapshotter': True}}
    """
    if image_store == "containerd":
        return {"features": {"containerd-snapshotter": True}}
    if image_store != "overlay2":
        raise ColdNodeError(f"unknown image store {image_store!r}: use 'overlay2' or 'containerd'.")
    return {}


def store_folders(data_root: Path, image_store: ImageStore) -> list[Path]:
    """The folders whose entries are the node's unpacked layers: overlay2's layer folders, or
    containerd's snapshots.

    (containerd also keeps each pulled blob -- compressed layers, manifests, configs -- in its
    content store. Blobs that no image references any more are deleted by containerd's garbage
    collector in its own time; until then they serve no pull, since containerd downloads again
    whatever its metadata does not list, so they do not make a node warm.)
    """
    if image_store == "containerd":
        return [data_root / "containerd" / "daemon" / "io.containerd.snapshotter.v1.overlayfs" / "snapshots"]
    return [data_root / "overlay2"]


def content_folder(data_root: Path, image_store: ImageStore) -> Path | None:
    """The folder of containerd's content store (compressed layers, manifests, configs), or None for overlay2."""
    if image_store == "containerd":
        return data_root / "containerd" / "daemon" / "io.containerd.content.v1.content" / "blobs"
    return None


def cli_size_column(output: str, header: str, row: str | None = None) -> str:
    """The ``header`` column of a docker CLI table (``docker image ls``, ``docker system df``), in the first
    data row or in the row whose first cell is ``row``.

    >>> cli_size_column("TYPE    TOTAL  ACTIVE  SIZE     RECLAIMABLE\\n"
    ...                 "Images  1      0       116.6MB  116.6MB (100%)", "SIZE", "Images")
    '116.6MB'
    """
    lines = [line for line in output.splitlines() if line.strip()]
    if not lines or header not in lines[0]:
        raise ColdNodeError(f"the docker CLI printed no {header} column: {output.strip()[:200]!r}")
    start = lines[0].index(header)
    for line in lines[1:]:
        if row is None or line.split()[0] == row:
            return line[start:].split()[0]
    raise ColdNodeError(f"the docker CLI printed no {row or 'data'} row: {output.strip()[:200]!r}")


@dataclass(frozen=True)
class NodePaths:
    """Where one cold node keeps everything: all of it under ``root``."""

    root: Path

    @property
    def data_root(self) -> Path:
        return self.root / "data"

    @property
    def exec_root(self) -> Path:
        return self.root / "exec"

    @property
    def pidfile(self) -> Path:
        return self.root / "dockerd.pid"

    @property
    def socket(self) -> Path:
        return self.root / "docker.sock"

    @property
    def config(self) -> Path:
        return self.root / "daemon.json"

    @property
    def log(self) -> Path:
        return self.root / "dockerd.log"

    @property
    def host(self) -> str:
        """The ``-H`` address, also the client's ``base_url``."""
        return f"unix://{self.socket}"


def dockerd_command(paths: NodePaths, insecure_registries: Sequence[str] = (), binary: str = DOCKERD,
                    bridge: str = "none") -> list[str]:
    """The command line of a second engine that shares nothing with the first.

    ``bridge`` is a bridge made for this node (see :func:`node_bridge`); ``"none"`` only for
    engines in a network namespace of their own, since it deletes the namespace's ``docker0``.

    >>> dockerd_command(NodePaths(Path("/n")), ["10.0.0.2:5000"], bridge="ch09n1")[-6:]
    ... # doctest: +NORMALIZE_WHITESPACE
    ['--bridge=ch09n1', '--iptables=false', '--ip-masq=false', '--ip-forward=false',
     '--insecure-registry', '10.0.0.2:5000']
    """
    command = [
        binary,
        # Its own (empty) config file, so /etc/docker/daemon.json of the first engine does not apply.
        "--config-file", str(paths.config),
        "--data-root", str(paths.data_root),
        "--exec-root", str(paths.exec_root),
        "--pidfile", str(paths.pidfile),
        "-H", paths.host,
        f"--bridge={bridge}",
        "--iptables=false",
        "--ip-masq=false",
        "--ip-forward=false",
    ]
    for registry in insecure_registries:
        command += ["--insecure-registry", registry]
    return command


def disk_usage(path: Path) -> int:
    """Bytes of disk ``path`` occupies (allocated blocks, each hard-linked file counted once), like ``du -s -B1``.

    >>> import tempfile; d = Path(tempfile.mkdtemp()); disk_usage(d) >= 0
    True
    """
    seen: set[tuple[int, int]] = set()
    total = 0
    for folder, dirs, files in os.walk(path, onerror=lambda err: None):
        for name in (folder, *(os.path.join(folder, n) for n in [*dirs, *files])):
            try:
                st = os.lstat(name)
            except OSError:
                continue
            key = (st.st_dev, st.st_ino)
            if key in seen:
                continue
            seen.add(key)
            total += st.st_blocks * 512
    return total


def mounts_under(root: Path, mountinfo: str | None = None) -> list[str]:
    """Mount points at or below ``root``, deepest first (from ``/proc/self/mountinfo``).

    >>> mounts_under(Path("/n"), "1 2 0:1 / /n/data/overlay2/x/merged rw - overlay o rw\\n"
    ...                          "3 4 0:2 / /proc rw - proc p rw")
    ['/n/data/overlay2/x/merged']
    """
    if mountinfo is None:
        mountinfo = Path("/proc/self/mountinfo").read_text()
    prefix = str(root).rstrip("/")
    points = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) > 4:
            point = fields[4].replace("\\040", " ")
            if point == prefix or point.startswith(prefix + "/"):
                points.append(point)
    return sorted(points, key=lambda p: p.count("/"), reverse=True)


def processes_under(root: Path) -> list[int]:
    """PIDs whose command line names ``root``: the engine and the containerd it started for this node."""
    needle = str(root).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline:
            found.append(int(entry.name))
    return found


@dataclass(frozen=True)
class PullResult:
    """One pull onto the cold node: how long it took and what it left on the node's disk."""

    reference: str
    seconds: float
    disk_added: int
    size: int  # the image size as this node's engine reports it
    layers: tuple[str, ...] = ()  # the layers' diff IDs: the same content has the same ones on every engine
    #: Short IDs (12 hex digits of the compressed digest) of the layers the engine reported "Already exists":
    #: it had them from an earlier pull and downloaded nothing for them.
    reused: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoreSizes:
    """What one node's image store says about one image (the docker CLI's own words, and the bytes behind
    them from the API the CLI reads), and the disk the node's data root occupies."""

    reference: str
    image_store: ImageStore
    ls_size: int  # `docker image ls` SIZE (GET /images/json)
    inspect_size: int  # `docker image inspect -f '{{.Size}}'`
    df_size: int  # `docker system df`, Images row, SIZE (GET /system/df LayersSize)
    data_root: int  # bytes the node's data root occupies
    #: Each docker command run (as a reader types it, against this node) and what it printed.
    outputs: tuple[tuple[str, str], ...]

    def output(self, command_start: str) -> str:
        """What the command starting with ``command_start`` (e.g. ``docker system df``) printed."""
        return next(text for command, text in self.outputs if command.startswith(command_start))


@dataclass(frozen=True)
class RunResult:
    """One container run on the cold node: time from create to exit, and its output."""

    seconds: float
    output: str


class ColdNode:
    """A running second engine; use :func:`cold_node` to get one."""

    def __init__(self, paths: NodePaths, process: subprocess.Popen[bytes], client: Any,
                 image_store: ImageStore = "overlay2", lab: LabContainer | None = None) -> None:
        self.paths = paths
        self.process = process
        self.client = client
        self.image_store = image_store
        #: The lab container the node runs in (a reader who is not root), whose files only it may read.
        self.lab = lab

    def _lab_count(self, command: str) -> int:
        assert self.lab is not None
        return int(self.lab.run(["sh", "-c", command], check=True).stdout.split()[0])

    def layer_count(self) -> int:
        """Unpacked layers in the node's store: overlay2 layer folders (``l`` holds only short links), or
        containerd snapshots."""
        count = 0
        for store in store_folders(self.paths.data_root, self.image_store):
            if self.lab is not None:
                count += self._lab_count(f"ls -A {store} 2>/dev/null | grep -cvx l || true")
            elif store.is_dir():
                count += sum(1 for p in store.iterdir() if p.name != "l")
        return count

    def blob_count(self) -> int:
        """Blobs in containerd's content store (0 on overlay2, which keeps no compressed layer)."""
        folder = content_folder(self.paths.data_root, self.image_store)
        if folder is None:
            return 0
        if self.lab is not None:
            return self._lab_count(f"find {folder} -mindepth 2 -maxdepth 2 2>/dev/null | wc -l")
        if not folder.is_dir():
            return 0
        return sum(1 for algorithm in folder.iterdir() if algorithm.is_dir() for _ in algorithm.iterdir())

    def docker(self, *args: str, check: bool = True) -> str:
        """Run the docker CLI against this node (``docker system df``, ``docker image ls`` ...); return its output."""
        from dockerlab.build import cli_env, docker_cli

        proc = subprocess.run([docker_cli(), *args], capture_output=True, text=True, env=cli_env(self.paths.host))
        if check and proc.returncode != 0:
            raise ColdNodeError(f"`docker {' '.join(args)}` on the cold node failed: {proc.stderr.strip()[-300:]}")
        return proc.stdout

    def wipe(self, timeout: float = 30.0) -> None:
        """Remove every container, image and build cache record, and check that no layer is left: the node is
        cold again.

        The node is the book's own engine, so its whole build cache may go (``docker builder prune``).
        """
        from docker.errors import NotFound

        for container in self.client.containers.list(all=True):
            container.remove(force=True)
        # Removing an image also removes its untagged parents, so some IDs vanish on the way.
        for image in [*self.client.images.list(), *self.client.images.list(all=True)]:
            try:
                self.client.images.remove(image.id, force=True)
            except NotFound:
                pass
        self.docker("builder", "prune", "--all", "--force")
        # containerd removes unreferenced snapshots and blobs in its garbage collector, just after;
        # wait for both, so that what a later pull adds to the disk is that pull's alone.
        deadline = time.monotonic() + timeout
        while ((left := self.layer_count()) or (blobs := self.blob_count())) and time.monotonic() < deadline:
            time.sleep(0.2)
        left, blobs = self.layer_count(), self.blob_count()
        if left or blobs or self.client.images.list(all=True):
            raise ColdNodeError(f"the cold node still holds {left} layer(s) and {blobs} blob(s) "
                                f"after removing every image.")

    def disk_used(self) -> int:
        """Bytes the node's data root occupies on disk (in a lab container: GNU ``du -s -B1``, which counts
        the same allocated blocks and each hard-linked file once)."""
        if self.lab is not None:
            return self._lab_count(f"du -s -B1 {self.paths.data_root}")
        return disk_usage(self.paths.data_root)

    def pull(self, reference: str, *, cold: bool = True) -> PullResult:
        """``docker pull REFERENCE`` on this node, timed (download, decompression and extraction of every layer).

        ``cold`` (the default) refuses a node that holds any layer; ``cold=False`` pulls onto what is there,
        and the result names the layers the engine already had (:attr:`PullResult.reused`).
        """
        if cold and self.layer_count():
            raise ColdNodeError(f"the node is not cold before pulling {reference}; wipe it first.")
        before = self.disk_used()
        started = time.perf_counter()
        chunks = list(self.client.api.pull(reference, stream=True, decode=True))
        seconds = time.perf_counter() - started
        error = push_error(chunks)
        if error:
            raise ColdNodeError(f"the cold node could not pull {reference}: {error}")
        info = self.client.api.inspect_image(reference)
        size = int(info["Size"])
        layers = tuple((info.get("RootFS") or {}).get("Layers") or ())
        reused = tuple(str(c["id"]) for c in chunks if c.get("status") == "Already exists" and c.get("id"))
        return PullResult(reference=reference, seconds=seconds, disk_added=self.disk_used() - before, size=size,
                          layers=layers, reused=reused)

    def store_sizes(self, reference: str) -> StoreSizes:
        """What ``docker image ls``, ``docker image inspect`` and ``docker system df`` on this node say about
        ``reference`` (best with it the only image on the node), and the bytes behind each figure."""
        from dockerlab.measure import image_store_name

        store = image_store_name(self.client)
        if store != self.image_store:
            raise ColdNodeError(f"the cold node was started with the {self.image_store} image store "
                                f"but docker info reports {store}.")
        ls = f"docker image ls {reference}"
        inspect = f"docker image inspect -f '{{{{.Size}}}}' {reference}"
        outputs = (
            ("docker info -f '{{ .DriverStatus }}'", self.docker("info", "-f", "{{ .DriverStatus }}")),
            (ls, self.docker("image", "ls", reference)),
            (inspect, self.docker("image", "inspect", "-f", "{{.Size}}", reference)),
            ("docker system df", self.docker("system", "df")),
        )
        listed = [image for image in self.client.api.images(name=reference)]
        if len(listed) != 1:
            raise ColdNodeError(f"the cold node lists {len(listed)} images named {reference}, not one.")
        return StoreSizes(
            reference=reference,
            image_store=self.image_store,
            ls_size=int(listed[0]["Size"]),
            inspect_size=int(self.client.api.inspect_image(reference)["Size"]),
            df_size=int(self.client.api.df()["LayersSize"]),
            data_root=self.disk_used(),
            outputs=outputs,
        )

    def build_example(self, name: str, tag: str, **kwargs: Any) -> BuiltImage:
        """:func:`~dockerlab.examples.build_example` on this node's engine (its own BuildKit and image store)."""
        return build_example(name, tag, host=self.paths.host, client=self.client, **kwargs)

    def run(self, reference: str, command: str | list[str] | None = None) -> RunResult:
        """Run ``reference`` once (no network, no capabilities) and time it from create to exit."""
        started = time.perf_counter()
        container = self.client.containers.create(
            reference, command, network_mode="none", cap_drop=["ALL"], security_opt=["no-new-privileges"],
            labels=container_labels(),
        )
        try:
            container.start()
            status = container.wait(timeout=300)
            seconds = time.perf_counter() - started
            output = container.logs().decode("utf-8", "replace")
        finally:
            container.remove(force=True)
        if int(status.get("StatusCode", 1)) != 0:
            raise ColdNodeError(f"{reference} exited with status {status.get('StatusCode')} on the cold node: "
                                f"{output.strip()[-300:]}")
        return RunResult(seconds=seconds, output=output)


def _last_log_line(log: Path) -> str:
    try:
        lines = [line for line in log.read_text(errors="replace").splitlines()
                 if "level=error" in line or "failed" in line]
    except OSError:
        return "no log"
    return lines[-1][-300:] if lines else "see its log"


def _stop(process: subprocess.Popen[bytes], paths: NodePaths, grace: float = 30.0) -> None:
    stop_process(process, grace)
    # containerd is the engine's child in its own process group; it exits with the engine,
    # but a killed engine may leave it behind. Only processes naming this node's folder.
    deadline = time.monotonic() + 10
    while processes_under(paths.root) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in processes_under(paths.root):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _remove(paths: NodePaths) -> None:
    for point in mounts_under(paths.root):
        subprocess.run(["umount", "-l", point], capture_output=True)
    if mounts_under(paths.root):
        raise ColdNodeError(f"something is still mounted under {paths.root}; it was not removed.")
    shutil.rmtree(paths.root, ignore_errors=True)
    if paths.root.exists():
        raise ColdNodeError(f"could not remove the cold node's folder {paths.root}.")


def _ip(*args: str, lab: LabContainer | None = None) -> subprocess.CompletedProcess[str]:
    if lab is not None:
        return lab.run(["ip", *args])
    return subprocess.run(["ip", *args], capture_output=True, text=True)


@contextmanager
def node_bridge(prefix: str = "10.210", lab: LabContainer | None = None) -> Iterator[str]:
    """A bridge of the node's own (name ``ch09n<hex>``, a free /24 under ``prefix``), removed on exit;
    made from ``lab`` (on the host's network) when given."""
    name = f"ch09n{os.urandom(3).hex()}"
    used = _ip("-o", "-4", "addr", "show", lab=lab).stdout
    subnet = next((f"{prefix}.{k}" for k in range(1, 255) if f" {prefix}.{k}." not in used), None)
    if subnet is None:
        raise ColdNodeError(f"no free /24 under {prefix}.0.0/16 for the cold node's bridge.")
    with runstate.tracked("link", name):
        made = _ip("link", "add", name, "type", "bridge", lab=lab)
        if made.returncode != 0:
            raise ColdNodeError(f"cannot create the cold node's bridge {name}: {made.stderr.strip()} (root is needed).")
        try:
            _ip("addr", "add", f"{subnet}.1/24", "dev", name, lab=lab)
            _ip("link", "set", name, "up", lab=lab)
            yield name
        finally:
            _ip("link", "del", name, lab=lab)


@contextmanager
def cold_node(
    *,
    insecure_registries: Sequence[str] = (),
    timeout: float = 60.0,
    binary: str = DOCKERD,
    own_bridge: bool = True,
    image_store: ImageStore = "overlay2",
) -> Iterator[ColdNode]:
    """Start a second ``dockerd`` with its own empty data root; stop it and remove its data on exit.

    Registries on ``127.0.0.0/8`` are trusted over plain HTTP by default; list any other
    (e.g. one in a network namespace) in ``insecure_registries``. ``image_store="containerd"``
    keeps images in containerd's store, as fresh Engine 29 installs do. ``own_bridge=False``
    (tests with a stand-in binary only) skips creating the node's bridge.
    """
    config = daemon_config(image_store)
    if own_bridge and needs_lab():
        # Not root: the node runs in a privileged lab container on the host's network (dockerlab.privileged).
        with _cold_node_in_lab(insecure_registries, timeout, config, image_store) as node:
            yield node
        return
    if shutil.which(binary) is None:
        raise ColdNodeError(f"{binary} is not installed; install Debian's docker.io package.")
    if not own_bridge:
        with _cold_node(insecure_registries, timeout, binary, "none", config, image_store) as node:
            yield node
        return
    with node_bridge() as bridge, _cold_node(insecure_registries, timeout, binary, bridge, config, image_store) as node:
        yield node


def _client_when_answering(process: subprocess.Popen[bytes], paths: NodePaths, timeout: float,
                           before_ping: Callable[[], object] | None = None) -> Any:
    """A client of the node's engine once it answers on its socket; one sentence if it exits or stays silent."""
    import docker
    from docker.errors import DockerException

    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise ColdNodeError(f"the cold node's dockerd exited with status {process.returncode}: "
                                f"{_last_log_line(paths.log)}")
        if paths.socket.exists():
            if before_ping is not None:
                before_ping()
            try:
                client = docker.DockerClient(base_url=paths.host, timeout=1800)
                client.ping()
                return client
            except DockerException:
                pass
        if time.monotonic() > deadline:
            raise ColdNodeError(f"the cold node's dockerd did not answer on {paths.socket} within {timeout:g}s.")
        time.sleep(0.1)


@contextmanager
def _cold_node(insecure_registries: Sequence[str], timeout: float, binary: str, bridge: str,
               config: dict[str, Any], image_store: ImageStore) -> Iterator[ColdNode]:

    paths = NodePaths(Path(tempfile.mkdtemp(prefix="ch09-node-")))
    # The engine and its containerd name this folder on their command lines, and its layers are
    # mounted under it: one record lets a sweep stop, unmount and remove all of it (dockerlab.runstate).
    record = runstate.register("folder", str(paths.root))
    paths.config.write_text(json.dumps(config))
    env = runstate.proxy_free_env(drop={"DOCKER_HOST"})
    process: subprocess.Popen[bytes] | None = None
    client = None
    try:
        with open(paths.log, "wb") as out:
            process = subprocess.Popen(dockerd_command(paths, insecure_registries, binary, bridge), stdout=out,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                       start_new_session=True)
        client = _client_when_answering(process, paths, timeout)
        yield ColdNode(paths, process, client, image_store)
    finally:
        if client is not None:
            client.close()
        if process is not None:
            _stop(process, paths)
        _remove(paths)
        runstate.release(record)


@contextmanager
def _cold_node_in_lab(insecure_registries: Sequence[str], timeout: float, config: dict[str, Any],
                      image_store: ImageStore) -> Iterator[ColdNode]:
    """The cold node of a reader who is not root: the same ``dockerd`` command in a lab container on the host's
    network. Its data root is an anonymous volume and its exec root a tmpfs (both gone with the container);
    its socket, config and log are in a folder of this user's, the socket handed to this user."""
    paths = NodePaths(Path(tempfile.mkdtemp(prefix="ch09-node-")))
    record = runstate.register("folder", str(paths.root))
    paths.config.write_text(json.dumps(config))
    process: subprocess.Popen[bytes] | None = None
    client = None
    try:
        with lab_container("cold-node", binds=[paths.root], volumes=[paths.data_root],
                           tmpfs=[paths.exec_root]) as lab, node_bridge(lab=lab) as bridge:
            try:
                with open(paths.log, "wb") as out:
                    process = subprocess.Popen(lab.argv(dockerd_command(paths, insecure_registries, DOCKERD, bridge)),
                                               stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                               start_new_session=True)
                # The socket is root's inside the lab: handed to this user before each try.
                client = _client_when_answering(
                    process, paths, timeout,
                    lambda: lab.run(["chown", f"{os.getuid()}:{os.getgid()}", str(paths.socket)]))
                yield ColdNode(paths, process, client, image_store, lab)
            finally:
                if client is not None:
                    client.close()
                if process is not None:
                    # dockerd stops its containers and containerd; `docker exec` returns when it has exited.
                    lab.run(["sh", "-c", f"kill -TERM $(cat {paths.pidfile}) 2>/dev/null"])
                    try:
                        process.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait()
    finally:
        # Removing the container ended every process and mount in it; what is left here is this user's.
        shutil.rmtree(paths.root, ignore_errors=True)
        if paths.root.exists():
            raise ColdNodeError(f"could not remove the cold node's folder {paths.root}.")
        runstate.release(record)
