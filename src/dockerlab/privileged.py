"""Steps that need root, for a reader who is not root: they run in a privileged lab container.

A cold node (a second ``dockerd``), a network namespace with a shaped link, and a bridge all need root.
A reader who runs the notebooks as an ordinary member of the ``docker`` group is not root, but may
start privileged containers on the engine -- and a privileged container on the host's network is, for
these steps, the same machine: an interface, a namespace or a bridge made inside it is made on the host.
So when this process is not root, each such step runs in a container of :data:`LAB_IMAGE` (built here
from Debian packages, with the same engine as the book's own install, see ``bases/lab-node``), labelled
as the book's, recorded in ``_build/run`` as it starts (:mod:`dockerlab.runstate`), and removed with
everything in it when the step ends. As root they run on the host, as before.

>>> needs_lab(euid=1000), needs_lab(euid=0)
(True, False)
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dockerlab import runstate
from dockerlab.engine import resolve_client
from dockerlab.errors import LabError
from dockerlab.ownership import container_labels, image_labels

#: The lab container's image: Debian 12 with the engine from Debian 13, iproute2 and docker-registry.
LAB_IMAGE = "ch09/lab-node:latest"
#: The label naming what a lab container is for (``cold-node``, ``shaped-link`` ...).
PURPOSE_LABEL = "org.ch09book.lab"


def needs_lab(euid: int | None = None) -> bool:
    """True when this process is not root, so root's steps must run in a lab container."""
    return (os.geteuid() if euid is None else euid) != 0


def ensure_lab_image(client: Any | None = None, root: Path | None = None) -> str:
    """Build :data:`LAB_IMAGE` from ``bases/lab-node`` unless the engine has it; return its tag.

    Its base, ``debian:bookworm``, is ensured first (pulled, or bootstrapped by the book).
    """
    from docker.errors import ImageNotFound

    from dockerlab.bases import ensure_base
    from dockerlab.build import docker_build
    from dockerlab.errors import ExampleBuildError
    from dockerlab.examples import project_root

    client = resolve_client(client)
    try:
        client.images.get(LAB_IMAGE)
        return LAB_IMAGE
    except ImageNotFound:
        pass
    ensure_base("debian:bookworm", client=client)
    context = (root or project_root()) / "bases" / "lab-node"
    try:
        docker_build(context, LAB_IMAGE, what="bases/lab-node", labels=image_labels(extra={PURPOSE_LABEL: "image"}),
                     root=root)
    except ExampleBuildError as err:
        raise LabError(f"cannot build the lab container's image {LAB_IMAGE}: {err}") from None
    return LAB_IMAGE


@dataclass(frozen=True)
class LabContainer:
    """A running lab container: commands run in it with :meth:`run`, or are started with :meth:`argv`."""

    name: str

    def argv(self, command: Sequence[str], *, interactive: bool = False) -> list[str]:
        """``docker exec [-i] NAME COMMAND...``: ``command`` run inside this container (for ``subprocess``).

        >>> LabContainer("ch09-lab-x").argv(["ip", "link"])[1:]
        ['exec', 'ch09-lab-x', 'ip', 'link']
        """
        from dockerlab.build import docker_cli

        return [docker_cli(), "exec", *(["-i"] if interactive else []), self.name, *command]

    def run(self, command: Sequence[str], *, check: bool = False) -> subprocess.CompletedProcess[str]:
        """Run ``command`` inside this container and wait for it; ``check`` raises :class:`LabError` on failure."""
        from dockerlab.build import cli_env

        proc = subprocess.run(self.argv(command), capture_output=True, text=True, env=cli_env(),
                              stdin=subprocess.DEVNULL)
        if check and proc.returncode != 0:
            raise LabError(f"`{' '.join(command)}` failed in the lab container {self.name}: "
                           f"{proc.stderr.strip()[-300:] or proc.returncode}")
        return proc


def _mounts(binds: Sequence[Path], volumes: Sequence[Path], tmpfs: Sequence[Path]) -> list[Any]:
    from docker.types import Mount

    mounts = [Mount(target=str(path), source=str(path), type="bind") for path in binds]
    # An anonymous volume: a real filesystem for overlay mounts (not the container's own overlay),
    # removed with the container.
    mounts += [Mount(target=str(path), source=None, type="volume") for path in volumes]
    mounts += [Mount(target=str(path), source=None, type="tmpfs") for path in tmpfs]
    return mounts


@contextmanager
def lab_container(purpose: str, *, binds: Sequence[Path] = (), volumes: Sequence[Path] = (),
                  tmpfs: Sequence[Path] = (), client: Any | None = None) -> Iterator[LabContainer]:
    """A privileged container of :data:`LAB_IMAGE` on the host's network, for the length of the block.

    ``binds`` are host folders seen at the same path inside; ``volumes`` are anonymous volumes and ``tmpfs``
    memory filesystems at those paths, both gone with the container. It is removed (with every process
    and mount in it) on exit, also when the block fails; a killed run's container is removed by the next
    sweep.
    """
    client = resolve_client(client)
    image = ensure_lab_image(client)
    name = f"ch09-lab-{purpose}-{os.urandom(4).hex()}"
    with runstate.tracked("container", name):
        container = None
        try:
            container = client.containers.run(
                image, ["sleep", "infinity"], name=name, detach=True, privileged=True, network_mode="host",
                labels=container_labels({PURPOSE_LABEL: purpose}), mounts=_mounts(binds, volumes, tmpfs),
                init=True,
            )
            yield LabContainer(name)
        finally:
            if container is not None:
                container.remove(force=True, v=True)


def run_as_root(command: Sequence[str], *, client: Any | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``command`` as root on this machine: directly when root, else in a throwaway lab container on the
    host's network (for what a sweep removes: an interface left by a killed run)."""
    if not needs_lab():
        return subprocess.run(list(command), capture_output=True, text=True)
    with lab_container("sweep", client=client) as lab:
        return lab.run(command)


def temp_root() -> Path:
    """The temp folder helpers make their folders in; bound into lab containers at the same path."""
    return Path(tempfile.gettempdir())


def where_nodes_ran(euid: int | None = None) -> str:
    """One Korean sentence for the pages: where this build ran the steps that need root.

    >>> where_nodes_ran(euid=0).startswith("이 빌드는 root로")
    True
    """
    if not needs_lab(euid):
        return ("이 빌드는 root로 실행되었으므로, 두 번째 dockerd와 네트워크 네임스페이스 같은 root가 필요한 단계를 "
                "호스트에서 직접 실행했습니다.")
    return ("이 빌드는 root가 아닌 사용자(docker 그룹의 구성원)로 실행되었으므로, root가 필요한 단계"
            "(두 번째 dockerd, 네트워크 네임스페이스, 브리지, tc)는 호스트 네트워크를 쓰는 특권(privileged) "
            f"컨테이너 {LAB_IMAGE} 안에서 실행했습니다. 이 이미지는 책의 엔진과 같은 데비안 패키지로 만들었고, "
            "그 안에서 만든 인터페이스와 네임스페이스는 호스트의 것입니다. docker 그룹의 구성원은 이렇게 특권 "
            "컨테이너를 띄울 수 있으므로 사실상 root와 같은 권한을 가진다는 점도 기억해 두세요.")
