"""Markdown for suite results (Dagster metadata, the sticky PR comment).

Suite names, test names, file paths and messages come from the PR: every one goes
through ``md_escape``. Missing numbers show as ``—``, never as 0.
"""

from __future__ import annotations

from collections.abc import Sequence

from aither_assets.markdown import md_escape, md_table
from aither_assets.suites.plan import SuitePlan
from aither_assets.suites.runner import SuiteResult

MISSING = "—"
_STATUS = {"passed": "✅ passed", "failed": "❌ failed", "error": "⚠️ error", "timeout": "⏱️ timeout", "empty": "∅ empty"}


def _count(value: int | None) -> str:
    return MISSING if value is None else str(value)


def _seconds(value: float | None) -> str:
    return MISSING if value is None else f"{value:.1f} s"


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def suites_table(results: Sequence[SuiteResult]) -> str:
    """One row per suite: status, counts, duration, coverage (``—`` where there is no report)."""
    rows = []
    for r in results:
        rep = r.report
        rows.append([
            md_escape(r.name),
            md_escape(r.kind),
            _STATUS.get(r.status, md_escape(r.status)),
            _count(rep.tests if rep else None),
            _count(rep.passed if rep else None),
            _count(rep.failed if rep else None),
            _count(rep.errors if rep else None),
            _count(rep.skipped if rep else None),
            _seconds(r.duration_seconds),
            MISSING if r.coverage_percent is None else f"{r.coverage_percent:.1f} %",
            md_escape(_short(r.message, 200)) if r.message and r.status != "passed" else "",
        ])
    headers = ["Suite", "Kind", "Status", "Tests", "Passed", "Failed", "Errors", "Skipped",
               "Duration", "Coverage", "Note"]
    return md_table(headers, rows)


def failures_table(results: Sequence[SuiteResult], limit: int = 50, message_chars: int = 200) -> str:
    """Failing tests (suite, test id, message), at most ``limit`` rows; "" when nothing failed."""
    rows = [
        [md_escape(r.name), md_escape(test), md_escape(_short(message, message_chars))]
        for r in results
        for test, message in r.failures()
    ]
    if not rows:
        return ""
    table = md_table(["Suite", "Test", "Message"], rows[:limit])
    if len(rows) > limit:
        table += f"\n\n… and {len(rows) - limit} more failing tests."
    return table


def coverage_gaps(plan: SuitePlan, limit: int = 50) -> str:
    """Test files no suite covers and suites with no files, as a Markdown list; "" when there are none."""
    lines = []
    if plan.uncovered:
        lines.append(f"**{len(plan.uncovered)} test files are in no suite** (they were not run):")
        lines += [f"- {md_escape(path)}" for path in plan.uncovered[:limit]]
        if len(plan.uncovered) > limit:
            lines.append(f"- … and {len(plan.uncovered) - limit} more")
    if plan.empty:
        if lines:
            lines.append("")
        lines.append("**Suites with no test files:** " + ", ".join(md_escape(s.name) for s in plan.empty))
    return "\n".join(lines)
