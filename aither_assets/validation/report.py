"""Check 7: every check on one checkout, assembled into one report.

:func:`validate_repository` never raises on repository content: each check runs behind a
guard, so even a bug of ours triggered by strange input becomes an ``internal-error``
finding (and the other checks still run).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aither_assets.markdown import md_escape, md_table
from aither_assets.runtime import cancellation
from aither_assets.validation.compose import check_compose
from aither_assets.validation.config import check_pipeline_config
from aither_assets.validation.dockerfile import check_dockerfile
from aither_assets.validation.findings import SEVERITIES, Finding, make
from aither_assets.validation.repo import Repo
from aither_assets.validation.security import check_security
from aither_assets.validation.tools import ToolRunner, probe
from aither_assets.validation.workflows import check_workflows
from aither_assets.validation.yamlfiles import check_yaml_files


@dataclass
class ValidationReport:
    findings: list[Finding]
    #: tool name -> its version, or "not available: <why>"
    tools: dict[str, str] = field(default_factory=dict)
    files_checked: int = 0

    @property
    def counts(self) -> dict[str, int]:
        return {severity: sum(f.severity == severity for f in self.findings) for severity in SEVERITIES}

    @property
    def ok(self) -> bool:
        """No error findings (warnings and info do not block)."""
        return self.counts["error"] == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "counts": self.counts,
            "files_checked": self.files_checked,
            "tools": dict(self.tools),
            "findings": [f.to_json() for f in self.findings],
        }


def validate_repository(
    root: Path,
    *,
    hadolint: str | None = "hadolint",
    zizmor: str | None = "zizmor",
    docker: str | None = "docker",
    timeout: float = 120,
) -> ValidationReport:
    """Validate the checkout at ``root``. A tool name of None disables that tool (noted as info)."""
    repo = Repo(Path(root))
    if not repo.root.is_dir():
        missing = make(".", None, "repository-missing", "error", "the checkout to validate is not a folder")
        return ValidationReport(findings=[missing], tools={}, files_checked=0)
    findings: list[Finding] = []
    runner = ToolRunner(repo.root, timeout)
    statuses = {
        "hadolint": probe(runner, "hadolint", hadolint),
        "zizmor": probe(runner, "zizmor", zizmor),
        "docker compose": probe(runner, "docker compose", docker, ["compose", "version"]),
    }
    config, config_findings = _guarded("pipeline config", lambda: check_pipeline_config(repo), (None, []))
    findings += config_findings
    findings += _guarded("yaml files", lambda: check_yaml_files(repo), [])
    findings += _guarded("workflows", lambda: check_workflows(repo), [])
    findings += _guarded("dockerfile", lambda: check_dockerfile(repo, config, runner, statuses["hadolint"]), [])
    findings += _guarded("compose", lambda: check_compose(repo, config, runner, statuses["docker compose"]), [])
    findings += _guarded("security", lambda: check_security(repo, runner, statuses["zizmor"]), [])
    return ValidationReport(
        findings=sort_findings(findings),
        tools={name: status.label for name, status in statuses.items()},
        files_checked=len(repo.checked),
    )


def _guarded(name: str, check: Callable[[], Any], empty: Any) -> Any:
    """Run one check; a crash of ours becomes a finding instead of losing the whole report."""
    try:
        return check()
    except cancellation.Cancelled:
        raise  # the run is going away: no report
    except Exception as exc:  # noqa: BLE001 - the report must survive any input
        where = traceback.extract_tb(exc.__traceback__)[-1]
        finding = make(".", None, "internal-error", "error",
                       f"{name} check crashed ({type(exc).__name__} at {Path(where.filename).name}:{where.lineno}); "
                       "please report this")
        if isinstance(empty, tuple):
            return (empty[0], [*empty[1], finding])
        return [*empty, finding]


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Errors first, then by file and line; exact duplicates (two checks, one problem) once."""
    return sorted(set(findings), key=Finding.sort_key)


def markdown_table(findings: Iterable[Finding], limit: int = 200) -> str:
    """Findings as a Markdown table; every cell is escaped (paths and messages come from the PR)."""
    findings = list(findings)
    rows = [
        [md_escape(f.file), str(f.line) if f.line else "", md_escape(f.rule), md_escape(f.severity),
         md_escape(f.message)]
        for f in findings[:limit]
    ]
    table = md_table(["file", "line", "rule", "severity", "message"], rows)
    if len(findings) > limit:
        table += f"\n\n{len(findings) - limit} more finding(s) not shown."
    return table
