"""docker image ls prints sizes with go-units HumanSizeWithPrecision(size, 3)."""

import pytest

from dockerlab.sizes import human_size, ratio_text


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0B"),
        (999, "999B"),
        (1000, "1kB"),
        (1024, "1.02kB"),
        (12_345, "12.3kB"),
        (1_819_316, "1.82MB"),
        (74_817_722, "74.8MB"),
        (116_557_662, "117MB"),
        (887_815_295, "888MB"),
        (1_000_000_000, "1GB"),
        # Go's %.3g switches to an exponent when rounding reaches 1000: docker really prints this.
        (999_999, "1e+03kB"),
    ],
)
def test_human_size_matches_docker(size: int, shown: str) -> None:
    assert human_size(size) == shown


def test_human_size_rejects_negative() -> None:
    with pytest.raises(ValueError):
        human_size(-1)


def test_ratio_text() -> None:
    assert ratio_text(1_819_316, 887_815_295) == "0.2%"
    with pytest.raises(ValueError):
        ratio_text(1, 0)
