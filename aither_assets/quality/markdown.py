"""Markdown for the quality report. File names, rules and messages come from the PR: all escaped."""

from __future__ import annotations

from aither_assets.markdown import md_escape, md_table
from aither_assets.quality.findings import SEVERITIES
from aither_assets.quality.linters import QualityReport

MISSING = "—"


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def linters_table(report: QualityReport) -> str:
    """Linter, status, findings (``—`` when its output could not be read), exit code, note."""
    rows = [
        [
            md_escape(s.name),
            md_escape(s.status),
            MISSING if s.findings is None else str(s.findings),
            MISSING if s.exit_code is None else str(s.exit_code),
            md_escape(_short(s.message, 200)) if s.message else "",
        ]
        for s in report.linters.values()
    ]
    return md_table(["Linter", "Status", "Findings", "Exit code", "Note"], rows)


def severity_table(report: QualityReport) -> str:
    counts = report.counts_by_severity
    row = [MISSING if counts is None else str(counts[sev]) for sev in SEVERITIES]
    return md_table([sev.capitalize() for sev in SEVERITIES], [row])


def files_table(report: QualityReport, limit: int = 50) -> str:
    """Per-file counts, most findings first; "" when there are none."""
    items = sorted(report.counts_by_file.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    if not items:
        return ""
    rows = [[md_escape(file or "(no file)"), *(str(c[sev]) for sev in SEVERITIES)] for file, c in items[:limit]]
    table = md_table(["File", *(sev.capitalize() for sev in SEVERITIES)], rows)
    if len(items) > limit:
        table += f"\n\n… and {len(items) - limit} more files."
    return table


def findings_table(report: QualityReport, limit: int = 100) -> str:
    """Findings, errors first; "" when there are none."""
    order = {sev: i for i, sev in enumerate(SEVERITIES)}
    findings = sorted(report.findings, key=lambda f: (order[f.severity], f.file, f.line or 0))
    if not findings:
        return ""
    rows = [
        [
            md_escape(f.severity),
            md_escape(f"{f.file}:{f.line}" if f.line else f.file or "(no file)"),
            md_escape(f.rule),
            md_escape(_short(f.message, 200)),
            md_escape(f.linter),
        ]
        for f in findings[:limit]
    ]
    table = md_table(["Severity", "Location", "Rule", "Message", "Linter"], rows)
    if len(findings) > limit:
        table += f"\n\n… and {len(findings) - limit} more findings."
    return table
