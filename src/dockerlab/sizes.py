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

    >>> format_percent(1, 8, digits=1), format_percent(0.25, digits=2), format_percent(float("nan"), digits=2)
    ('12.5%', '25.00%', '–')
    """
    value = 100.0 * part / whole
    if math.isnan(value):
        return "–"
    if math.isinf(value):
        return "∞"
    return f"{value:.{digits}f}%"


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
