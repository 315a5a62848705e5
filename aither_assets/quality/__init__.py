"""Linters of a PR head: run the repo's configured linters and collect findings by severity and file.

Dagster-free; processes are started by ``aither_assets.runtime.prcommand.run_argv``.
"""

from aither_assets.quality.findings import (
    RUFF_SEVERITY,
    FindingsError,
    LintFinding,
    parse_findings,
    parse_junit_findings,
    parse_ruff_json,
    parse_sarif,
    ruff_severity,
)
from aither_assets.quality.linters import (
    LinterStatus,
    QualityReport,
    run_linter,
    run_linters,
)

__all__ = [
    "RUFF_SEVERITY",
    "FindingsError",
    "LintFinding",
    "LinterStatus",
    "QualityReport",
    "parse_findings",
    "parse_junit_findings",
    "parse_ruff_json",
    "parse_sarif",
    "ruff_severity",
    "run_linter",
    "run_linters",
]
