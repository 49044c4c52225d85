"""dockerlab: measure real Docker builds for the CH09 executable book.

The notebooks import this package instead of repeating setup code:

>>> from dockerlab import build_example, image_stats, human_size
>>> human_size(1_823_456)
'1.82MB'
"""

from dockerlab.errors import DockerLabError, EngineUnavailable, ExampleBuildError, BaseImageError
from dockerlab.sizes import human_size
from dockerlab.engine import docker_client
from dockerlab.measure import ImageStats, image_stats, layer_rows
from dockerlab.examples import BuiltImage, build_example, run_image, example_dir, project_root
from dockerlab.bases import BaseImage, ensure_base, base_provenance, KNOWN_BASES

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
