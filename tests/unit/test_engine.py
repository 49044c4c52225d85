"""Resolving the engine's client and removing engine objects quietly (no daemon)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from docker import DockerClient

from dockerlab import engine
from dockerlab.cleanup import remove_project_objects
from dockerlab.engine import remove_quietly, resolve_api, resolve_client
from dockerlab.examples import try_run
from dockerlab.imagefs import created_container
from dockerlab.measure import image_stats
from dockerlab.ownership import OWNER_LABEL, PROJECT

from .fakes import FakeAPIClient, Program, engine_of, fake_client


@pytest.fixture
def default_engine(monkeypatch: pytest.MonkeyPatch) -> DockerClient:
    """A fake client that every helper gets when it is given none."""
    api = FakeAPIClient()
    api.add_image("x:latest", size=1234)
    client = fake_client(api)
    monkeypatch.setattr(engine, "docker_client", lambda: client)
    return client


def test_a_given_client_is_used_as_it_is(default_engine: DockerClient) -> None:
    other = fake_client()
    assert resolve_client(other) is other
    assert resolve_api(other) is other.api
    assert resolve_api(other.api) is other.api  # a low-level client is its own API


def test_no_client_means_the_default_engine(default_engine: DockerClient) -> None:
    assert resolve_client() is default_engine
    assert resolve_client(None) is default_engine
    assert resolve_api(None) is default_engine.api


def test_helpers_given_no_client_reach_the_default_engine(default_engine: DockerClient) -> None:
    api = engine_of(default_engine)
    assert image_stats("x:latest").size == 1234
    assert try_run("x:latest", ["true"]).ok
    assert len(api.created()) == 1 and not api.container_store
    with created_container("x:latest") as container:
        assert container.client is default_engine and container.id in api.container_store
    assert not api.container_store


def _container(api: FakeAPIClient, name: str, *, running: bool = False, labels: dict[str, str] | None = None) -> Any:
    """A container named ``name`` in the fake engine: exited, or still running."""
    if not api.images(name="x"):
        api.add_image("x:latest")
        api.add_image("x:running", program=Program(exit_code=None))
    container = fake_client(api).containers.create("x:running" if running else "x:latest", name=name,
                                                   labels=labels or {})
    container.start()
    return container


def test_remove_quietly_passes_the_options_and_says_whether_it_removed() -> None:
    api = FakeAPIClient()
    running = _container(api, "a", running=True)
    assert remove_quietly(running, force=True) is True  # without force the engine refuses a running container
    assert not api.container_store


@pytest.mark.parametrize(("status", "message"), [(404, "No such container: a"), (409, "conflict: in use")])
def test_remove_quietly_is_quiet_about_what_the_engine_refuses(status: int, message: str) -> None:
    api = FakeAPIClient()
    container = _container(api, "a")
    api.refuse("remove_container", "a", status, message)
    assert remove_quietly(container) is False


def test_remove_quietly_is_quiet_about_a_running_container_without_force() -> None:
    api = FakeAPIClient()
    assert remove_quietly(_container(api, "a", running=True)) is False
    assert api.container_store


def test_remove_quietly_lets_other_errors_through() -> None:
    container = _container(FakeAPIClient(), "a")
    with pytest.raises(TypeError):  # docker-py's own refusal of an option it does not know
        remove_quietly(container, forcefully=True)


def test_cleanup_reports_only_what_it_removed(tmp_path: Path) -> None:
    api = FakeAPIClient()
    client = fake_client(api)
    ours = {OWNER_LABEL: PROJECT}
    for name in ("done", "vanished", "busy"):
        _container(api, name, labels=ours)
    _container(api, "theirs")
    api.refuse("remove_container", "vanished", 404, "No such container: vanished")
    api.refuse("remove_container", "busy", 409, "removal of container busy is already in progress")
    client.networks.create("net-in-use", labels=ours)
    client.networks.create("net", labels=ours)
    client.networks.create("theirs-net")
    client.containers.create("x:running", name="endpoint", network="net-in-use").start()  # not ours: stays
    removed = remove_project_objects(client, root=tmp_path)
    assert removed == {"containers": ["done"], "networks": ["net"], "images": [], "cache mounts": []}
    left = {c.name for c in client.containers.list(all=True)}
    assert "done" not in left and {"busy", "theirs", "endpoint"} <= left  # only the book's label is looked for
    assert sorted(n.name for n in client.networks.list()) == ["net-in-use", "theirs-net"]


def test_a_container_of_a_run_is_removed_even_when_the_engine_says_it_is_gone() -> None:
    api = FakeAPIClient()
    api.add_image("x", program=Program(3))
    api.refuse("remove_container", "gone", 404, "No such container: gone")
    outcome = try_run("x", ["true"], client=fake_client(api), name="gone")
    assert (outcome.status, outcome.ok) == (3, False)
