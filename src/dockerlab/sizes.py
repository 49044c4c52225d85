"""Sizes formatted exactly as the docker CLI prints them.

``docker image ls`` formats the SIZE column with go-units'
``HumanSizeWithPrecision(size, 3)``: decimal units (1 kB = 1000 B), three
significant digits, Go's ``%.*g`` verb and no space before the unit.
"""

from __future__ import annotations

import math

_DECIMAL_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def _go_g(value: float, precision: int) -> str:
    """Format like Go's ``fmt.Sprintf("%.*g", precision, value)``."""
    text = f"{value:.{precision}g}"
    if "e" in text:
        # Go writes at least two exponent digits, as Python does ("1e+03").
        mantissa, exponent = text.split("e")
        sign = exponent[0]
        digits = exponent[1:].lstrip("0").rjust(2, "0")
        text = f"{mantissa}e{sign}{digits}"
    return text


def human_size(size: float, precision: int = 3) -> str:
    """Return ``size`` bytes as ``docker image ls`` shows it.

    >>> human_size(1_823_456)
    '1.82MB'
    """
    if size < 0:
        raise ValueError(f"a size cannot be negative: {size}")
    value = float(size)
    index = 0
    while value >= 1000.0 and index < len(_DECIMAL_UNITS) - 1:
        value /= 1000.0
        index += 1
    return f"{_go_g(value, precision)}{_DECIMAL_UNITS[index]}"


def format_percent(part: float, whole: float = 1.0, *, digits: int) -> str:
    """``part / whole`` as a percentage with ``digits`` decimals (``part`` alone is a ratio when ``whole`` is 1);
    "–" when it is not a number, "∞" when it is infinite. Every percentage the helper prints comes from here.

    A value that is not zero but would print as zero says how small it is ("0.1% 미만"), and zero is "0%":
    never "0.0%", which reads as a measurement of nothing.

    >>> format_percent(1, 8, digits=1), format_percent(0.25, digits=2), format_percent(float("nan"), digits=2)
    ('12.5%', '25.00%', '–')
    >>> format_percent(3, 10_000, digits=1), format_percent(-3, 10_000, digits=2), format_percent(0, 5, digits=1)
    ('0.1% 미만', '-0.03%', '0%')
    """
    value = 100.0 * part / whole
    if math.isnan(value):
        return "–"
    if math.isinf(value):
        return "∞"
    return small_amount(value, digits=digits, unit="%")


def small_amount(value: float, *, digits: int, unit: str) -> str:
    """``value`` with ``digits`` decimals and ``unit`` (``%``, ``%p``, ``초``), as the book writes a figure in
    prose: "0" and the unit for zero, and "less than the last digit" for a value that would round to zero (its
    size only; the sentence says which way).

    >>> small_amount(0.04, digits=1, unit="초"), small_amount(0.0, digits=2, unit="%p"), small_amount(1.25, digits=1,
    ...                                                                                              unit="초")
    ('0.1초 미만', '0%p', '1.2초')
    """
    if value == 0:
        return f"0{unit}"
    text = f"{value:.{digits}f}"
    if float(text) == 0:
        step = f"{10.0 ** -digits:.{digits}f}"
        return f"{step}{unit} 미만"  # in size only: the sentence says which way
    return f"{text}{unit}"


def ratio_text(part: float, whole: float) -> str:
    """Return ``part / whole`` as a percentage with one decimal.

    >>> ratio_text(1, 8)
    '12.5%'
    """
    if whole <= 0:
        raise ValueError("the whole must be positive")
    return format_percent(part, whole, digits=1)


def size_change_text(before: int, after: int) -> str:
    """How a size changed from ``before`` to ``after``, in the book's words: bytes and percent, and which way.

    >>> size_change_text(2_000_000, 1_995_000), size_change_text(100, 100), size_change_text(1000, 1010)
    ('5,000바이트(0.25%) 줄었습니다', '바이트까지 같았습니다', '10바이트(1.00%) 늘었습니다')
    """
    if before <= 0:
        raise ValueError("the size before must be positive")
    if after == before:
        return "바이트까지 같았습니다"
    change = abs(after - before)
    way = "줄었습니다" if after < before else "늘었습니다"
    return f"{change:,}바이트({format_percent(change, before, digits=2)}) {way}"
