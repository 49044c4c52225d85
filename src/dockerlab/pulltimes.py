"""What a page may say about pull times, decided from the measurements rather than assumed.

Page 01 pulls five images onto a cold node twice, over loopback and over a link shaped with ``tc tbf``. Two of
its sentences are claims about those timings: that pull time follows image size, and that the loopback pull is
mostly unpacking (decompressing and writing files) rather than transfer. These functions turn the measured
numbers into the facts those sentences need.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Bytes a full-size TCP segment puts on the shaped veth per byte of payload: ``tbf`` counts whole frames
#: (14 bytes of Ethernet, 20 of IPv4, 32 of TCP with timestamps around 1448 bytes of payload at MTU 1500).
FRAME_OVERHEAD = 1514 / 1448


@dataclass(frozen=True)
class OrderBreak:
    """Two images whose pull times are in the opposite order of their sizes."""

    smaller: str
    larger: str
    smaller_seconds: float
    larger_seconds: float


def order_breaks(points: Sequence[tuple[str, int, float]]) -> list[OrderBreak]:
    """Every pair (by size) where the larger image was pulled faster than the smaller one.

    ``points`` are ``(name, size, seconds)``. An empty list means the pull times are in size order.

    >>> order_breaks([("a", 1, 0.2), ("b", 5, 0.1), ("c", 9, 3.0)])
    [OrderBreak(smaller='a', larger='b', smaller_seconds=0.2, larger_seconds=0.1)]
    """
    ranked = sorted(points, key=lambda p: p[1])
    return [OrderBreak(small[0], large[0], small[2], large[2])
            for i, small in enumerate(ranked) for large in ranked[i + 1:]
            if large[1] > small[1] and large[2] < small[2]]


def transfer_seconds(payload_bytes: int, rate_mbit: float, *, overhead: float = FRAME_OVERHEAD) -> float:
    """The least time ``payload_bytes`` take over a link shaped to ``rate_mbit`` Mbit/s, frame headers included.

    >>> round(transfer_seconds(12_500_000, 100, overhead=1.0), 3)
    1.0
    """
    if rate_mbit <= 0:
        raise ValueError(f"a link rate must be positive, not {rate_mbit} Mbit/s")
    return 8 * payload_bytes * overhead / (rate_mbit * 1e6)


@dataclass(frozen=True)
class UnpackShare:
    """How much of a loopback pull was not transfer, bounded from a pull of the same image over a shaped link.

    The shaped pull took ``shaped_seconds``; moving the compressed layers at the link's rate takes at least
    ``transfer_seconds``, so at least ``beyond_transfer`` seconds went to work other than transfer (decompressing
    and writing files, which the shaped pull can partly hide behind its slow download, so this is a lower
    bound). That work is the same on loopback, so it is at least ``share`` of the loopback pull.
    """

    loopback_seconds: float
    shaped_seconds: float
    transfer_seconds: float

    @property
    def beyond_transfer(self) -> float:
        return max(0.0, self.shaped_seconds - self.transfer_seconds)

    @property
    def share(self) -> float:
        """The lower bound of the non-transfer work as a fraction of the loopback pull (may exceed 1: noise)."""
        return self.beyond_transfer / self.loopback_seconds if self.loopback_seconds > 0 else 0.0

    @property
    def mostly_unpacking(self) -> bool:
        """True when at least half of the loopback pull is shown to be work other than transfer."""
        return self.share >= 0.5


def unpack_share(loopback_seconds: float, shaped_seconds: float, payload_bytes: int, rate_mbit: float) -> UnpackShare:
    """Bound the non-transfer part of a loopback pull with a pull of the same image over a shaped link.

    >>> s = unpack_share(4.0, 12.0, 12_500_000 * 9, 100)  # 9 s of transfer (+ headers) at 100 Mbit/s
    >>> round(s.beyond_transfer, 2), s.mostly_unpacking
    (2.59, True)
    """
    return UnpackShare(loopback_seconds, shaped_seconds, transfer_seconds(payload_bytes, rate_mbit))
