"""What on an engine is the book's: one place for its labels and its record of the images it built.

A reader's engine holds their own images, containers and networks, and theirs may descend from the
book's: an image built ``FROM debian:bookworm`` (a base this book bootstrapped) inherits every label of
that base, and a container inherits every label of its image. A label on an image therefore cannot
say "the book made this". So:

* containers and networks the book creates carry :data:`OWNER_LABEL`, a key the book never puts on
  an image, so no container started from any image can inherit it;
* every image the book builds on the engine is recorded by ID in ``_build/ledger/images.jsonl``
  as it is built; cleanup removes those IDs (tagged or dangling), and besides them only images
  tagged in the book's own ``ch09/`` namespace that were built from an example.

>>> sorted(container_labels())
['org.ch09book.owner', 'org.ch09book.project']
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

#: On every image, container and network the book makes (images pass it on to what is built FROM them).
PROJECT_LABEL = "org.ch09book.project"
PROJECT = "ch09"
#: On images built from ``examples/<name>``: the example's name.
EXAMPLE_LABEL = "org.ch09book.example"
#: Only on containers and networks the book itself creates: never on an image, so never inherited.
OWNER_LABEL = "org.ch09book.owner"
#: The book's tag namespace.
TAG_PREFIX = "ch09/"


def container_labels(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Labels for a container or network the book creates (:data:`OWNER_LABEL` marks it as the book's own)."""
    return {**(extra or {}), PROJECT_LABEL: PROJECT, OWNER_LABEL: PROJECT}


def image_labels(example: str | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Labels for an image the book builds.

    >>> image_labels("hello")
    {'org.ch09book.project': 'ch09', 'org.ch09book.example': 'hello'}
    """
    labels = {PROJECT_LABEL: PROJECT}
    if example:
        labels[EXAMPLE_LABEL] = example
    return {**labels, **(extra or {})}


def ledger_path(root: Path) -> Path:
    """Where a checkout records the images it built: ``<root>/_build/ledger/images.jsonl``."""
    return root / "_build" / "ledger" / "images.jsonl"


@dataclass(frozen=True)
class RecordedImage:
    """One image the book built: its ID, the tag it was built as, and when."""

    id: str
    tag: str
    at: float


def record_image(image_id: str, tag: str | None, root: Path | None = None) -> None:
    """Append an image the book just built to the checkout's ledger (no-op outside a checkout).

    One line per build, appended with a single ``write`` so concurrent runs never interleave.
    """
    if not image_id:
        return
    if root is None:
        from dockerlab.errors import DockerLabError
        from dockerlab.examples import project_root

        try:
            root = project_root()
        except DockerLabError:
            return
    path = ledger_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"id": image_id, "tag": tag or "", "at": round(time.time(), 3)}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def recorded_images(root: Path) -> list[RecordedImage]:
    """Every image recorded in the checkout's ledger (unreadable lines are skipped)."""
    path = ledger_path(root)
    if not path.is_file():
        return []
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
            found.append(RecordedImage(str(entry["id"]), str(entry.get("tag", "")), float(entry.get("at", 0))))
        except (ValueError, KeyError, TypeError):
            continue
    return found


def forget_images(root: Path, ids: set[str]) -> None:
    """Drop ``ids`` from the ledger (after they were removed from the engine)."""
    path = ledger_path(root)
    if not path.is_file():
        return
    keep = [r for r in recorded_images(root) if r.id not in ids]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps({"id": r.id, "tag": r.tag, "at": r.at}) + "\n" for r in keep), encoding="utf-8")
    tmp.replace(path)


def is_book_example_image(tags: list[str], labels: dict[str, str]) -> bool:
    """An image tagged in the book's namespace and built from one of its examples (the ledger's fallback).

    >>> is_book_example_image(["ch09/hello:latest"], {EXAMPLE_LABEL: "hello"})
    True
    >>> is_book_example_image(["myapp:1"], {EXAMPLE_LABEL: "hello"})  # a reader's image FROM ch09/hello
    False
    """
    return bool(labels.get(EXAMPLE_LABEL)) and any(t.startswith(TAG_PREFIX) for t in tags)
