import pytest

from dockerlab.pulltimes import FRAME_OVERHEAD, OrderBreak, order_breaks, transfer_seconds, unpack_share


def test_pull_times_in_size_order_have_no_breaks() -> None:
    assert order_breaks([("golang", 900, 36.9), ("hello", 2, 0.1), ("debian", 117, 7.7), ("busybox", 4, 0.1)]) == []


def test_a_larger_image_pulled_faster_is_a_break_named_by_size() -> None:
    points = [("small", 2, 0.3), ("middle", 4, 0.1), ("large", 9, 0.2)]
    assert order_breaks(points) == [OrderBreak("small", "middle", 0.3, 0.1), OrderBreak("small", "large", 0.3, 0.2)]


def test_images_of_equal_size_are_not_a_break() -> None:
    assert order_breaks([("a", 5, 1.0), ("b", 5, 0.5)]) == []


def test_transfer_time_counts_the_frame_headers() -> None:
    assert transfer_seconds(12_500_000, 100) == pytest.approx(FRAME_OVERHEAD)
    with pytest.raises(ValueError):
        transfer_seconds(1, 0)


@pytest.mark.parametrize(
    ("loopback", "shaped", "mostly"),
    [
        (20.1, 36.9, True),   # this book's golang:1.19: 291 MB at 100 Mbit/s is >= 24.4 s, so >= 12.5 s is unpacking
        (20.1, 30.0, False),  # only 5.6 s beyond the transfer: less than half of the loopback pull
        (20.1, 20.0, False),  # faster than the transfer bound (burst, noise): nothing shown, never negative
    ],
)
def test_unpack_share_is_a_lower_bound_from_the_shaped_pull(loopback: float, shaped: float, mostly: bool) -> None:
    share = unpack_share(loopback, shaped, 291_000_000, 100)
    assert share.beyond_transfer >= 0
    assert share.mostly_unpacking is mostly
