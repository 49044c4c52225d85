"""The book's record of what it built, and the labels only it sets."""

from __future__ import annotations

import threading
from pathlib import Path

from dockerlab.ownership import (
    EXAMPLE_LABEL,
    OWNER_LABEL,
    PROJECT_LABEL,
    container_labels,
    forget_images,
    image_labels,
    is_book_example_image,
    ledger_path,
    record_image,
    recorded_images,
)

from .fakes import FakeAPIClient, fake_client


def test_owner_label_is_on_containers_and_never_on_images() -> None:
    assert OWNER_LABEL in container_labels({"x": "1"}) and container_labels({"x": "1"})["x"] == "1"
    assert OWNER_LABEL not in image_labels("hello", {"y": "2"})
    assert image_labels("hello")[EXAMPLE_LABEL] == "hello" and PROJECT_LABEL in image_labels()


def test_the_ledger_records_forgets_and_survives_concurrent_writers(tmp_path: Path) -> None:
    threads = [threading.Thread(target=lambda i=i: [record_image(f"sha256:{i}{k}", f"ch09/t:{i}", tmp_path)
                                                    for k in range(50)]) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recorded = recorded_images(tmp_path)
    assert len(recorded) == 200 and len({r.id for r in recorded}) == 200
    forget_images(tmp_path, {r.id for r in recorded if r.tag == "ch09/t:0"})
    assert len(recorded_images(tmp_path)) == 150
    ledger_path(tmp_path).write_text(ledger_path(tmp_path).read_text() + "not json\n")
    assert len(recorded_images(tmp_path)) == 150  # a torn line is skipped, not fatal
    record_image("", "ch09/none", tmp_path)  # a build that reported no ID records nothing
    assert len(recorded_images(tmp_path)) == 150


def test_only_images_in_the_books_namespace_count_without_the_ledger() -> None:
    assert is_book_example_image(["ch09/webapi:scratch"], {EXAMPLE_LABEL: "webapi", PROJECT_LABEL: "ch09"})
    assert not is_book_example_image(["ch09/webapi:scratch"], {PROJECT_LABEL: "ch09"})  # a base's labels only
    assert not is_book_example_image([], {EXAMPLE_LABEL: "webapi"})  # dangling: only the ledger can say


def test_a_classic_step_image_recorded_by_its_short_id_is_the_books(tmp_path: Path) -> None:
    from dockerlab.cleanup import book_images

    api = FakeAPIClient()
    stage = api.add_image(image_id="sha256:5f1e2d3c4b5a" + "0" * 52)  # a dangling stage image the classic builder left
    api.add_image(image_id="sha256:5f1e2d3c4b5b" + "0" * 52)  # a reader's dangling image: one hex digit differs
    client = fake_client(api)
    record_image("5f1e2d3c4b5a", None, tmp_path)
    assert [image.id for image in book_images(client, root=tmp_path)] == [stage]
