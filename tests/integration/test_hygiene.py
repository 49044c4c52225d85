"""`make clean-docker` (python -m dockerlab clean) removes what the book made, and only that.

A reader's engine holds their own objects, and some of them descend from the book's: an image built
FROM a bootstrapped base inherits the base's labels, a container inherits its image's labels, and a
rebuilt image of theirs leaves a dangling one behind. All of those must survive.
"""

import io
import os
import subprocess
import sys

import pytest
from docker.errors import NotFound

from dockerlab import build_example
from dockerlab.bases import KNOWN_BASES
from dockerlab.ownership import PROJECT, PROJECT_LABEL, container_labels
from tests.conftest import ROOT


def _reader_build(engine, dockerfile: bytes, tag: str | None) -> str:
    """A reader's own `docker build` (no labels of the book's), returning the image ID."""
    image, _ = engine.images.build(fileobj=io.BytesIO(dockerfile), tag=tag, rm=True)
    return image.id


# It runs the real clean-docker, which also removes the book's example images that other tests compare with.
@pytest.mark.clean_slate
def test_clean_removes_the_books_objects_and_keeps_the_readers(engine, tmp_path) -> None:
    # The book's: an example image (recorded in the ledger as it is built), a network, a container.
    (tmp_path / "conf.py").write_text("")
    example = tmp_path / "examples" / "hygiene"
    example.mkdir(parents=True)
    (example / "Dockerfile").write_text("FROM busybox\nRUN echo made > /made\n")
    ours = build_example("hygiene", "ch09/test-hygiene:latest", root=tmp_path, nocache=True)
    # ...and one of the book's images that a rebuild left dangling: recorded, no tag any more.
    (example / "Dockerfile").write_text("FROM busybox\nRUN echo made again > /made\n")
    rebuilt = build_example("hygiene", "ch09/test-hygiene:latest", root=tmp_path, nocache=True)
    assert rebuilt.stats.id != ours.stats.id and not engine.images.get(ours.stats.id).tags
    network = engine.networks.create("ch09-test-hygiene", labels=container_labels())
    container = engine.containers.create("ch09/test-hygiene:latest", "true", labels=container_labels(),
                                         name="ch09-test-hygiene")
    # The reader's: an image FROM a bootstrapped base (it inherits the base's project label), a
    # dangling image of theirs from the same base, and a container of theirs from a base image.
    readers = _reader_build(engine, b"FROM busybox\nRUN echo mine > /mine\n", "ch09test/readers-app:1")
    assert engine.images.get(readers).labels.get(PROJECT_LABEL) == PROJECT  # inherited, as promised
    dangling = _reader_build(engine, b"FROM busybox\nRUN echo old > /old\n", None)
    unlabelled = engine.containers.create("busybox:latest", "true", name="ch09-test-readers-container")
    try:
        proc = subprocess.run([sys.executable, "-m", "dockerlab", "clean"], capture_output=True, text=True,
                              cwd=ROOT, timeout=300, env={**os.environ, "CH09_ROOT": str(tmp_path)})
        assert proc.returncode == 0, proc.stderr
        names = [c.name for c in engine.containers.list(all=True)]
        assert "ch09-test-hygiene" not in names
        assert "ch09-test-readers-container" in names  # inherits the base's labels, still the reader's
        assert "ch09-test-hygiene" not in [n.name for n in engine.networks.list()]
        for image_id in (ours.stats.id, rebuilt.stats.id):
            try:
                engine.images.get(image_id)
                raise AssertionError(f"the book's image {image_id[:19]} survived clean-docker")
            except NotFound:
                pass
        assert engine.images.get(readers).tags == ["ch09test/readers-app:1"]
        assert engine.images.get(dangling).id == dangling
        for base in KNOWN_BASES:
            assert engine.images.list(name=base), f"{base} must survive clean-docker"
    finally:
        unlabelled.remove(force=True)
        for image_id in (readers, dangling):
            try:
                engine.images.remove(image_id, force=True)
            except NotFound:
                pass
        for obj in (container, network):
            try:
                obj.remove()
            except Exception:  # noqa: BLE001 - already removed by the clean step
                pass
