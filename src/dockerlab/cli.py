"""Command line: ``python -m dockerlab {html,bases,execute,render,build,profile,stale,clean,notebooks,budgets}``."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from dockerlab.errors import DockerLabError


def _ensure_bases(names: list[str]) -> None:
    from dockerlab.bases import KNOWN_BASES, ensure_base
    from dockerlab.sizes import human_size

    for name in names or KNOWN_BASES:
        base = ensure_base(name)
        print(f"{base.name:24} {base.short_id}  {human_size(base.size):>8}  {base.origin}: {base.detail}")


def _bases(args: argparse.Namespace) -> int:
    from dockerlab.examples import project_root
    from dockerlab.locking import checkout_lock

    with checkout_lock(project_root(), "make bases"):
        _ensure_bases(args.names)
    return 0


def _html(args: argparse.Namespace) -> int:
    """``make html``: the lock first, then the set-up (system packages, engine, bases), then the build.

    A second ``make html`` in the same checkout is refused by the lock before it touches anything, so the
    site of the build that holds the lock survives it. A failed set-up removes this checkout's HTML (while
    holding the lock), so no older site is left looking current.
    """
    import shutil
    import subprocess

    from dockerlab.bookbuild import build
    from dockerlab.locking import checkout_lock

    root, out = Path(args.source).resolve(), Path(args.out)
    with checkout_lock(root, "make html"):
        def setup_failed(what: str) -> int:
            shutil.rmtree(out / "html", ignore_errors=True)
            print(f"make html: set-up failed ({what}); no HTML was left in {out / 'html'}.", file=sys.stderr)
            return 1

        spent: dict[str, float] = {}
        for script in ("install-deps", "ensure-docker"):
            began = time.monotonic()
            if subprocess.run([str(root / "scripts" / script)], cwd=root).returncode != 0:
                return setup_failed(f"scripts/{script}, see above")
            spent[f"scripts/{script}"] = time.monotonic() - began
        began = time.monotonic()
        try:
            _ensure_bases([])
        except DockerLabError as err:
            print(f"dockerlab: error: {err}", file=sys.stderr)
            return setup_failed("the base images")
        spent["bases"] = time.monotonic() - began
        _record_setup(out, spent)
        return build(root, out, force=_pages(root, args.force))


def _record_setup(out: Path, spent: dict[str, float]) -> None:
    """Say how long each set-up step took, and keep it in ``<out>/reports/setup.json`` for ``profile``."""
    import json

    print("make html: set-up " + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in spent.items()))
    reports = out / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "setup.json").write_text(json.dumps({k: round(v, 1) for k, v in spent.items()}, indent=1) + "\n",
                                        encoding="utf-8")


def _pages(root: Path, names: list[str] | None) -> list[Path]:
    from dockerlab.artefacts import notebook_pages, resolve_pages

    if names == ["all"]:
        return notebook_pages(root)
    return resolve_pages(root, names or [])


def _build(args: argparse.Namespace) -> int:
    from dockerlab.bookbuild import build
    from dockerlab.locking import checkout_lock

    root = Path(args.source).resolve()
    with checkout_lock(root, "the book build"):
        return build(Path(args.source), Path(args.out), force=_pages(root, args.force))


def _execute(args: argparse.Namespace) -> int:
    """Execute pages into artefacts (the missing or stale ones, or those named), without rendering."""
    from dockerlab.bookbuild import execute_pages
    from dockerlab.locking import checkout_lock

    root = Path(args.source).resolve()
    with checkout_lock(root, "dockerlab execute"):
        return execute_pages(root, Path(args.out), _pages(root, args.pages) if args.pages else None,
                             force=args.force)


def _render(args: argparse.Namespace) -> int:
    """Render the site from the artefacts; executes nothing (a page without a current artefact fails)."""
    from dockerlab.bookbuild import build
    from dockerlab.locking import checkout_lock

    root = Path(args.source).resolve()
    with checkout_lock(root, "dockerlab render"):
        return build(root, Path(args.out), execute=False)


def _profile(args: argparse.Namespace) -> int:
    from dockerlab.artefacts import profile_text, save_seconds

    root = Path(args.source).resolve()
    print(profile_text(root, Path(args.out), cells=args.cells))
    if args.save:
        print(f"wrote each page's seconds to {save_seconds(root, Path(args.out))}")
    return 0


def _plan(args: argparse.Namespace) -> int:
    """Print the CI matrix: groups of pages of about equal execution time, as JSON (``{"include": [...]}``)."""
    import json

    from dockerlab.artefacts import plan_groups, stale_pages

    root, out = Path(args.source).resolve(), Path(args.out)
    pages = _pages(root, args.pages) if args.pages else (stale_pages(root, out) if args.stale else None)
    groups = plan_groups(root, out, args.groups, pages)
    include = [{"name": f"{i + 1:02d}", "pages": " ".join(group)} for i, group in enumerate(groups)]
    print(json.dumps({"include": include}, separators=(",", ":")))
    return 0


def _stale(args: argparse.Namespace) -> int:
    """Print the docnames whose artefact is missing or stale, one a line (what a build would execute)."""
    from dockerlab.artefacts import docname, stale_pages

    root = Path(args.source).resolve()
    for page in stale_pages(root, Path(args.out)):
        print(docname(root, page))
    return 0


def _clean(args: argparse.Namespace) -> int:
    from dockerlab.cleanup import remove_project_objects
    from dockerlab.runstate import sweep

    for left in sweep():
        print(f"stopped or removed what an interrupted run left: {left}")
    removed = remove_project_objects(keep_bases=not args.all)
    for kind, names in removed.items():
        print(f"removed {len(names)} {kind}")
    return 0


def _notebooks(args: argparse.Namespace) -> int:
    from dockerlab.examples import project_root
    from dockerlab.locking import checkout_lock
    from dockerlab.notebooks import execute_all

    with checkout_lock(project_root(), "make notebooks"):
        for done in execute_all(project_root(), Path(args.out).resolve(), args.names or None, alone=args.alone):
            print(f"executed {done.source.name}: {done.code_cells} code cells -> {done.output}")
    return 0


def _budgets(args: argparse.Namespace) -> int:
    from dockerlab.budgets import check_budgets, reset_budgets

    if args.reset:
        for tag, old, new in reset_budgets(Path(args.file)):
            print(f"{tag}: {old} -> {new}")
        return 0
    results = check_budgets(Path(args.file))
    for budget in results:
        print(budget.sentence())
    return 0 if all(b.ok for b in results) else 1


def _lint_cells(args: argparse.Namespace) -> int:
    from dockerlab.notebooks import lint_cells

    findings = lint_cells(Path(args.source).resolve())
    for finding in findings:
        print(finding)
    if findings:
        print(f"dockerlab: {len(findings)} findings in the pages' code cells.", file=sys.stderr)
    return 1 if findings else 0


def _on_book(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help: str,
             func: object) -> argparse.ArgumentParser:
    """A subcommand that works on a checkout (``--source``) and its build output (``--out``)."""
    p = sub.add_parser(name, help=help)
    p.add_argument("--source", default=".")
    p.add_argument("--out", default="_build")
    p.set_defaults(func=func)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dockerlab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("bases", help="make sure every base image exists (pull, else bootstrap) and print provenance")
    p.add_argument("names", nargs="*")
    p.set_defaults(func=_bases)
    p = _on_book(sub, "html", "make html: set-up (packages, engine, bases) under the checkout's lock, then build",
                 _html)
    p.add_argument("--force", nargs="*", metavar="PAGE", help="execute these pages again too (`all`: every page)")
    p = _on_book(sub, "build", "execute the pages whose artefact is missing or stale, then render the site", _build)
    p.add_argument("--force", nargs="*", metavar="PAGE", help="execute these pages again too (`all`: every page)")
    p = _on_book(sub, "execute", "execute pages into artefacts (_build/artefacts), without rendering", _execute)
    p.add_argument("pages", nargs="*", help="docnames, paths or stems (default: every missing or stale one)")
    p.add_argument("--force", action="store_true", help="execute the named pages even when their artefact is current")
    for each in (sub.choices["html"], sub.choices["build"], sub.choices["execute"]):
        each.add_argument("--jobs", type=int, metavar="N",
                          help="pages executing at once (default $CH09_JOBS, else 2 on two cores or more)")
    p = _on_book(sub, "render", "render the site from the artefacts; executes nothing", _render)
    p = _on_book(sub, "profile", "per page: where and when it executed, its seconds and its slowest cells", _profile)
    p.add_argument("--cells", type=int, default=3, help="slowest cells to list per page")
    p.add_argument("--save", action="store_true",
                   help="also write each page's seconds to execution-seconds.json (the order a fresh clone uses)")
    p = _on_book(sub, "plan", "print the CI matrix: groups of pages of about equal execution time (JSON)", _plan)
    p.add_argument("pages", nargs="*", help="the pages to plan (default: every notebook page)")
    p.add_argument("--groups", type=int, default=4)
    p.add_argument("--stale", action="store_true", help="plan only the pages whose artefact is missing or stale")
    p = _on_book(sub, "stale", "list the pages whose artefact is missing or stale", _stale)
    p = sub.add_parser("clean", help="remove the containers, networks and images the book created")
    p.add_argument("--all", action="store_true", help="also remove the bootstrapped base images")
    p.set_defaults(func=_clean)
    p = sub.add_parser("notebooks", help="execute the chapters as notebooks (nbclient) and write .ipynb files")
    p.add_argument("names", nargs="*", help="file stems, e.g. 02-1-scratch (default: all)")
    p.add_argument("--out", default="_build/notebooks")
    p.add_argument("--alone", action="store_true",
                   help="before each page, remove what the book made on the engine (bases kept): each page runs alone")
    p.set_defaults(func=_notebooks)
    p = _on_book(sub, "lint-cells", "ruff over every page's code cells; findings name the page and its line",
                 _lint_cells)
    p = sub.add_parser("budgets", help="check every example image against budgets.toml")
    p.add_argument("--file", default="budgets.toml")
    p.add_argument("--reset", action="store_true",
                   help="rewrite every budget as the measured size + 10%% (after a deliberate change)")
    p.set_defaults(func=_budgets)
    args = parser.parse_args(argv)
    # A plain `kill` stops a build the way Ctrl-C does, so its cleanup runs.
    signal.signal(signal.SIGTERM, _interrupt)
    if getattr(args, "jobs", None) is not None:
        if args.jobs < 1:
            parser.error("--jobs must be at least 1")
        os.environ["CH09_JOBS"] = str(args.jobs)
    try:
        return int(args.func(args))
    except DockerLabError as err:
        print(f"dockerlab: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"dockerlab: {args.command} was interrupted.", file=sys.stderr)
        return 130


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    raise SystemExit(main())
