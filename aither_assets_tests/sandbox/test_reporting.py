"""A suite the sandbox stopped reaches the blocking check (and so the UI and GitHub) with its reason."""

from __future__ import annotations

import dagster as dg

from aither_assets.defs.suites.assets import check_result
from aither_assets.suites.markdown import suites_table
from aither_assets.suites.runner import SuiteResult


def _result(name: str, status: str, stopped: str | None, message: str | None) -> SuiteResult:
    return SuiteResult("integration", name, status, None, 1.0, None, None, None, "", "", message, stopped=stopped)


def test_stopped_suites_lead_the_check_description_and_have_their_own_metadata():
    results = [
        _result("service", "error", "oom", "stopped by the sandbox: memory limit of 1024 MiB reached: the kernel "
                                           "killed the process (OOM); no JUnit XML written (exit -9): (no output)"),
        _result("slow", "timeout", "timeout", "suite timed out after 3 s (ran 3.1 s); the sandbox container was "
                                              "stopped"),
        _result("fine", "passed", None, None),
    ]
    check = check_result(dg.AssetKey("integration_tests"), results)
    assert not check.passed
    assert check.description.startswith("stopped by the sandbox: service: out of memory; slow: timed out; ")
    assert "memory limit of 1024 MiB reached" in check.description
    assert check.metadata["stopped_suites"].value == ["service: out of memory", "slow: timed out"]
    assert "memory limit of 1024 MiB reached" in suites_table(results)  # the asset's suite table, and the comment
    assert results[0].to_json()["stopped"] == "oom"
