"""A reader who is not root: a user in the ``docker`` group with a copy of this checkout.

Readers run the notebooks as an ordinary member of the ``docker`` group. As root, :func:`reader` makes such
a user for the length of a test (and removes it afterwards); run by a user who is not root, the reader is
that user. Either way the reader works in a copy of the checkout (the files git tracks or would track,
uncommitted changes included) that it owns, with this checkout's virtualenv.
"""

from __future__ import annotations

import grp
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dockerlab.rehearsal import remove_user, traversable
from tests.conftest import ROOT


@dataclass(frozen=True)
class Reader:
    """Who runs the commands (``user`` None: this process's own user, already not root) and where."""

    user: str | None
    root: Path  # the reader's copy of the checkout
    home: Path

    def environment(self, env: Mapping[str, str] | None = None) -> dict[str, str]:
        """A reader's environment: no root's DOCKER_HOST or the like; pip's settings and the locale passed on."""
        passed = {k: v for k, v in os.environ.items() if k.startswith(("PIP_", "LANG", "LC_", "TZ"))}
        return {**passed, "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "HOME": str(self.home), "CH09_ROOT": str(self.root), "PYTHONPATH": str(self.root / "src"),
                **(env or {})}

    def command(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> list[str]:
        """``argv`` as the reader runs it (through ``runuser`` and ``env -i`` when this process is root)."""
        if self.user is None:
            return list(argv)
        return ["runuser", "-u", self.user, "--", "env", "-i",
                *[f"{k}={v}" for k, v in self.environment(env).items()], *argv]

    def run(self, argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` as the reader in its checkout and wait for it."""
        return subprocess.run(self.command(argv, env), cwd=cwd or self.root, capture_output=True, text=True,
                              timeout=timeout, env=self.environment(env) if self.user is None else None)

    def popen(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[str]:
        """Start ``argv`` as the reader in its checkout (stdout and stderr together, as text)."""
        return subprocess.Popen(self.command(argv), cwd=self.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=self.environment() if self.user is None else None, **kwargs)


def _checkout_files() -> list[str]:
    # safe.directory: under `sudo make test` the checkout belongs to the user who cloned it, not to root.
    listed = subprocess.run(["git", "-c", f"safe.directory={ROOT}", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def copy_checkout(dest: Path) -> Path:
    """Copy the checkout's files into ``dest`` (times kept, so make finds the shared virtualenv current)."""
    for name in _checkout_files():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target, follow_symlinks=False)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest


@contextmanager
def reader() -> Iterator[Reader]:
    """A reader in the ``docker`` group with its own copy of the checkout in a new temp folder (removed after)."""
    tmp = Path(tempfile.mkdtemp(prefix="ch09-reader-"))
    try:
        if os.geteuid() != 0:
            yield Reader(None, copy_checkout(tmp / "book"), Path(os.environ.get("HOME", str(tmp))))
        else:
            with _new_user(tmp) as made:
                yield made
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def _new_user(tmp: Path) -> Iterator[Reader]:
    grp.getgrnam("docker")  # KeyError here: the engine's package made no docker group
    name = f"ch09r{secrets.token_hex(3)}"
    home = tmp / "home"
    home.mkdir()
    subprocess.run(["useradd", "--no-create-home", "--home-dir", str(home), "--groups", "docker",
                    "--shell", "/bin/sh", name], check=True, capture_output=True)
    # The virtualenv and the interpreter it links to must be reachable by the reader (the checkout may sit in a
    # folder of another user's, as the rehearsal's clone does); open only the traverse bit, for the test.
    venv_python = ROOT / ".venv" / "bin" / "python"
    try:
        with traversable(venv_python.resolve()), traversable(venv_python):
            book = copy_checkout(tmp / "book")
            subprocess.run(["chown", "-R", f"{name}:{name}", str(tmp)], check=True)
            yield Reader(name, book, home)
    finally:
        remove_user(name, home=False)  # its home is in the test's folder
