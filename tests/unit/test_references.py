"""Image references: repository and tag, as the docker CLI reads them (no daemon)."""

import pytest

from dockerlab.references import DEFAULT_TAG, split_reference, tagged


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("busybox", ("busybox", "latest")),
        ("busybox:1.36", ("busybox", "1.36")),
        ("ch09/hello", ("ch09/hello", "latest")),
        ("ch09/tech-slim-base:bookworm-slim", ("ch09/tech-slim-base", "bookworm-slim")),
        ("localhost:5000/busybox", ("localhost:5000/busybox", "latest")),
        ("127.0.0.1:5000/ch09/hello", ("127.0.0.1:5000/ch09/hello", "latest")),
        ("127.0.0.1:5000/ch09/hello:v1", ("127.0.0.1:5000/ch09/hello", "v1")),
        ("[::1]:5000/busybox:1", ("[::1]:5000/busybox", "1")),
        ("registry.example:443/a/b/c:d", ("registry.example:443/a/b/c", "d")),
        ("busybox:", ("busybox", DEFAULT_TAG)),
    ],
)
def test_split_reference(reference: str, expected: tuple[str, str]) -> None:
    assert split_reference(reference) == expected


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("busybox", "busybox:latest"),
        ("debian:bookworm-slim", "debian:bookworm-slim"),
        ("127.0.0.1:5000/busybox", "127.0.0.1:5000/busybox:latest"),
        ("127.0.0.1:5000/busybox:1.36", "127.0.0.1:5000/busybox:1.36"),
        ("busybox@sha256:" + "0" * 64, "busybox@sha256:" + "0" * 64),
    ],
)
def test_tagged(reference: str, expected: str) -> None:
    assert tagged(reference) == expected


def test_a_digest_names_no_tag() -> None:
    with pytest.raises(ValueError, match="pinned by digest"):
        split_reference("127.0.0.1:5000/busybox@sha256:" + "0" * 64)
