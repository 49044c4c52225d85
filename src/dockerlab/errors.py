"""Errors that carry one clear sentence for the reader."""


class DockerLabError(RuntimeError):
    """Base class: ``str(err)`` is one sentence saying what failed and what to do."""


class EngineUnavailable(DockerLabError):
    """No Docker engine answers."""


class ExampleBuildError(DockerLabError):
    """``docker build`` of an example failed; the message names the example and docker's own words."""


class BaseImageError(DockerLabError):
    """A base image could be neither pulled nor bootstrapped."""


class RegistryUnavailable(DockerLabError):
    """A container registry does not answer."""


class ColdNodeError(DockerLabError):
    """The second engine could not be started, used or removed."""


class EfficiencyError(DockerLabError):
    """An image's layers could not be read for the efficiency analysis."""


class ImageFsError(DockerLabError):
    """A path could not be read from an image."""


class CheckoutBusy(DockerLabError):
    """Another run holds this checkout's ``_build``."""


class NetworkShapingError(DockerLabError):
    """The shaped network path could not be made."""


class NotebookError(DockerLabError):
    """A chapter failed when run as a notebook.

    ``cell_error`` is the cell's own error (``ExampleBuildError: examples/x: ...``) and ``report`` the full
    traceback, when a cell failed; both are empty for other faults.
    """

    def __init__(self, message: str, *, cell_error: str = "", report: str = "") -> None:
        super().__init__(message)
        self.cell_error = cell_error
        self.report = report


class RegistryError(DockerLabError):
    """A push to, or a read from, the local registry failed."""


class RehearsalError(RuntimeError):
    """The rehearsal could not be set up, or a step failed; the message is one sentence."""


class ReproducibleError(DockerLabError):
    """An archive could not be read, or a build for the comparison failed."""


class ServiceNotReady(DockerLabError):
    """A service container did not answer its health check in time, or exited first."""


class FrontMatterError(ValueError):
    """A page's front matter or its ``depends:`` list cannot be read; the message is one sentence."""


class TlsLabError(DockerLabError):
    """The TLS lab could not make its certificates or start its server."""


class LabError(DockerLabError):
    """A lab container (where a non-root reader's root steps run) could not be built, started or used."""
