"""Check 6: security audit of the workflows with zizmor, offline.

Invocation: ``zizmor --offline --no-config --format json --no-progress -- <workflow files>``.

* ``--offline``: no network, and no token is needed (none is passed: see tools.py).
* ``--no-config``: a ``zizmor.yml`` in the PR under review must not be able to switch
  audits off. Inline ``# zizmor: ignore[...]`` comments still apply: they are visible in
  the diff, next to the line they excuse.
* Only the files that passed our own YAML checks are given, one by one: zizmor never
  walks into symlinks or oversized files.
* Findings make zizmor exit 10-14: that is not a failure (``--no-exit-codes`` would hide
  that, but is not in every 1.x release).
"""

from __future__ import annotations

import json
import re

from aither_assets.validation.findings import Finding, make
from aither_assets.validation.policy import Policy
from aither_assets.validation.repo import Repo
from aither_assets.validation.tools import (
    ToolFailure,
    ToolRunner,
    ToolStatus,
    tool_error,
)
from aither_assets.validation.workflow_model import WORKFLOW_DIR, workflow_paths

TOOL = "zizmor"
_FINDING_EXIT_CODES = {0, 10, 11, 12, 13, 14}
_SCHEMA_SKIP = re.compile(r"failed to validate file://(\S+) as (workflow|action)")


def auditable_workflows(repo: Repo) -> list[str]:
    """Workflow files that read and parse: the others are reported by the YAML check."""
    return [rel for rel in workflow_paths(repo) if not isinstance(repo.yaml(rel), Finding)]


def check_security(repo: Repo, runner: ToolRunner, status: ToolStatus, policy: Policy | None = None) -> list[Finding]:
    """zizmor's findings, each blocking (error) or not as ``policy`` says."""
    files = auditable_workflows(repo)
    if not files:
        return []
    if status.path is None or status.version is None:
        why = f"not available ({status.problem}): workflows not audited"
        if status.problem == "disabled by the caller":
            return [make(WORKFLOW_DIR, None, "tool-skipped", "info", f"{TOOL} {why}", tool=TOOL)]
        return [tool_error(TOOL, WORKFLOW_DIR, why)]
    return run_zizmor(runner, status.path, files, policy or Policy())


def run_zizmor(runner: ToolRunner, zizmor: str, files: list[str], policy: Policy) -> list[Finding]:
    argv = [zizmor, "--offline", "--no-config", "--format", "json", "--no-progress", "--", *files]
    try:
        result = runner.run(argv)
    except ToolFailure as exc:
        return [tool_error(TOOL, WORKFLOW_DIR, str(exc))]
    skipped = _schema_skips(result.stderr)
    if result.returncode == 3 and "no inputs collected" in result.stderr and skipped:
        return skipped  # every file was skipped as invalid: nothing else to report
    try:
        report = json.loads(result.stdout) if result.returncode in _FINDING_EXIT_CODES else None
    except ValueError:
        report = None
    if not isinstance(report, list):
        return [tool_error(TOOL, WORKFLOW_DIR, f"exit {result.returncode}, no JSON report", result.stderr)]
    return skipped + [f for item in report if isinstance(item, dict) for f in [_finding(item, policy)] if f]


def _schema_skips(stderr: str) -> list[Finding]:
    """zizmor skips files that do not match the workflow schema; say so instead of staying silent."""
    return [make(path.removeprefix("./"), None, "workflow-schema", "warning",
                 f"does not match the GitHub Actions {kind} schema (zizmor could not audit it)", tool=TOOL)
            for path, kind in _SCHEMA_SKIP.findall(stderr)]


def _finding(item: dict, policy: Policy) -> Finding | None:
    location = _primary_location(item.get("locations"))
    if location is None:
        return None
    symbolic, concrete = location.get("symbolic") or {}, location.get("concrete") or {}
    key = (symbolic.get("key") or {}).get("Local") or {}
    path = str(key.get("verbatim_path") or key.get("given_path") or WORKFLOW_DIR).removeprefix("./")
    row = ((concrete.get("location") or {}).get("start_point") or {}).get("row")
    determinations = item.get("determinations") or {}
    severity = str(determinations.get("severity") or "").lower() or None
    confidence = str(determinations.get("confidence") or "").lower() or None
    audit = str(item.get("ident") or TOOL)
    message = str(item.get("desc") or item.get("ident") or "")
    if symbolic.get("annotation"):
        message += f": {symbolic['annotation']}"
    return make(path, row + 1 if isinstance(row, int) else None, audit, policy.classify(audit, severity, confidence),
                message, tool=TOOL, tool_severity=severity, confidence=confidence)


def _primary_location(locations: object) -> dict | None:
    if not isinstance(locations, list) or not locations:
        return None
    dicts = [loc for loc in locations if isinstance(loc, dict)]
    primary = [loc for loc in dicts if (loc.get("symbolic") or {}).get("kind") == "Primary"]
    return (primary or dicts or [None])[0]
