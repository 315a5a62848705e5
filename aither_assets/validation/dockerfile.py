"""Check 4: the Dockerfile, linted by hadolint.

hadolint runs as ``hadolint --format json --no-fail -- <file>`` in the checkout (so the
repository's own ``.hadolint.yaml`` applies, as it would for its developers); ``--no-fail``
means a non-zero exit is a crash, never "found something".
"""

from __future__ import annotations

import json

from aither_assets.config.pipeline import PipelineConfig
from aither_assets.validation.config import referenced_file
from aither_assets.validation.findings import Finding, Severity, make
from aither_assets.validation.repo import Repo
from aither_assets.validation.tools import (
    ToolFailure,
    ToolRunner,
    ToolStatus,
    tool_error,
)

TOOL = "hadolint"
LEVELS: dict[str, Severity] = {"error": "error", "warning": "warning", "info": "info", "style": "info"}


def dockerfile_path(repo: Repo, config: PipelineConfig | None) -> tuple[str | None, list[Finding]]:
    return referenced_file(repo, config, "dockerfile", ("Dockerfile",))


def check_dockerfile(repo: Repo, config: PipelineConfig | None, runner: ToolRunner,
                     status: ToolStatus) -> list[Finding]:
    rel, findings = dockerfile_path(repo, config)
    if rel is None:
        return findings
    problem = repo.open_problem(rel)
    if problem is not None:
        return [*findings, problem]
    repo.checked.add(rel)
    if status.path is None or status.version is None:
        why = f"not available ({status.problem}): Dockerfile not linted"
        if status.problem == "disabled by the caller":
            return [*findings, make(rel, None, "tool-skipped", "info", f"{TOOL} {why}", tool=TOOL)]
        return [*findings, tool_error(TOOL, rel, why)]
    return findings + run_hadolint(runner, status.path, rel)


def run_hadolint(runner: ToolRunner, hadolint: str, rel: str) -> list[Finding]:
    try:
        # `--` : a file named like an option (`-c`) stays a file name.
        result = runner.run([hadolint, "--format", "json", "--no-fail", "--", rel])
    except ToolFailure as exc:
        return [tool_error(TOOL, rel, str(exc))]
    try:
        items = json.loads(result.stdout) if result.returncode == 0 else None
    except ValueError:
        items = None
    if not isinstance(items, list):
        return [tool_error(TOOL, rel, f"exit {result.returncode}, no JSON report", result.stderr or result.stdout)]
    return [_finding(rel, item) for item in items if isinstance(item, dict)]


def _finding(rel: str, item: dict) -> Finding:
    line = item.get("line")
    return make(rel, line if isinstance(line, int) and line > 0 else None, str(item.get("code") or "hadolint"),
                LEVELS.get(str(item.get("level")), "warning"), str(item.get("message") or ""), tool=TOOL)
