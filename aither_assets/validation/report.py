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

from aither_assets.config.pipeline import PIPELINE_PATH
from aither_assets.config.validation import OperatorValidationConfig
from aither_assets.markdown import md_escape, md_table
from aither_assets.runtime import cancellation
from aither_assets.validation.compose import check_compose
from aither_assets.validation.config import check_pipeline_config, config_line
from aither_assets.validation.dockerfile import check_dockerfile
from aither_assets.validation.findings import SEVERITIES, Finding, make
from aither_assets.validation.policy import Policy, effective_policy
from aither_assets.validation.repo import Repo
from aither_assets.validation.security import check_security
from aither_assets.validation.tools import ToolRunner, probe, tool_path
from aither_assets.validation.workflows import check_workflows
from aither_assets.validation.yamlfiles import check_yaml_files


@dataclass
class ValidationReport:
    findings: list[Finding]
    #: tool name -> its version, or "not available: <why>"
    tools: dict[str, str] = field(default_factory=dict)
    files_checked: int = 0
    policy: Policy = field(default_factory=Policy)

    @property
    def counts(self) -> dict[str, int]:
        return {severity: sum(f.severity == severity for f in self.findings) for severity in SEVERITIES}

    @property
    def counts_by_tool(self) -> dict[str, dict[str, int]]:
        """Severity counts per tool that reported something (aither, zizmor, hadolint, ...)."""
        out: dict[str, dict[str, int]] = {}
        for f in self.findings:
            out.setdefault(f.tool, dict.fromkeys(SEVERITIES, 0))[f.severity] += 1
        return dict(sorted(out.items()))

    @property
    def ok(self) -> bool:
        """No error findings (warnings and info do not block)."""
        return self.counts["error"] == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "counts": self.counts,
            "counts_by_tool": self.counts_by_tool,
            "policy": {"default_permissions": self.policy.default_permissions,
                       "block_severity": self.policy.block_severity, "block_confidence": self.policy.block_confidence,
                       "block": sorted(self.policy.block), "warn": sorted(self.policy.warn)},
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
    operator: OperatorValidationConfig | None = None,
) -> ValidationReport:
    """Validate the checkout at ``root``. A tool name of None disables that tool (noted as info).

    ``operator`` is the operator config's ``validation:`` section; with the repo config's own
    section it makes the :class:`Policy` (which security findings block, the token default).
    """
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
    policy = effective_policy(operator, config.validation if config is not None else None)
    findings += [make(PIPELINE_PATH, config_line(repo, "validation", name), "validation-policy", "info", note)
                 for name, note in policy.notes]
    findings += _guarded("yaml files", lambda: check_yaml_files(repo), [])
    findings += _guarded("workflows", lambda: check_workflows(repo, policy.default_permissions), [])
    findings += _guarded("dockerfile", lambda: check_dockerfile(repo, config, runner, statuses["hadolint"]), [])
    findings += _guarded("compose", lambda: check_compose(repo, config, runner, statuses["docker compose"]), [])
    findings += _guarded("security", lambda: check_security(repo, runner, statuses["zizmor"], policy), [])
    return ValidationReport(
        findings=sort_findings(findings),
        tools={name: status.label for name, status in statuses.items()},
        files_checked=len(repo.checked),
        policy=policy,
    )


def validate_checkout(root: Path, operator: OperatorValidationConfig | None = None) -> ValidationReport:
    """The validation stage as the pipeline runs it (the asset and ``aither validate --repo``): every tool on."""
    return validate_repository(root, hadolint=tool_path("hadolint"), zizmor=tool_path("zizmor"),
                               docker=tool_path("docker"), operator=operator)


def blocking(report: ValidationReport) -> list[Finding]:
    """The findings that block the deploy: errors."""
    return [f for f in report.findings if f.severity == "error"]


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


def text_table(report: ValidationReport) -> str:
    """The findings as aligned text for a terminal, then the counts per tool and the verdict."""
    rows = [(f"{f.file}:{f.line}" if f.line else f.file, f.severity, f.rule, f.tool, f.message)
            for f in report.findings]
    header = ("where", "severity", "rule", "tool", "message")
    widths = [max([len(header[i]), *(len(r[i]) for r in rows)]) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row)).rstrip()
             for row in [header, *rows]] if rows else ["no findings"]
    per_tool = "; ".join(f"{tool}: " + ", ".join(f"{n} {sev}" for sev, n in counts.items())
                         for tool, counts in report.counts_by_tool.items()) or "none"
    errors = len(blocking(report))
    verdict = f"{errors} blocking finding(s)" if errors else "no blocking finding"
    p = report.policy
    policy = (f"policy: security findings block at {p.block_severity} severity and {p.block_confidence} confidence"
              + (f"; always block: {', '.join(sorted(p.block))}" if p.block else "")
              + (f"; warn only: {', '.join(sorted(p.warn))}" if p.warn else "")
              + f"; GITHUB_TOKEN default: {p.default_permissions}")
    return "\n".join([*lines, "", f"findings per tool: {per_tool}", policy, verdict])
