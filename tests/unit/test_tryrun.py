"""try_run: failures are returned, not raised; the container always goes away."""

from __future__ import annotations

from dockerlab.ownership import container_labels
from dockerlab.tryrun import RunOutcome, try_run
from tests.unit.fakes import FakeAPIClient, Program, fake_client


def test_a_failing_program_returns_its_status_and_output() -> None:
    api = FakeAPIClient()
    api.add_image("ch09/https-get:no-ca", program=Program(1, b"x509: certificate signed by unknown authority\n"))
    outcome = try_run("ch09/https-get:no-ca", ["https://x/"], client=fake_client(api))
    assert outcome == RunOutcome(1, "x509: certificate signed by unknown authority\n")
    assert not outcome.ok and outcome.started
    assert api.created()[0]["Cmd"] == ["https://x/"]
    assert not api.container_store


def test_a_container_the_engine_refuses_to_start_gives_the_engine_message() -> None:
    api = FakeAPIClient()
    api.add_image("ch09/scratch-gaps:bare",
                  program=Program(start_error="unable to find user app:\n no matching entries in passwd file"))
    outcome = try_run("ch09/scratch-gaps:bare", client=fake_client(api), user="app")
    assert outcome.status is None and not outcome.started and not outcome.ok
    assert outcome.output == "unable to find user app: no matching entries in passwd file"
    assert api.created()[0]["User"] == "app"
    assert not api.container_store


def test_success_and_the_same_defaults_as_run_image() -> None:
    api = FakeAPIClient()
    api.add_image("ch09/hello:latest", program=Program(output=b"hello, scratch!\n"))
    outcome = try_run("ch09/hello:latest", client=fake_client(api), labels={"extra": "1"})
    assert outcome.ok and outcome.output == "hello, scratch!\n"
    created = api.created()[0]
    assert created["HostConfig"]["CapDrop"] == ["ALL"]
    assert created["HostConfig"]["SecurityOpt"] == ["no-new-privileges"]
    assert created["Labels"] == container_labels({"extra": "1"})
