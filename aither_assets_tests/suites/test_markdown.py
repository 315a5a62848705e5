"""Markdown helpers escape every PR-controlled string and show missing numbers as missing."""

from __future__ import annotations

from aither_assets.suites.markdown import (
    MISSING,
    coverage_gaps,
    failures_table,
    suites_table,
)
from aither_assets.suites.plan import Suite, SuitePlan
from aither_assets.suites.reports import CaseResult, TestReport
from aither_assets.suites.runner import SuiteResult

EVIL = "<img src=x onerror=alert(1)> | `x` [link](http://evil)"


def result(name, status, report=None, message=None, **fields):
    values = {"duration_seconds": None, "exit_code": None, "coverage_percent": None, "junit_path": None,
              "stdout_tail": "", "stderr_tail": ""}
    values.update(fields)
    return SuiteResult("domain", name, status, report, message=message, **values)


def test_tables_escape_names_and_messages():
    case = CaseResult(EVIL, f"test_{EVIL}", None, "failed", 0.1, f"assert {EVIL}\nsecond line")
    report = TestReport.from_cases([case, CaseResult("c", "ok", None, "passed", 0.2)], None, "junit")
    results = [result(f"sec-{EVIL}", "failed", report, message=EVIL, duration_seconds=1.5, exit_code=1,
                      coverage_percent=81.234)]
    for text in (suites_table(results), failures_table(results)):
        assert "<img" not in text and "[link](" not in text and "`x`" not in text
        assert "&lt;img" in text
        lines = text.splitlines()
        assert len(lines) == 3  # header, separator, one row: the newline in the message did not leak
        assert lines[2].count(" | ") == lines[0].count(" | ")  # and no "|" opened an extra cell
    table = suites_table(results)
    assert "| 2 | 1 | 1 | 0 | 0 | 1.5 s | 81.2 % |" in table


def test_missing_numbers_are_shown_as_missing_not_zero():
    results = [result("crash", "error", message="suite exited 2 without writing JUnit XML: boom")]
    row = suites_table(results).splitlines()[-1]
    assert row.count(MISSING) == 7  # tests, passed, failed, errors, skipped, duration, coverage
    assert " 0 " not in row
    assert failures_table(results) == ""


def test_coverage_gaps_lists_uncovered_files_and_empty_suites():
    plan = SuitePlan(
        suites=(Suite("unit", "0300-0399", (), ("x", "{junit}"), 1),),
        uncovered=("tests/unit/0350_test_x.py", f"tests/{EVIL}.py"),
    )
    text = coverage_gaps(plan)
    assert "tests/unit/0350\\_test\\_x\\.py" in text
    assert "<img" not in text
    assert "0300\\-0399" in text
    assert coverage_gaps(SuitePlan(suites=(), uncovered=())) == ""
