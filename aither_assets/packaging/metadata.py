"""build-metadata.json: what was built, from what, by what, and where its page will be."""

from __future__ import annotations

import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata as importlib_metadata
from typing import Any

from aither_assets.packaging.package import Artifact
from aither_assets.workspace import Commit


def tool_versions() -> dict[str, str]:
    def version(dist: str) -> str:
        try:
            return importlib_metadata.version(dist)
        except importlib_metadata.PackageNotFoundError:
            return "not installed"

    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    return {"python": platform.python_version(), "git": git.removeprefix("git version "),
            "aither-assets": version("aither-assets"), "dagster": version("dagster")}


def build_metadata(pr: dict[str, Any], commit: Commit, iteration: int, artifacts: list[Artifact],
                   pages: dict[str, str], built_at: datetime | None = None) -> dict[str, Any]:
    """The document written next to the archives (``pr`` is pr_context's value)."""
    return {
        "schema": "aither.build-metadata/v1",
        "pr": {key: pr[key] for key in ("number", "title", "author", "base_ref", "head_ref", "base_sha", "url")}
        | {"head_sha": pr["head_sha"]},
        "git": {"commit": commit.sha, "message": commit.message, "author": commit.author, "date": commit.date},
        "build": {
            "iteration": iteration,
            "timestamp": (built_at or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
            "tools": tool_versions(),
        },
        "environment": {"ring": pr.get("ring")},
        "artifacts": [{"name": a.name, "size": a.size, "sha256": a.sha256} for a in artifacts],
        "pages": pages,
    }
