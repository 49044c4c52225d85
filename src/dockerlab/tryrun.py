"""Run a container whose failure is the lesson, and keep what it said.

:func:`dockerlab.examples.run_image` raises when a container fails, which is right for the
book's ordinary steps. Some steps are shown *because* they fail (a scratch image with no CA
bundle, no ``/etc/passwd``, no shell); :func:`try_run` returns the exit status and the output
instead, including the engine's own error when the container could not even start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from docker.errors import APIError, NotFound

from dockerlab.examples import PROJECT, PROJECT_LABEL


@dataclass(frozen=True)
class RunOutcome:
    """What one container run ended with."""

    status: int | None  # the exit status; None when the engine refused to start the container
    output: str  # the container's output, or the engine's error message when it did not start

    @property
    def ok(self) -> bool:
        return self.status == 0

    @property
    def started(self) -> bool:
        return self.status is not None


def _engine_message(err: APIError) -> str:
    text = str(getattr(err, "explanation", None) or err)
    return " ".join(text.split())


def try_run(tag: str, command: str | list[str] | None = None, *, client: Any | None = None, **kwargs: Any) -> RunOutcome:
    """Run ``tag`` once, like :func:`~dockerlab.examples.run_image`, but report failure instead of raising.

    Same defaults: no capabilities, no new privileges, the project label, always removed.

    >>> try_run("ch09/hello:latest", ["sh"]).output  # doctest: +SKIP
    'OCI runtime create failed: ... exec: "sh": executable file not found in $PATH: unknown'
    """
    if client is None:
        from dockerlab.engine import docker_client

        client = docker_client()
    kwargs.setdefault("cap_drop", ["ALL"])
    kwargs.setdefault("security_opt", ["no-new-privileges"])
    labels = dict(kwargs.pop("labels", {}) or {})
    labels.setdefault(PROJECT_LABEL, PROJECT)
    container = client.containers.create(tag, command, labels=labels, **kwargs)
    try:
        try:
            container.start()
        except APIError as err:
            return RunOutcome(None, _engine_message(err))
        result = container.wait(timeout=600)
        output = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
        return RunOutcome(int(result.get("StatusCode", 1)), output)
    finally:
        try:
            container.remove(force=True)
        except (APIError, NotFound):
            pass
