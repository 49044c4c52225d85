"""`make clean-docker` (python -m dockerlab clean) removes what the book made, found by its label."""

import io
import subprocess
import sys
import tarfile

from dockerlab.bases import KNOWN_BASES
from dockerlab.examples import PROJECT, PROJECT_LABEL
from tests.conftest import ROOT

LABELS = {PROJECT_LABEL: PROJECT}


def test_clean_removes_labelled_containers_networks_and_images_but_keeps_bases(engine) -> None:
    # Built FROM a bootstrapped base, so it inherits the base's labels: it must go all the same.
    engine.images.build(fileobj=io.BytesIO(b"FROM busybox\nRUN echo made > /made\n"),
                        tag="ch09/test-hygiene:latest", labels=LABELS, rm=True)
    network = engine.networks.create("ch09-test-hygiene", labels=LABELS)
    container = engine.containers.create("ch09/test-hygiene:latest", "true", labels=LABELS, name="ch09-test-hygiene")
    # Containers inherit their image's labels, and every base here carries the project label:
    # the one container that is not ours comes from an imported, label-free image.
    empty = io.BytesIO()
    tarfile.open(fileobj=empty, mode="w").close()
    engine.api.import_image_from_data(empty.getvalue(), repository="ch09test/no-labels", tag="1")
    unlabelled = engine.containers.create("ch09test/no-labels:1", "true", name="ch09-test-unlabelled")
    try:
        proc = subprocess.run([sys.executable, "-m", "dockerlab", "clean"], capture_output=True, text=True,
                              cwd=ROOT, timeout=300)
        assert proc.returncode == 0, proc.stderr
        names = [c.name for c in engine.containers.list(all=True)]
        assert "ch09-test-hygiene" not in names
        assert "ch09-test-unlabelled" in names  # not ours: untouched
        assert "ch09-test-hygiene" not in [n.name for n in engine.networks.list()]
        assert not engine.images.list(name="ch09/test-hygiene")
        for base in KNOWN_BASES:
            assert engine.images.list(name=base), f"{base} must survive clean-docker"
    finally:
        unlabelled.remove(force=True)
        engine.images.remove("ch09test/no-labels:1", force=True)
        for obj in (container, network):
            try:
                obj.remove()
            except Exception:
                pass
