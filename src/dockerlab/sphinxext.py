"""Sphinx extension: render notebook pages from their execution artefacts, show the execution profile and the
table of every image the book made (both from the artefacts' records), and offer each executed notebook as a
download.

Rendering executes nothing. Each notebook page was executed beforehand into an artefact
(``dockerlab.artefacts``: the executed notebook and a record of how it was measured). Before Sphinx reads a
notebook page, this extension puts the page's artefact into myst-nb's cache (``nb_execution_mode = "cache"``),
so myst-nb renders exactly those outputs; a page with no current artefact stops the build with one sentence.
A page is current when its artefact was made from the inputs the checkout holds now: the page, the folders
its front matter lists, the helper package and the pinned requirements::

    ---
    depends:
      - examples/hello
    ---

Sphinx reads a page again when the page changed (its own rule) or when its artefact holds another execution
than the one rendered last (this extension's rule), so an edited example re-renders exactly the chapters that
use it, once ``make html`` has executed them again.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.errors import SphinxError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from dockerlab.errors import FrontMatterError

logger = logging.getLogger(__name__)

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(\n|\Z)", re.S)
#: Caches inside an input folder, never part of what a page depends on.
SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".mypy_cache"}


def front_matter(text: str) -> dict[str, Any]:
    """The YAML front matter of a MyST page as a mapping ({} when it has none).

    A front matter that is not YAML, or not a mapping, raises :class:`FrontMatterError` with one sentence.

    >>> front_matter("---\\nmeasures: time\\n---\\n# x")
    {'measures': 'time'}
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}
    try:
        data = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise FrontMatterError(f"its front matter is not valid YAML{where}: {getattr(err, 'problem', err)}") from None
    if not isinstance(data, dict):
        raise FrontMatterError("its front matter is not a mapping of keys to values")
    return data


#: What a page's ``measures:`` may say. A page that measures ``time`` executes with nothing else executing.
MEASURES = ("time",)


def front_matter_measures(text: str) -> list[str]:
    """The ``measures`` list of a MyST page's front matter ([] when absent); anything but :data:`MEASURES`
    raises :class:`FrontMatterError`.

    >>> front_matter_measures("---\\nmeasures: [time]\\n---\\n")
    ['time']
    >>> try:
    ...     front_matter_measures("---\\nmeasures: speed\\n---\\n")
    ... except FrontMatterError as err:
    ...     print(err)
    its measures: says speed; a page can only say it measures time
    """
    value = front_matter(text).get("measures") or []
    value = value.replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FrontMatterError("its measures: must be a list of words, e.g. [time]")
    unknown = [v for v in value if v not in MEASURES]
    if unknown:
        raise FrontMatterError(f"its measures: says {', '.join(unknown)}; a page can only say it measures "
                               + " or ".join(MEASURES))
    return list(value)


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
    value = front_matter(text).get("depends") or []
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
            text = page.read_text(encoding="utf-8")
            depends = front_matter_depends(text)
            front_matter_measures(text)
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
        if SKIP_PARTS.intersection(Path(rel).parts):
            continue
        sha.update(rel.encode() + b"\0")
        sha.update(file.read_bytes())
        sha.update(b"\0")
    return sha.hexdigest()


def _store(env: BuildEnvironment) -> dict[str, str]:
    if not hasattr(env, "dockerlab_artefacts"):
        env.dockerlab_artefacts = {}  # type: ignore[attr-defined]  # an extension's data lives on the env (pickled)
    store: dict[str, str] = env.dockerlab_artefacts  # type: ignore[attr-defined]
    return store


def _root(app: Sphinx) -> Path:
    return Path(app.confdir)


def _out(app: Sphinx) -> Path:
    """The build output folder (``_build``): the HTML goes to its ``html/``, the artefacts are in ``artefacts/``."""
    return Path(app.outdir).parent


def _notebooks(app: Sphinx) -> dict[str, Path]:
    from dockerlab.artefacts import docname, notebook_pages

    root = _root(app)
    return {docname(root, page): page for page in notebook_pages(root)}


def _artefact_id(app: Sphinx, doc: str) -> str:
    """Which execution ``doc``'s artefact holds ("" when it has none): a new one makes Sphinx read the page again."""
    from dockerlab.artefacts import read_record

    record = read_record(_out(app), doc)
    return f"{record.digest}@{record.start}" if record else ""


class NoArtefactError(SphinxError):
    category = "No current execution artefact"


