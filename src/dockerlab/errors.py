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
