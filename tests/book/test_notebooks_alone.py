"""Every chapter runs clean as a plain notebook (nbclient), as a reader runs it: as an ordinary user in the
``docker`` group (made by the test when it runs as root), from the reader's own copy of the checkout, and
alone: before each chapter, everything the book made on the engine is removed (bases kept), as if the reader
opened that notebook first on an engine that has only the bases.

The pages whose steps need root (page 01's cold nodes and shaped link, the second engines of 03-5, 04-2 and
04-3) run them in privileged lab containers, and measure all the same: no page shows a "not executed" notice
for a lack of root, and nothing they started is left behind.

Marked ``clean_slate``: it removes every image the book made, so it runs after the tests that compare the
book's build with the engine (tests/conftest.py orders the run). Marked ``alone`` too: it executes every page
a second time (about as long as ``make html``), so ``make test`` leaves it out and ``make alone`` runs it;
``.ci/run`` runs both, and the nightly workflow's matrix executes each page on a fresh runner anyway.
"""

import ast
import getpass
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from dockerlab.artefacts import notebook_pages
from dockerlab.ownership import OWNER_LABEL, PROJECT
from tests.conftest import ROOT
from tests.reader import reader

pytestmark = [pytest.mark.clean_slate, pytest.mark.alone]

#: The pages with steps that need root.
ROOT_STEPS = ("01-why-small", "03-5-buildkit", "04-2-builders", "04-3-reproducible")


def _outputs(notebook: dict) -> list[dict]:
    return [o for c in notebook["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]


def _glued(notebook: dict, key: str) -> str:
    """The text myst-nb's ``glue`` recorded for ``key`` (a repr under papermill's record prefix)."""
    for output in _outputs(notebook):
        record = output.get("metadata", {}).get("scrapbook", {})
        if record.get("name") == key:
            return str(ast.literal_eval(output["data"][f"{record['mime_prefix']}text/plain"]))
    raise AssertionError(f"no glued {key}")


def _interfaces() -> set[str]:
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in links.splitlines() if ":" in line}


def _helper_folders(owner: str) -> set[Path]:
    """The ``ch09-*`` temp folders ``owner`` has, but the reader's own copy."""
    return {p for p in Path(tempfile.gettempdir()).glob("ch09-*")
            if p.owner() == owner and not p.name.startswith("ch09-reader-")}


def test_every_chapter_runs_alone_as_a_reader_in_the_docker_group(engine) -> None:
    interfaces_before = _interfaces()
    # Only what this run leaves counts: a folder kept on purpose before it (a failed rehearsal's clone, owned by a
    # removed user whose uid the reader may get again) is not the reader's.
    folders_before = set(Path(tempfile.gettempdir()).glob("ch09-*"))
    with reader() as who:
        out = who.root.parent / "out"
        # `make notebooks OUT=...` writes to OUT/notebooks, exactly as a reader's `make notebooks` does.
        proc = who.run(["make", "-s", "notebooks", f"OUT={out}", "NOTEBOOKS_ARGS=--alone"], timeout=3600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        executed = {}
        for source in notebook_pages(ROOT):
            path = out / "notebooks" / source.relative_to(ROOT).with_suffix(".ipynb")
            notebook = json.loads(path.read_text())
            outputs = _outputs(notebook)
            assert not [o for o in outputs if o["output_type"] == "error"], source.name
            assert all(c.get("execution_count") for c in notebook["cells"] if c["cell_type"] == "code"), source.name
            executed[source.stem] = notebook
        # Everything the pages started as the reader is gone: lab containers, cold nodes' folders, interfaces.
        left = engine.containers.list(all=True, filters={"label": f"{OWNER_LABEL}={PROJECT}"})
        assert not left, [c.name for c in left]
        owner = who.user or getpass.getuser()
        left_folders = _helper_folders(owner) - folders_before
        assert not left_folders, f"a helper's temp folder was left: {sorted(left_folders)}"
        assert not list((who.root / "_build" / "run").glob("*.json")), "a run record was left"
        # What the reader's copy built is recorded in its own ledger: removed before the copy goes.
        cleaned = who.run(["make", "-s", "clean-docker"], timeout=600)
        assert cleaned.returncode == 0, cleaned.stderr[-2000:]
    texts = ["".join(o.get("text", "")) for o in _outputs(executed["02-1-scratch"])]
    assert "hello, scratch!\n" in texts
    assert set(ROOT_STEPS) <= set(executed)
    if os.geteuid() == 0:
        # The reader was not root: page 01 says where its root steps ran, and measured them there.
        assert "특권(privileged) 컨테이너" in _glued(executed["01-why-small"], "node_where")
    for key in ("golang_shaped_s", "golang_pull_s", "golang_build_s"):
        assert float(_glued(executed["01-why-small"], key)) > 0, key
    for name in ROOT_STEPS:
        # A notice may stand for what this engine cannot do (04-3: no OCI export on overlay2), never for root.
        notices = ["".join(o.get("data", {}).get("text/markdown", "")) for o in _outputs(executed[name])]
        notices = [n for n in notices if "이 빌드에서는 실행하지 않음" in n]
        assert not [n for n in notices if re.search(r"\broot\b|needs root|권한", n)], (name, notices)
    new = {name for name in _interfaces() - interfaces_before if name.startswith(("ch09", "c9s"))}
    assert not new, f"interfaces left: {new}"
