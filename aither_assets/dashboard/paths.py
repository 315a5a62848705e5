"""Where each page lives in the pages folder / gh-pages branch (relative paths, forward slashes)."""

from __future__ import annotations

from ..workspace import safe_name

INDEX = "index.html"


def pr_path(number: int) -> str:
    return f"pr-{int(number)}/index.html"


def ring_path(ring: str) -> str:
    """``rings/<ring>.html`` with the ring name made one safe path component (hashed if it had to change)."""
    return f"rings/{safe_name(str(ring), limit=60)}.html"
