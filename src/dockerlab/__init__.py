"""dockerlab: measure real Docker builds for the CH09 executable book.

The notebooks import this package instead of repeating setup code:

>>> from dockerlab import build_example, image_stats, human_size
>>> human_size(1_823_456)
'1.82MB'
"""

from dockerlab.bases import KNOWN_BASES, BaseImage, base_provenance, ensure_base
from dockerlab.engine import docker_client
from dockerlab.errors import BaseImageError, DockerLabError, EngineUnavailable, ExampleBuildError
from dockerlab.examples import BuiltImage, build_example, example_dir, project_root, run_image
from dockerlab.measure import ImageStats, image_stats, layer_rows
from dockerlab.sizes import human_size

__all__ = [
    "DockerLabError",
    "EngineUnavailable",
    "ExampleBuildError",
    "BaseImageError",
    "human_size",
    "docker_client",
    "ImageStats",
    "image_stats",
    "layer_rows",
    "BuiltImage",
    "build_example",
    "run_image",
    "example_dir",
    "project_root",
    "BaseImage",
    "ensure_base",
    "base_provenance",
    "KNOWN_BASES",
]
