"""One run at a time per checkout: builds, notebook runs and base bootstraps share ``_build``.

Two builds in one checkout would share the staged build contexts under ``_build/work`` and the
image tags, so one could measure the other's image. :func:`checkout_lock` takes an exclusive
``flock`` on ``_build/.lock``; a second run stops at once with one sentence naming the first.
The kernel drops the lock when the holder exits, however it exits, so no stale lock survives.

>>> with checkout_lock(Path(tempfile.mkdtemp()), "make html"):
...     pass
"""

from __future__ import annotations

import fcntl
import os
import tempfile  # noqa: F401  (doctest)
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dockerlab.errors import CheckoutBusy


@contextmanager
def checkout_lock(root: Path, what: str) -> Iterator[None]:
    """Hold ``<root>/_build/.lock`` for ``what`` (e.g. "the book build"); raise :class:`CheckoutBusy` if taken."""
    path = root / "_build" / ".lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another run"
            raise CheckoutBusy(f"{what} cannot start: {holder} is using {path.parent} in this checkout; "
                               "wait for it to finish (or stop it) and run this again.") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{what} (pid {os.getpid()})\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
