"""A wheelhouse: the pinned PyPI files an image installs, downloaded on the host before the build.

The containers of this build reach Debian's mirror but not PyPI, and many CI systems build images
with no index at all. Then the build context carries the files pip needs -- checked against the
hashes pinned in the example's requirement files -- and the Dockerfile installs them with
``pip install --no-index --find-links=/wheelhouse --require-hashes``.

An example that uses one has two pinned files: ``requirements.txt`` (what the service imports,
downloaded as source archives, because the image is meant to compile them) and
``build-requirements.txt`` (what pip needs to build those, downloaded as wheels).

>>> build_example("pyservice", "ch09/pyservice:single-slim", dockerfile="Dockerfile.single",
...               prepare=add_wheelhouse)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from dockerlab.errors import DockerLabError
from dockerlab.examples import work_dir

#: The folder the Dockerfiles copy (``COPY requirements.txt wheelhouse/ /wheelhouse/``).
WHEELHOUSE = "wheelhouse"
#: Requirement file -> the pip download options for it.
REQUIREMENT_FILES: dict[str, tuple[str, ...]] = {
    "requirements.txt": ("--no-binary", ":all:"),  # source archives: the build stage compiles them
    "build-requirements.txt": ("--only-binary", ":all:"),  # the build backend, as ready wheels
}


def download_command(requirements: Path, dest: Path, python: str = sys.executable) -> list[str]:
    """The ``pip download`` command for one pinned requirement file.

    >>> " ".join(download_command(Path("requirements.txt"), Path("wh"), python="python3"))
    'python3 -m pip download --no-deps --require-hashes --no-binary :all: -r requirements.txt -d wh'
    """
    return [python, "-m", "pip", "download", "--no-deps", "--require-hashes",
            *REQUIREMENT_FILES[requirements.name], "-r", str(requirements), "-d", str(dest)]


def requirements_digest(folder: Path) -> str:
    """A short digest of the requirement files in ``folder``: the name of their cached wheelhouse.

    >>> import tempfile; d = Path(tempfile.mkdtemp()); _ = (d / "requirements.txt").write_text("x==1")
    >>> requirements_digest(d)
    '10c4d31373b210c8'
    """
    sha = hashlib.sha256()
    for name in REQUIREMENT_FILES:
        path = folder / name
        if path.is_file():
            sha.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return sha.hexdigest()[:16]


def cached_wheelhouse(folder: Path, root: Path | None = None) -> Path:
    """The wheelhouse for the requirement files in ``folder``: downloaded once, then reused.

    Kept under ``_build/work/wheelhouse/<digest>``; a new pin gives a new folder. Raises
    :class:`DockerLabError` with pip's last line when PyPI cannot be reached or a hash differs.
    """
    present = [folder / name for name in REQUIREMENT_FILES if (folder / name).is_file()]
    if not present:
        raise DockerLabError(f"{folder} has no requirements.txt to fill a wheelhouse from.")
    cache = work_dir(WHEELHOUSE, root) / requirements_digest(folder)
    if (cache / ".done").is_file():
        return cache
    partial = cache.with_name(cache.name + ".part")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    for requirements in present:
        proc = subprocess.run(download_command(requirements, partial), capture_output=True, text=True, check=False,
                              stdin=subprocess.DEVNULL, timeout=600)
        if proc.returncode != 0:
            lines = [line for line in (proc.stderr + proc.stdout).splitlines() if line.strip()]
            raise DockerLabError(f"cannot download the wheelhouse for {requirements.name} with pip: "
                                 f"{lines[-1] if lines else 'no output'}")
    (partial / ".done").write_text("ok\n")
    if cache.exists():
        shutil.rmtree(cache)
    partial.rename(cache)
    return cache


def add_wheelhouse(context: Path) -> list[Path]:
    """``build_example`` prepare step: put the pinned files into ``<context>/wheelhouse``; return them.

    >>> [p.name for p in add_wheelhouse(stage_context("pyservice"))]  # doctest: +SKIP
    ['psutil-7.2.2.tar.gz', 'setuptools-80.9.0-py3-none-any.whl']
    """
    cache = cached_wheelhouse(Path(context))
    target = Path(context) / WHEELHOUSE
    target.mkdir(exist_ok=True)
    for file in sorted(cache.iterdir()):
        if not file.name.startswith("."):
            shutil.copy2(file, target / file.name)
    return sorted(target.iterdir())
