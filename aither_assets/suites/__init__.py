"""Test suites of a PR head: plan them from ``.aither/pipeline.yaml``, run them, read their reports.

Dagster-free: the assets call ``plan_suites`` and ``run_suites`` and publish the results.
"""

from aither_assets.suites.coverage import read_coverage
from aither_assets.suites.plan import Suite, SuitePlan, plan_suites
from aither_assets.suites.reports import (
    CaseResult,
    ReportError,
    TestReport,
    parse_report,
    parse_report_text,
)
from aither_assets.suites.runner import SuiteResult, expand_argv, run_suite, run_suites

__all__ = [
    "CaseResult",
    "ReportError",
    "Suite",
    "SuitePlan",
    "SuiteResult",
    "TestReport",
    "expand_argv",
    "parse_report",
    "parse_report_text",
    "plan_suites",
    "read_coverage",
    "run_suite",
    "run_suites",
]
