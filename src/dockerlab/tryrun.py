"""Run a container whose failure is the lesson, and keep what it said.

:func:`dockerlab.examples.run_image` raises when a container fails, which is right for the
book's ordinary steps. Some steps are shown *because* they fail (a scratch image with no CA
bundle, no ``/etc/passwd``, no shell); :func:`try_run` returns the exit status and the output
instead, including the engine's own error when the container could not even start.
Both share one implementation in :mod:`dockerlab.examples`.
"""

from dockerlab.examples import RunOutcome, try_run

__all__ = ["RunOutcome", "try_run"]
