"""docker image ls prints sizes with go-units HumanSizeWithPrecision(size, 3)."""

import math

import pytest

from dockerlab.efficiency import percent_text
from dockerlab.sizes import format_percent, human_size, ratio_text, size_change_text


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


@pytest.mark.parametrize(
    ("part", "whole", "digits", "shown"),
    [
        (1, 8, 1, "12.5%"),
        (1, 8, 2, "12.50%"),
        (0.25, 1.0, 2, "25.00%"),
        (1_819_316, 887_815_295, 2, "0.20%"),
        (3, 2, 0, "150%"),
        (0, 5, 1, "0%"),  # zero is zero, never "0.0%"
        (3, 10_000, 1, "0.1% 미만"),  # not zero, but less than the last digit shown
        (4, 1_000_000, 2, "0.01% 미만"),
        (5, 10_000, 1, "0.1%"),  # 0.05 rounds up: it is shown
        (-1, 4, 1, "-25.0%"),
        (math.nan, 1.0, 2, "–"),
        (math.inf, 1.0, 2, "∞"),
        (-math.inf, 1.0, 1, "∞"),
    ],
)
def test_format_percent(part: float, whole: float, digits: int, shown: str) -> None:
    assert format_percent(part, whole, digits=digits) == shown


@pytest.mark.parametrize("value", [0.0, 0.1, 0.125, 0.3333333, 0.9, 1.0, 0.004999, 12.3456, math.nan, math.inf])
def test_the_book_s_two_percentages_are_format_percent(value: float) -> None:
    # dive's efficiency figures (two decimals) and the size ratios (one decimal) are the same formatting.
    assert percent_text(value) == format_percent(value, digits=2)
    assert ratio_text(value, 1.0) == format_percent(value, digits=1)
    assert ratio_text(value, 4.0) == format_percent(value, 4.0, digits=1)


@pytest.mark.parametrize(
    ("before", "after", "said"),
    [
        (1_000_000, 999_000, "1,000바이트(0.10%) 줄었습니다"),
        (1_000_000, 1_000_000, "바이트까지 같았습니다"),
        (4_000, 4_100, "100바이트(2.50%) 늘었습니다"),
    ],
)
def test_size_change_text_says_which_way_and_by_how_much(before: int, after: int, said: str) -> None:
    assert size_change_text(before, after) == said


def test_size_change_text_needs_a_size_to_compare_with() -> None:
    with pytest.raises(ValueError):
        size_change_text(0, 10)
