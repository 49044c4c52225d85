"""Resolving the engine's client and removing engine objects quietly (no daemon)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from docker.errors import APIError, NotFound

from dockerlab import engine
from dockerlab.cleanup import remove_project_objects
from dockerlab.engine import remove_quietly, resolve_api, resolve_client
from dockerlab.examples import try_run
from dockerlab.imagefs import created_container
from dockerlab.measure import image_stats
from dockerlab.ownership import OWNER_LABEL, PROJECT

from .fakes import FakeAPI, FakeClient, FakeContainer, image_info


@pytest.fixture
def default_engine(monkeypatch: pytest.MonkeyPatch) -> FakeClient:
    """A fake client that every helper gets when it is given none."""
    client = FakeClient(FakeAPI(images={"x:latest": image_info(1234)}))
    monkeypatch.setattr(engine, "docker_client", lambda: client)
    return client


def test_a_given_client_is_used_as_it_is(default_engine: FakeClient) -> None:
    other = FakeClient()
    assert resolve_client(other) is other
    assert resolve_api(other) is other.api
    assert resolve_api(other.api) is other.api  # a low-level client is its own API


def test_no_client_means_the_default_engine(default_engine: FakeClient) -> None:
    assert resolve_client() is default_engine
    assert resolve_client(None) is default_engine
    assert resolve_api(None) is default_engine.api


def test_helpers_given_no_client_reach_the_default_engine(default_engine: FakeClient) -> None:
    assert image_stats("x:latest").size == 1234
    assert try_run("x:latest", ["true"]).ok
    assert default_engine.containers.container.removed
    with created_container("x:latest") as container:
        assert container is default_engine.containers.container


class Removable:
    def __init__(self, name: str, error: Exception | None = None) -> None:
        self.name = name
        self.error = error
        self.options: dict[str, Any] | None = None

    def remove(self, **options: Any) -> None:
        if self.error is not None:
            raise self.error
        self.options = options


def test_remove_quietly_passes_the_options_and_says_whether_it_removed() -> None:
    removed = Removable("a")
    assert remove_quietly(removed, force=True) is True
    assert removed.options == {"force": True}


@pytest.mark.parametrize("error", [NotFound("No such container: a"), APIError("conflict: in use")])
def test_remove_quietly_is_quiet_about_what_the_engine_refuses(error: Exception) -> None:
    assert remove_quietly(Removable("a", error)) is False


def test_remove_quietly_lets_other_errors_through() -> None:
    with pytest.raises(ZeroDivisionError):
        remove_quietly(Removable("a", ZeroDivisionError()))


class Listing:
    def __init__(self, objects: list[Removable]) -> None:
        self.objects = objects
        self.filters: list[dict[str, str]] = []

    def list(self, all: bool = False, filters: dict[str, str] | None = None) -> list[Removable]:
        self.filters.append(filters or {})
        return self.objects


class CleanupClient:
    """The engine surface remove_project_objects uses: labelled containers and networks, no images, no cache."""

    def __init__(self, containers: list[Removable], networks: list[Removable]) -> None:
        self.containers = Listing(containers)
        self.networks = Listing(networks)
        self.images = Listing([])

    def df(self) -> dict[str, Any]:
        return {"BuildCache": []}


def test_cleanup_reports_only_what_it_removed(tmp_path: Path) -> None:
    client = CleanupClient(
        containers=[Removable("done"), Removable("vanished", NotFound("gone")), Removable("busy", APIError("x"))],
        networks=[Removable("net-in-use", APIError("has active endpoints")), Removable("net")],
    )
    removed = remove_project_objects(client, root=tmp_path)
    assert removed == {"containers": ["done"], "networks": ["net"], "images": [], "cache mounts": []}
    assert client.containers.filters == client.networks.filters == [{"label": f"{OWNER_LABEL}={PROJECT}"}]


def test_a_container_of_a_run_is_removed_even_when_the_engine_says_it_is_gone() -> None:
    class GoneContainer(FakeContainer):
        def remove(self, force: bool = False) -> None:
            raise NotFound("No such container")

    outcome = try_run("x", ["true"], client=FakeClient(container=GoneContainer(status=3)))
    assert (outcome.status, outcome.ok) == (3, False)
