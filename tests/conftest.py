"""Shared fixtures, and the order of a test run.

Tests under tests/integration need the real engine (marker ``engine``); tests under tests/book read the
whole site (marker ``book``); tests/unit need neither. One run goes in tiers, fail fast: unit, then
integration, then book, then the tests that clear the engine of everything the book made (marker
``clean_slate``: they would remove the images the book and integration tests compare with). A tier with a
failure is the last one run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


TIERS = ("unit", "integration", "book", "clean_slate")
_TIER = pytest.StashKey[int]()


def tier(item: pytest.Item) -> int:
    """The tier an item runs in (:data:`TIERS`); a doctest of src/ runs with the unit tests."""
    return item.stash.get(_TIER, 0)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        try:
            parts = Path(str(item.fspath)).relative_to(ROOT / "tests").parts
        except ValueError:  # a doctest of src/ (pytest --doctest-modules src tests): needs neither
            continue
        if parts[0] == "integration":
            item.add_marker(pytest.mark.engine)
            item.stash[_TIER] = 1
        elif parts[0] == "book":
            item.add_marker(pytest.mark.engine)
            item.add_marker(pytest.mark.book)
            item.stash[_TIER] = 2
        if item.get_closest_marker("clean_slate"):
            item.stash[_TIER] = 3
    items.sort(key=tier)  # stable: within a tier, the files' own order


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    result = yield
    if nextitem is not None and tier(nextitem) != tier(item) and item.session.testsfailed:
        item.session.shouldfail = (f"{TIERS[tier(item)]} tests failed: the {TIERS[tier(nextitem)]} tests and "
                                   "any later tier were not run")
    return result


@pytest.fixture(scope="session")
def root() -> Path:
    """The book's root folder."""
    return ROOT


@pytest.fixture(scope="session")
def engine():
    """A client of the real engine. `make test` starts one; a missing engine fails, never skips."""
    from dockerlab import docker_client
    from dockerlab.errors import EngineUnavailable

    try:
        return docker_client()
    except EngineUnavailable as err:
        pytest.fail(str(err))


class Tracker:
    """Remembers the images and containers a test made and removes them afterwards (docker-py's pattern)."""

    def __init__(self, client) -> None:
        self.client = client
        self.images: list[str] = []
        self.containers: list[str] = []

    def image(self, tag: str) -> str:
        self.images.append(tag)
        return tag

    def container(self, container_id: str) -> str:
        self.containers.append(container_id)
        return container_id

    def cleanup(self) -> None:
        from docker.errors import APIError, NotFound

        for cid in self.containers:
            try:
                self.client.api.remove_container(cid, force=True)
            except (APIError, NotFound):
                pass
        for tag in self.images:
            try:
                self.client.api.remove_image(tag, force=True)
            except (APIError, NotFound):
                pass


@pytest.fixture
def tracked(engine) -> Iterator[Tracker]:
    """Track what a test creates on the engine; it is removed when the test ends."""
    tracker = Tracker(engine)
    yield tracker
    tracker.cleanup()


@pytest.fixture(scope="session", autouse=True)
def no_containers_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    """After the whole session, no container the book or tests created may remain."""
    yield
    if not any(item.get_closest_marker("engine") for item in request.session.items):
        return
    from dockerlab import docker_client
    from dockerlab.examples import PROJECT, PROJECT_LABEL

    left = docker_client().containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={PROJECT}"})
    assert not left, f"containers left behind: {[c.name for c in left]}"
