"""Sphinx extension: re-execute a notebook when the example files it uses change, and offer
each executed notebook as a download.

myst-nb's ``auto`` mode executes a text notebook whenever Sphinx reads it, and Sphinx
re-reads a page only when the page (or a dependency it noted) changed. A notebook that
builds ``examples/hello`` must also be re-read when a file there changes, is added or is
removed; jupyter-cache's key ignores such files. Each page lists what it builds from in
its front matter::

    ---
    depends:
      - examples/hello
    ---

and this extension stores a content digest of each listed path in the environment. On the
next build, a page whose inputs' digests changed is marked outdated, so exactly the
chapters that use an edited example execute again.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

from dockerlab.errors import FrontMatterError

logger = logging.getLogger(__name__)

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(\n|\Z)", re.S)
#: Caches inside an input folder, never part of what a page depends on.
_SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".mypy_cache"}


def front_matter_depends(text: str) -> list[str]:
    """Return the ``depends`` list of a MyST page's front matter ([] when absent).

    A front matter that is not YAML, or a ``depends`` that is not a list of paths, raises
    :class:`FrontMatterError` with one sentence (the caller names the page).

    >>> front_matter_depends("---\\ndepends: [examples/hello]\\n---\\n# x")
    ['examples/hello']
    >>> try:
    ...     front_matter_depends("---\\ndepends: {a: 1}\\n---\\n")
    ... except FrontMatterError as err:
    ...     print(err)
    its depends: is a mapping, not a list of folders
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        return []
    try:
        data = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise FrontMatterError(f"its front matter is not valid YAML{where}: {getattr(err, 'problem', err)}") from None
    if not isinstance(data, dict):
        raise FrontMatterError("its front matter is not a mapping of keys to values")
    value = data.get("depends") or []
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list):
        kind = "a mapping" if isinstance(value, dict) else f"a {type(value).__name__}"
        raise FrontMatterError(f"its depends: is {kind}, not a list of folders")
    if not all(isinstance(v, str) and v.strip("/") for v in value):
        raise FrontMatterError("its depends: must list folder paths (text), e.g. examples/hello")
    return [str(v).strip("/") for v in value]


def check_pages(root: Path, pages: Iterable[Path]) -> None:
    """Before any notebook runs: every page's front matter reads and every ``depends:`` path exists.

    Raises :class:`FrontMatterError` with one sentence naming the page.
    """
    for page in pages:
        rel = page.relative_to(root) if page.is_relative_to(root) else page
        try:
            depends = front_matter_depends(page.read_text(encoding="utf-8"))
        except FrontMatterError as err:
            raise FrontMatterError(f"{rel}: {err}.") from None
        missing = [d for d in depends if not (root / d).exists()]
        if missing:
            raise FrontMatterError(f"{rel}: depends on {', '.join(missing)}, which does not exist.")


def digest_path(path: Path) -> str:
    """Digest of a file, or of a folder's relative names and contents (sorted); "missing" when absent."""
    if not path.exists():
        return "missing"
    sha = hashlib.sha256()
    files: Iterable[Path] = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        rel = file.name if path.is_file() else file.relative_to(path).as_posix()
        if _SKIP_PARTS.intersection(Path(rel).parts):
            continue
        sha.update(rel.encode() + b"\0")
        sha.update(file.read_bytes())
        sha.update(b"\0")
    return sha.hexdigest()


def _store(env: BuildEnvironment) -> dict[str, dict[str, str]]:
    if not hasattr(env, "dockerlab_depends"):
        env.dockerlab_depends = {}  # type: ignore[attr-defined]  # an extension's data lives on the env (pickled)
    store: dict[str, dict[str, str]] = env.dockerlab_depends  # type: ignore[attr-defined]
    return store


def _root(app: Sphinx) -> Path:
    return Path(app.confdir)


def _record(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    store = _store(env)
    root = _root(app)
    for docname in docnames:
        source = Path(env.doc2path(docname))
        try:
            depends = front_matter_depends(source.read_text(encoding="utf-8")) if source.suffix == ".md" else []
        except FrontMatterError as err:
            logger.warning("%s: %s", docname, err, location=docname)
            depends = []
        for rel in depends:
            if not (root / rel).exists():
                logger.warning("%s: depends on %s, which does not exist", docname, rel, location=docname)
        store[docname] = {rel: digest_path(root / rel) for rel in depends}


def _outdated(app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]) -> list[str]:
    root = _root(app)
    stale: list[str] = []
    store = _store(env)
    for docname in [d for d in store if d not in env.found_docs or d in removed]:
        del store[docname]
    for docname, inputs in sorted(store.items()):
        if docname in changed:
            continue
        moved = [rel for rel, digest in inputs.items() if digest_path(root / rel) != digest]
        if moved:
            logger.info("dockerlab: %s changed; %s will execute again", ", ".join(moved), docname)
            stale.append(docname)
    return stale


def _notebook_download(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """Offer the executed notebook (.ipynb, written by myst-nb) in the page's download menu."""
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if doctree is None or not executed.is_file():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app: Sphinx) -> dict[str, Any]:
    # Before the theme (priority 500) builds its download menu from the context.
    app.connect("html-page-context", _notebook_download, priority=400)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-before-read-docs", _record)
    return {"version": "1", "env_version": 1, "parallel_read_safe": False, "parallel_write_safe": True}