def _load_artefacts(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """Before Sphinx reads a notebook page, put its artefact into myst-nb's cache, so myst-nb renders the
    artefact's outputs and executes nothing; a page without a current artefact stops the build."""
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    from dockerlab.artefacts import artefact_paths, page_digest, read_record

    if env.mystnb_config.execution_mode != "cache":  # type: ignore[attr-defined]
        return  # e.g. `-D nb_execution_mode=force`: myst-nb executes in-process, as before artefacts
    root, out = _root(app), _out(app)
    notebooks = _notebooks(app)
    store = _store(env)
    cache = None
    stale = []
    for doc in docnames:
        page = notebooks.get(doc)
        if page is None:
            continue
        try:
            digest = page_digest(root, page)
        except FrontMatterError as err:
            logger.warning("%s", err, location=doc)
            continue
        record = read_record(out, doc)
        if record is None or record.digest != digest:
            stale.append(doc)
            continue
        ident = f"{record.digest}@{record.start}"
        if cache is None:
            cache = get_cache(env.mystnb_config.execution_cache_path)  # type: ignore[attr-defined]
        notebook = nbformat.read(artefact_paths(out, doc)[0], as_version=4)
        try:
            known = cache.match_cache_notebook(notebook).data.get("dockerlab") == ident
        except KeyError:
            known = False
        if not known:
            cache.cache_notebook_bundle(
                CacheBundleIn(notebook, str(page), data={"execution_seconds": record.seconds, "dockerlab": ident}),
                check_validity=False, overwrite=True)
        store[doc] = ident
    if stale:
        raise NoArtefactError(
            f"{', '.join(f'{d}.md' for d in stale)} has no current execution artefact in {out / 'artefacts'} "
            f"(rendering executes nothing): run `python -m dockerlab execute {' '.join(stale)}` first, "
            "or `make html`, which does.")


def _outdated(app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]) -> list[str]:
    """A notebook page whose artefact is another execution than the one Sphinx rendered is read again; so is a
    page that reads every record (the execution profile, the table of the book's images), when any artefact
    changed."""
    store = _store(env)
    for doc in [d for d in store if d not in env.found_docs or d in removed]:
        del store[doc]
    stale = []
    for doc in sorted(_notebooks(app)):
        if doc in changed or doc in added or doc not in env.found_docs:
            continue
        if store.get(doc) != _artefact_id(app, doc):
            logger.info("dockerlab: %s has a new execution artefact; it will be rendered again", doc)
            stale.append(doc)
    if stale or added or removed:
        stale += [doc for doc in _profile_pages(env) if doc not in stale and doc not in changed]
    return stale


def _profile_pages(env: BuildEnvironment) -> set[str]:
    if not hasattr(env, "dockerlab_profile_pages"):
        env.dockerlab_profile_pages = set()  # type: ignore[attr-defined]
    pages: set[str] = env.dockerlab_profile_pages  # type: ignore[attr-defined]
    return pages


class ExecutionProfile(SphinxDirective):
    """``{execution-profile}``: per notebook page, where and when it was executed, on which engine, its
    seconds and its slowest cells, read from the artefacts' records."""

    has_content = False
    option_spec = {"cells": directives.positive_int}

    def run(self) -> list[nodes.Node]:
        from dockerlab.artefacts import records, timed_overlaps

        _profile_pages(self.env).add(self.env.docname)
        app = self.env.app
        found = records(_root(app), _out(app))
        engines = sorted({r.engine for _, r in found if r is not None})
        one_engine = len(engines) == 1
        rows = []
        for doc, record in found:
            if record is None:
                rows.append(f"| {doc} | - | - | 이 빌드에서 실행하지 않음 |")
                continue
            slow = "<br>".join(f"{c.seconds:.1f}초 · 셀 {c.index + 1}: {_code(c.what)}"
                               for c in record.slowest(self.options.get("cells", 3)))
            where = f"{_cell_text(record.where)}<br>{record.start[:19].replace('T', ' ')}"
            if not one_engine:
                where += f"<br>엔진 {record.engine}"
            rows.append(f"| {doc} | {where} | {record.seconds:.1f}초 | {slow} |")
        head = (f"모든 페이지를 같은 엔진({engines[0]})에서 실행했습니다." if one_engine else "")
        timed, overlaps = timed_overlaps(found)
        if overlaps:
            logger.warning("a cell that measures times executed beside another page's cell: %s",
                           "; ".join(overlaps[:5]), location=self.env.docname)
        elif timed:
            head += (f" 시간을 잰 셀 {timed}개는 모두 다른 페이지의 셀이 하나도 실행되지 않는 동안 실행되었습니다"
                     "(실행 기록에 남은 셀마다의 시작·끝 시각으로 확인).")
        head = head.strip() + "\n\n" if head else ""
        text = (head + "| 페이지 | 실행한 곳과 시작 시각 (UTC) | 실행 시간 | 가장 오래 걸린 셀 |\n"
                "|---|---|--:|---|\n" + "\n".join(rows) + "\n")
        container = nodes.container(classes=["execution-profile"])
        self.state.nested_parse(StringList(text.splitlines(), source=self.env.docname), self.content_offset, container)
        return [container]


