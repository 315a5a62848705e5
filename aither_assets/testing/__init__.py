"""Test suites of a PR head: plan them from ``.aither/pipeline.yaml``, run them, read their reports.

Dagster-free: the assets call ``plan_suites`` and ``run_suites`` and publish the results.
"""

from aither_assets.testing.coverage import read_coverage
from aither_assets.testing.process import ProcessResult, minimal_env, run_argv
from aither_assets.testing.reports import (
    CaseResult,
    ReportError,
    TestReport,
    parse_report,
    parse_report_text,
)
from aither_assets.testing.runner import SuiteResult, expand_argv, run_suite, run_suites
from aither_assets.testing.suites import Suite, SuitePlan, plan_suites

__all__ = [
    "CaseResult",
    "ProcessResult",
    "ReportError",
    "Suite",
    "SuitePlan",
    "SuiteResult",
    "TestReport",
    "expand_argv",
    "minimal_env",
    "parse_report",
    "parse_report_text",
    "plan_suites",
    "read_coverage",
    "run_argv",
    "run_suite",
    "run_suites",
]
