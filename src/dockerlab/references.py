"""Image references as the docker CLI reads them: ``[registry[:port]/]path[:tag]``.

The tag is what follows the last ``:`` of the last path component, so a registry's port
(``127.0.0.1:5000/busybox``) is never taken for a tag; a reference without one means ``latest``.

>>> split_reference("127.0.0.1:5000/ch09/hello"), tagged("busybox")
(('127.0.0.1:5000/ch09/hello', 'latest'), 'busybox:latest')
"""

from __future__ import annotations

#: The tag docker assumes when a reference names none.
DEFAULT_TAG = "latest"


def split_reference(reference: str) -> tuple[str, str]:
    """Repository and tag of ``reference`` (:data:`DEFAULT_TAG` when it names none, or an empty one).

    A reference pinned by digest (``name@sha256:…``) names no tag: :class:`ValueError`.

    >>> split_reference("golang:1.19"), split_reference("127.0.0.1:5000/debian:bookworm-slim")
    (('golang', '1.19'), ('127.0.0.1:5000/debian', 'bookworm-slim'))
    """
    if "@" in reference:
        raise ValueError(f"{reference} is pinned by digest and names no tag.")
    head, _, last = reference.rpartition("/")
    name, colon, tag = last.rpartition(":")
    if not colon:
        return reference, DEFAULT_TAG
    return (f"{head}/{name}" if head else name), tag or DEFAULT_TAG


def tagged(reference: str) -> str:
    """``reference`` with its tag spelled out (``busybox`` → ``busybox:latest``); a digest reference as it is.

    >>> tagged("127.0.0.1:5000/busybox"), tagged("debian:bookworm")
    ('127.0.0.1:5000/busybox:latest', 'debian:bookworm')
    """
    if "@" in reference:
        return reference
    repository, tag = split_reference(reference)
    return f"{repository}:{tag}"