class BookImages(SphinxDirective):
    """``{book-images}``: every image the book made, largest first, as the pages' records saw it (tag, where it
    came from, size, exact bytes, layers), then a numbered figure of their sizes whose
    caption is the directive's content. ``:name:`` names the figure for ``{numref}``. Executes nothing."""

    has_content = True
    option_spec = {"name": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        import os

        from dockerlab.bookimages import collect, table, write_chart

        _profile_pages(self.env).add(self.env.docname)
        images = collect(_root(self.env.app), _out(self.env.app))
        if not images:
            raise self.error("no page's execution record lists an image of the book's: execute the pages first "
                             "(`make html` does)")
        container = nodes.container(classes=["book-images"])
        self.state.nested_parse(StringList(table(images).splitlines(), source=self.env.docname),
                                self.content_offset, container)
        figure = nodes.figure()
        # Written beside the artefacts; Sphinx copies it into _images as it does the pages' own figures.
        chart = write_chart(images, _out(self.env.app) / "figures" / "book-images.svg")
        page_dir = Path(self.env.doc2path(self.env.docname)).parent
        figure += nodes.image(uri=os.path.relpath(chart, page_dir),
                              alt="이 책이 만든 모든 이미지의 크기를 비교한 막대 그래프")
        caption = nodes.container()
        self.state.nested_parse(self.content, self.content_offset, caption)
        if caption.children and isinstance(caption[0], nodes.paragraph):
            figure += nodes.caption(caption[0].rawsource, "", *caption[0].children)
        self.add_name(figure)
        return [container, figure]


def book_images_role(name: str, rawtext: str, text: str, lineno: int, inliner: Any,
                     options: dict[str, Any] | None = None, content: list[str] | None = None
                     ) -> tuple[list[nodes.Node], list[nodes.system_message]]:
    """``{book-images}`count``` and the other :data:`dockerlab.bookimages.FACTS`: one figure of the table of
    the book's images in prose, pasted as a glued value is (so the particle after it agrees)."""
    from dockerlab.bookimages import collect, fact

    env = inliner.document.settings.env
    _profile_pages(env).add(env.docname)
    try:
        value = fact(collect(_root(env.app), _out(env.app)), text.strip())
    except ValueError as err:
        message = inliner.reporter.error(f"{{book-images}}`{text}`: {err}", line=lineno)
        return [inliner.problematic(rawtext, rawtext, message)], [message]
    return [nodes.inline(value, value, classes=["pasted-text"])], []


def _code(text: str) -> str:
    """``text`` as inline code in a table cell (no smart quotes, no Markdown inside)."""
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`".replace("|", "\\|")


def _cell_text(text: str) -> str:
    """Text for a Markdown table cell: pipes and code marks escaped."""
    return text.replace("|", "\\|").replace("`", "\\`").replace("*", "\\*").replace("_", "\\_")


def _notebook_download(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """Offer the executed notebook (the page's artefact) in the page's download menu."""
    from dockerlab.artefacts import artefact_paths

    executed = artefact_paths(_out(app), pagename)[0]
    if doctree is None or not executed.is_file():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def _particles_agree(app: Sphinx, doctree: nodes.document) -> None:
    """The particle right after each glued value agrees with how the value is read ("1.81MB가", "119MB로",
    "36%와"): the page was written before the build measured the value (``dockerlab.particles``)."""
    from dockerlab.particles import fix_following

    for pasted in list(doctree.findall(nodes.inline)):
        if not any(c.startswith("pasted") for c in pasted.get("classes", [])):
            continue
        parent = pasted.parent
        if parent is None:
            continue
        index = parent.index(pasted)
        if index + 1 >= len(parent.children) or not isinstance(parent[index + 1], nodes.Text):
            continue
        text = parent[index + 1]
        fixed = fix_following(pasted.astext(), str(text))
        if fixed != str(text):
            parent.replace(text, nodes.Text(fixed))


def setup(app: Sphinx) -> dict[str, Any]:
    # Before the theme (priority 500) builds its download menu from the context.
    app.connect("html-page-context", _notebook_download, priority=400)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-before-read-docs", _load_artefacts)
    app.add_directive("execution-profile", ExecutionProfile)
    app.add_directive("book-images", BookImages)
    app.add_role("book-images", book_images_role)
    app.connect("doctree-read", _particles_agree)
    return {"version": "3", "env_version": 3, "parallel_read_safe": False, "parallel_write_safe": True}
