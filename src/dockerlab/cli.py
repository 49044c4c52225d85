"""Command line: ``python -m dockerlab {bases,build,clean,notebooks,budgets}``."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from dockerlab.errors import DockerLabError


def _bases(args: argparse.Namespace) -> int:
    from dockerlab.bases import KNOWN_BASES, ensure_base
    from dockerlab.examples import project_root
    from dockerlab.locking import checkout_lock
    from dockerlab.sizes import human_size

    with checkout_lock(project_root(), "make bases"):
        for name in args.names or KNOWN_BASES:
            base = ensure_base(name)
            print(f"{base.name:24} {base.short_id}  {human_size(base.size):>8}  {base.origin}: {base.detail}")
    return 0


def _build(args: argparse.Namespace) -> int:
    from dockerlab.bookbuild import build
    from dockerlab.locking import checkout_lock

    with checkout_lock(Path(args.source).resolve(), "the book build"):
        return build(Path(args.source), Path(args.out))


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dockerlab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("bases", help="make sure every base image exists (pull, else bootstrap) and print provenance")
    p.add_argument("names", nargs="*")
    p.set_defaults(func=_bases)
    p = sub.add_parser("build", help="build the book with sphinx-build; one clear line on failure")
    p.add_argument("--source", default=".")
    p.add_argument("--out", default="_build")
    p.set_defaults(func=_build)
    p = sub.add_parser("clean", help="remove the containers, networks and images the book created")
    p.add_argument("--all", action="store_true", help="also remove the bootstrapped base images")
    p.set_defaults(func=_clean)
    p = sub.add_parser("notebooks", help="execute the chapters as notebooks (nbclient) and write .ipynb files")
    p.add_argument("names", nargs="*", help="file stems, e.g. 02-1-scratch (default: all)")
    p.add_argument("--out", default="_build/notebooks")
    p.add_argument("--alone", action="store_true",
                   help="before each page, remove what the book made on the engine (bases kept): each page runs alone")
    p.set_defaults(func=_notebooks)
    p = sub.add_parser("budgets", help="check every example image against budgets.toml")
    p.add_argument("--file", default="budgets.toml")
    p.add_argument("--reset", action="store_true",
                   help="rewrite every budget as the measured size + 10%% (after a deliberate change)")
    p.set_defaults(func=_budgets)
    args = parser.parse_args(argv)
    # A plain `kill` stops a build the way Ctrl-C does, so its cleanup runs.
    signal.signal(signal.SIGTERM, _interrupt)
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
