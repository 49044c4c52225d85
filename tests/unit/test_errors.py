"""Every error class lives in dockerlab.errors and stays importable from the module that raises it."""

import importlib

import pytest

from dockerlab import errors

RAISED_BY = {
    "coldnode": "ColdNodeError",
    "efficiency": "EfficiencyError",
    "imagefs": "ImageFsError",
    "locking": "CheckoutBusy",
    "netshape": "NetworkShapingError",
    "notebooks": "NotebookError",
    "registry": "RegistryError",
    "rehearsal": "RehearsalError",
    "reproducible": "ReproducibleError",
    "service": "ServiceNotReady",
    "sphinxext": "FrontMatterError",
    "tlslab": "TlsLabError",
}


@pytest.mark.parametrize(("module", "name"), sorted(RAISED_BY.items()))
def test_an_error_is_the_same_class_from_its_old_module(module: str, name: str) -> None:
    assert getattr(importlib.import_module(f"dockerlab.{module}"), name) is getattr(errors, name)


def test_every_class_in_errors_is_an_exception_with_one_sentence_of_doc() -> None:
    classes = [value for value in vars(errors).values() if isinstance(value, type)]
    assert {cls.__name__ for cls in classes} >= set(RAISED_BY.values()) | {"DockerLabError", "EngineUnavailable"}
    for cls in classes:
        assert issubclass(cls, Exception) and cls.__doc__, cls
    # Kept as they were: the rehearsal's error is a RuntimeError, a front matter error a ValueError.
    assert not issubclass(errors.RehearsalError, errors.DockerLabError)
    assert issubclass(errors.FrontMatterError, ValueError)
