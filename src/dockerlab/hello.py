"""The notes' ``hello`` program: compile ``examples/hello/hello.go`` and build ``ch09/hello`` from it.

Every page that needs the scratch + static Go ``hello`` image uses these two functions, so
the image is built the same way everywhere:

>>> hello = build_hello()  # doctest: +SKIP
>>> hello.image.stats.human, hello.go.static  # doctest: +SKIP
('1.82MB', True)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dockerlab.examples import BuiltImage, build_example
from dockerlab.gobuild import GoBuild, go_build

#: The example folder and the tag the notes use.
HELLO_EXAMPLE = "hello"
HELLO_TAG = "ch09/hello:latest"


def compile_hello(context: Path) -> GoBuild:
    """Compile ``hello.go`` in a staged build context, as the notes do (``GOOS=linux GOARCH=amd64 go build hello.go``).

    Use it as ``build_example``'s ``prepare`` step; it returns where and with which Go the
    binary was made, and whether it is static (it must be, to run in ``scratch``).

    >>> compile_hello(stage_context("hello")).static  # doctest: +SKIP
    True
    """
    return go_build(context, ["hello.go"], "hello")


@dataclass(frozen=True)
class HelloImage:
    """The built ``ch09/hello`` image and how its binary was compiled."""

    image: BuiltImage
    go: GoBuild


def build_hello(tag: str = HELLO_TAG, *, client: Any | None = None) -> HelloImage:
    """Build ``examples/hello`` (scratch + the compiled ``hello``) as ``tag`` and measure it.

    >>> build_hello().image.stats.layers  # doctest: +SKIP
    1
    """
    compiled: list[GoBuild] = []
    image = build_example(HELLO_EXAMPLE, tag, prepare=lambda context: compiled.append(compile_hello(context)),
                          client=client)
    return HelloImage(image=image, go=compiled[0])
