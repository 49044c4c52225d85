"""Every chapter runs clean as a plain notebook (nbclient), from its own folder, as a reader would run it --
and alone: before each chapter, everything the book made on the engine is removed (bases kept), as if a
reader opened that notebook first on an engine that has only the bases.

Named zz so it runs after the tests that compare the first build with the engine: it rebuilds every image.
"""

import json
import os
import subprocess

from dockerlab.notebooks import notebook_sources
from tests.conftest import ROOT


def test_make_notebooks_executes_every_chapter_clean(tmp_path, engine) -> None:
    out = tmp_path / "notebooks"
    # `make notebooks OUT=...` writes to OUT/notebooks, exactly as a reader's `make notebooks` does.
    proc = subprocess.run(["make", "-s", "notebooks", f"OUT={tmp_path}", "NOTEBOOKS_ARGS=--alone"], cwd=ROOT,
                          capture_output=True, text=True, timeout=3600, env={**os.environ, "CH09_ROOT": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    sources = notebook_sources(ROOT)
    assert len(sources) >= 2
    for source in sources:
        executed = out / source.relative_to(ROOT).with_suffix(".ipynb")
        notebook = json.loads(executed.read_text())
        outputs = [o for c in notebook["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
        assert not [o for o in outputs if o["output_type"] == "error"], source.name
        assert all(c.get("execution_count") for c in notebook["cells"] if c["cell_type"] == "code"), source.name
    scratch = json.loads((out / "chapters" / "02-1-scratch.ipynb").read_text())
    texts = ["".join(o.get("text", "")) for c in scratch["cells"] for o in c.get("outputs", [])]
    assert "hello, scratch!\n" in texts
