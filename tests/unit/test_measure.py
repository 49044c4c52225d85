from dockerlab.measure import image_stats, layer_rows

from .fakes import FakeAPIClient


def _image_with_history(history: list[dict], size: int, layers: int) -> FakeAPIClient:
    """An engine holding image ``t`` with ``history`` (newest first)."""
    api = FakeAPIClient()
    api.add_image("t", size=size, layers=layers, history=history)
    return api


HISTORY = [  # newest first, as the engine returns it
    {"CreatedBy": "/bin/sh -c #(nop)  LABEL org.ch09book.project=ch09", "Size": 0},
    {"CreatedBy": '/bin/sh -c #(nop)  CMD ["/hello"]', "Size": 0},
    {"CreatedBy": "/bin/sh -c #(nop) COPY file:abc in / ", "Size": 1_819_316},
]


def test_image_stats_reads_inspect() -> None:
    api = FakeAPIClient()
    image_id = api.add_image("ch09/hello:latest", size=1_819_316, layers=1, labels={"a": "b"})
    stats = image_stats("ch09/hello:latest", api)
    assert (stats.size, stats.layers, stats.human) == (1_819_316, 1, "1.82MB")
    assert stats.short_id == image_id.removeprefix("sha256:")[:12]
    assert stats.label("a") == "b"


def test_layer_rows_oldest_first_without_book_labels() -> None:
    api = _image_with_history(HISTORY, size=1_819_316, layers=1)
    rows = layer_rows("t", api)
    assert [r.created_by for r in rows] == ["COPY file:abc in /", 'CMD ["/hello"]']
    assert [r.empty for r in rows] == [False, True]


def test_layer_rows_can_keep_book_labels() -> None:
    api = _image_with_history(HISTORY, size=1, layers=1)
    assert len(layer_rows("t", api, book_labels=True)) == 3


def test_zero_byte_run_layer_is_still_a_layer() -> None:
    history = [
        {"CreatedBy": "/bin/sh -c rm -rf /var/lib/apt/lists/*", "Size": 0},
        {"CreatedBy": "/bin/sh -c #(nop) ADD file:x in / ", "Size": 100},
    ]
    api = _image_with_history(history, size=100, layers=2)
    rows = layer_rows("t", api)
    assert rows[1].created_by == "RUN rm -rf /var/lib/apt/lists/*"
    assert rows[1].empty is False


# `docker image history` of a BuildKit build (Engine 26, newest first): ARG and WORKDIR records, build args
# and mount flags in RUN records, and a WORKDIR that made its folder in a 0-byte layer.
BUILDKIT_HISTORY = [
    {"CreatedBy": 'CMD ["direnv" "version"]', "Size": 0, "Comment": "buildkit.dockerfile.v0"},
    {"CreatedBy": "RUN |1 TOOL_URL=http://x/d.deb /bin/sh -c rm -rf direnv # buildkit", "Size": 0,
     "Comment": "buildkit.dockerfile.v0"},
    {"CreatedBy": "RUN --mount=type=cache,target=/var/cache/apt /bin/sh -c apt-get update # buildkit",
     "Size": 2_000, "Comment": "buildkit.dockerfile.v0"},
    {"CreatedBy": "WORKDIR /tmp", "Size": 0, "Comment": "buildkit.dockerfile.v0"},
    {"CreatedBy": "ARG TOOL_URL", "Size": 0, "Comment": "buildkit.dockerfile.v0"},
    {"CreatedBy": 'CMD ["bash"]', "Size": 0},
    {"CreatedBy": "ADD rootfs.tar / # buildkit", "Size": 74_817_722, "Comment": "buildkit.dockerfile.v0"},
]


def test_buildkit_history_reads_as_the_instructions_written() -> None:
    api = _image_with_history(BUILDKIT_HISTORY, size=74_819_722, layers=4)
    rows = layer_rows("t", api)
    assert [r.created_by for r in rows] == [
        "ADD rootfs.tar /", 'CMD ["bash"]', "ARG TOOL_URL", "WORKDIR /tmp",
        "RUN --mount=type=cache,target=/var/cache/apt apt-get update", "RUN rm -rf direnv", 'CMD ["direnv" "version"]']
    # Four layers: the 0-byte WORKDIR and RUN records are layers, ARG and CMD are metadata.
    assert [r.empty for r in rows] == [False, True, True, False, False, False, True]


def test_a_workdir_that_made_nothing_is_metadata_when_the_layer_count_says_so() -> None:
    api = _image_with_history(BUILDKIT_HISTORY, size=74_819_722, layers=3)
    rows = layer_rows("t", api)
    # Three layers: ADD, the RUN with bytes, and one 0-byte record -- the first candidate (WORKDIR), in order.
    assert sum(not r.empty for r in rows) == 3
