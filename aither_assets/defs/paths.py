"""Where a run keeps what it produces for one PR head (the artifact store, keyed by PR and SHA)."""

from pathlib import Path

from aither_assets.config.operator import OperatorConfig
from aither_assets.prs.context import PRContext


def head_dir(operator: OperatorConfig, pr: PRContext, *parts: str) -> Path:
    path = operator.storage.artifacts / f"pr-{int(pr.number)}" / pr.head_sha
    for part in parts:
        path = path / part
    path.mkdir(parents=True, exist_ok=True)
    return path
