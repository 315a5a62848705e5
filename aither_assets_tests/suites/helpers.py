"""Helpers for the testing/quality tests: small repos in tmp_path, process liveness."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
import time
from pathlib import Path

from aither_assets.config.pipeline import TestsConfig
from aither_assets.runtime.procstat import is_dead, stat_fields

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "sample-app"
VARIANTS = REPO / "examples" / "sample-app-variants"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", "*.xml")

PYTEST = ["python", "-m", "pytest", "-q", "--junitxml={junit}", "{files}"]
PYTEST_INI = """\
[pytest]
addopts = -p no:cacheprovider --import-mode=importlib
python_files = test_*.py [0-9][0-9][0-9][0-9]_*.py
"""


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path -> text, dedented) under ``root``; returns ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def pytest_repo(root: Path, files: dict[str, str]) -> Path:
    """A tiny repo whose suites run with pytest (rootdir pinned by its own pytest.ini)."""
    return write_tree(root, {"pytest.ini": PYTEST_INI, **files})


def suite_config(**fields) -> TestsConfig:
    return TestsConfig(**{"command": PYTEST, "timeout_seconds": 60, **fields})


def copy_sample(target: Path, variant: str | None = None) -> Path:
    """A copy of the sample app (optionally with a variant's files laid over it)."""
    shutil.copytree(SAMPLE, target, ignore=IGNORED, symlinks=True)
    if variant:
        source = VARIANTS / variant
        for path in source.rglob("*"):
            if path.is_file() and path.name != "VARIANT.md":
                dest = target / path.relative_to(source)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)
    return target


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process."""
    if Path("/proc/self").exists():
        return not is_dead(stat_fields(pid))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_dead(pids: list[int], seconds: float = 3.0) -> list[int]:
    """The pids still alive after up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        left = [pid for pid in pids if alive(pid)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


VENV_BIN = str(Path(sys.executable).parent)
