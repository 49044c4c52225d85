"""try_run: failures are returned, not raised; the container always goes away."""

from __future__ import annotations

from docker.errors import APIError

from dockerlab.ownership import container_labels
from dockerlab.tryrun import RunOutcome, try_run
from tests.unit.fakes import FakeClient, FakeContainer


class RefusedContainer(FakeContainer):
    def start(self) -> None:
        raise APIError("500 Server Error", explanation='unable to find user app:\n no matching entries in passwd file')


def test_a_failing_program_returns_its_status_and_output() -> None:
    container = FakeContainer(status=1, logs=b"x509: certificate signed by unknown authority\n")
    client = FakeClient(container=container)
    outcome = try_run("ch09/https-get:no-ca", ["https://x/"], client=client)
    assert outcome == RunOutcome(1, "x509: certificate signed by unknown authority\n")
    assert not outcome.ok and outcome.started
    assert container.removed


def test_a_container_the_engine_refuses_to_start_gives_the_engine_message() -> None:
    container = RefusedContainer()
    outcome = try_run("ch09/scratch-gaps:bare", client=FakeClient(container=container), user="app")
    assert outcome.status is None and not outcome.started and not outcome.ok
    assert outcome.output == "unable to find user app: no matching entries in passwd file"
    assert container.removed


def test_success_and_the_same_defaults_as_run_image() -> None:
    client = FakeClient()
    outcome = try_run("ch09/hello:latest", client=client, labels={"extra": "1"})
    assert outcome.ok and outcome.output == "hello, scratch!\n"
    created = client.containers.create_kwargs
    assert created["cap_drop"] == ["ALL"]
    assert created["security_opt"] == ["no-new-privileges"]
    assert created["labels"] == container_labels({"extra": "1"})
