"""Stage outcomes from real PR summary entries: figures from the run, never invented."""

from __future__ import annotations

import pytest

from aither_assets.feedback import CONTEXTS, FeedbackLinks, overall_state, stage_outcomes, starting_entry

from .conftest import DOCS_ONLY_PR, DRAFT_PR, FAILING_TEST_PR, SUCCESS_PR, VALIDATION_FAILED_PR


def by_context(outcomes):
    return {o.context: o for o in outcomes}


def test_contexts_are_one_per_stage_in_pipeline_order(entry) -> None:
    assert [o.context for o in stage_outcomes(entry(SUCCESS_PR))] == list(CONTEXTS) == [
        "aither/validation", "aither/build", "aither/quality", "aither/unit-tests", "aither/domain-tests",
        "aither/integration-tests", "aither/image", "aither/environment", "aither/smoke"]


def test_successful_pr_reports_its_real_figures(entry) -> None:
    outcomes = by_context(stage_outcomes(entry(SUCCESS_PR)))
    assert {o.state for o in outcomes.values()} == {"success"}
    assert not any(o.skipped for o in outcomes.values())
    assert outcomes["aither/validation"].description == "0 errors, 0 warnings, 1 info in 5 files"
    assert outcomes["aither/build"].description == "iteration 1, 11 files packaged as .zip + .tar.gz"
    assert outcomes["aither/unit-tests"].description == "69 passed, 0 failed (69 tests, 3 suites, 5.2 s)"
    assert outcomes["aither/integration-tests"].description == "9 passed, 0 failed (9 tests, 1 suite, 2.2 s)"
    assert outcomes["aither/image"].description.startswith("sha256:c33ae0bd")
    assert "5 tags" in outcomes["aither/image"].description
    assert outcomes["aither/environment"].description == "running at http://127.0.0.1:20913 until 2026-11-26 23:33"
    assert outcomes["aither/smoke"].description == "3/3 checks passed"
    assert all(len(o.description) <= 140 for o in outcomes.values())


def test_one_failing_unit_test_fails_that_stage_and_later_stages_did_not_run(entry) -> None:
    outcomes = stage_outcomes(entry(FAILING_TEST_PR))
    states = {o.context: (o.state, o.description) for o in outcomes}
    assert states["aither/unit-tests"] == ("failure", "68 passed, 1 failed (69 tests, 3 suites, 5.6 s)")
    assert states["aither/domain-tests"][0] == states["aither/integration-tests"][0] == "success"
    for context in ("aither/image", "aither/environment", "aither/smoke"):
        assert states[context] == ("error", "not run: an earlier stage failed")
    assert overall_state(outcomes) == "failure"


def test_validation_errors_fail_validation_and_plan_skips_stay_skipped(entry) -> None:
    outcomes = by_context(stage_outcomes(entry(VALIDATION_FAILED_PR)))
    assert (outcomes["aither/validation"].state, outcomes["aither/validation"].description) == (
        "failure", "4 errors, 0 warnings, 1 info in 6 files")
    # The plan skipped the image for a workflow-only change: that is not "an earlier stage failed".
    assert outcomes["aither/image"].skipped and outcomes["aither/image"].state == "success"
    assert outcomes["aither/quality"].description == "skipped: no source, test or config change"


def test_docs_only_pr_skips_with_the_plans_reason(entry) -> None:
    outcomes = by_context(stage_outcomes(entry(DOCS_ONLY_PR)))
    assert outcomes["aither/validation"].state == "success" and not outcomes["aither/validation"].skipped
    for context in CONTEXTS[1:]:
        assert outcomes[context].state == "success" and outcomes[context].skipped, context
    assert outcomes["aither/unit-tests"].description == "skipped: docs-only change"
    # No observation for the image: the reason comes from pr_context's plan table (unescaped).
    assert outcomes["aither/image"].description == "skipped: no source, docker or config change"
    assert outcomes["aither/smoke"].description == "skipped: no environment for this head"


def test_pr_the_sensor_did_not_run_is_pending_with_its_reason(entry) -> None:
    outcomes = stage_outcomes(entry(DRAFT_PR))
    assert {o.state for o in outcomes} == {"pending"}
    assert outcomes[0].description.startswith("not run yet: draft PR")
    assert all(len(o.description) <= 140 for o in outcomes)


def test_run_still_going_is_pending_where_there_is_no_data_yet(entry) -> None:
    running = entry(SUCCESS_PR)
    running["run_status"] = "STARTED"
    for asset in ("container_image", "pr_environment", "smoke_report"):
        running["assets"][asset] = {"status": "NOT_MATERIALIZED", "metadata": {}}
    running["checks"].pop("smoke_report:smoke_passed")
    outcomes = by_context(stage_outcomes(running))
    assert outcomes["aither/unit-tests"].state == "success"
    assert [outcomes[c].state for c in ("aither/image", "aither/environment", "aither/smoke")] == ["pending"] * 3
    assert outcomes["aither/image"].description == "in progress"
    assert overall_state(list(outcomes.values())) == "pending"


def test_queued_run_and_crashed_step(entry) -> None:
    queued = entry(SUCCESS_PR)
    queued["run_status"], queued["assets"], queued["checks"] = "QUEUED", {}, {}
    assert {o.description for o in stage_outcomes(queued)} == {"queued: the run has not started"}

    crashed = entry(SUCCESS_PR)
    crashed["run_status"] = "FAILURE"
    for asset in ("build_artifacts", "container_image", "pr_environment", "smoke_report"):
        crashed["assets"][asset] = {"status": "NOT_MATERIALIZED", "metadata": {}}
    crashed["failures"] = ["build_artifacts: OSError: [Errno 28] No space left on device\nTraceback..."]
    outcomes = by_context(stage_outcomes(crashed))
    assert (outcomes["aither/build"].state, outcomes["aither/build"].description) == (
        "error", "failed: OSError: [Errno 28] No space left on device")
    assert outcomes["aither/image"].description == "not run: an earlier stage failed"


def test_missing_counts_are_missing_not_zero(entry) -> None:
    broken = entry(SUCCESS_PR)
    for key in ("tests", "passed", "failed", "errors", "skipped"):
        broken["assets"]["unit_tests"]["metadata"].pop(key)
    broken["checks"]["unit_tests:all_tests_passed"] = "FAILED"
    broken["check_details"]["unit_tests:all_tests_passed"]["suite_problems"] = ["0000-0099: timeout"]
    unit = by_context(stage_outcomes(broken))["aither/unit-tests"]
    assert unit.state == "failure"
    assert "0 passed" not in unit.description and "missing" in unit.description
    assert "0000-0099: timeout" in unit.description


def test_result_of_another_head_is_not_this_heads_result(entry) -> None:
    stale = entry(SUCCESS_PR)
    stale["run_status"] = "STARTED"
    stale["assets"]["container_image"]["metadata"]["head_sha"] = "0" * 40
    assert by_context(stage_outcomes(stale))["aither/image"].state == "pending"


@pytest.mark.parametrize("links, expected", [
    (FeedbackLinks.for_dagster("http://dagster.local:3000/", {"run_id": "r-1"}),
     "http://dagster.local:3000/assets/unit_tests?view=partitions&partition=1"),
    ({"run": "https://dagster.example/runs/r-1"}, "https://dagster.example/runs/r-1"),
    ({"run": "javascript:alert(1)", "dashboard": "https://pages.example/pr-1/"}, "https://pages.example/pr-1/"),
    (None, None),
])
def test_target_url_is_an_http_link_or_nothing(entry, links, expected) -> None:
    unit = by_context(stage_outcomes(entry(SUCCESS_PR), links))["aither/unit-tests"]
    assert unit.target_url == expected


def test_a_run_that_just_started_shows_every_planned_stage_pending_and_skips_as_skipped() -> None:
    context = {
        "number": 7, "title": "Fix <b>it</b>", "author": "dev", "url": "http://gh/pr/7", "head_sha": "a" * 40,
        "base_ref": "dev", "ring": "dev",
        "plan": {stage: {"run": stage not in ("image", "environment", "smoke"), "reason": "docs-only change"}
                 for stage in ("build", "quality", "tests", "image", "environment", "smoke")},
    }
    outcomes = by_context(stage_outcomes(starting_entry(context, "run-1"), FeedbackLinks(run="http://dagster/runs/run-1")))
    assert {c: o.state for c, o in outcomes.items() if not o.skipped} == {
        c: "pending" for c in ("aither/validation", "aither/build", "aither/quality", "aither/unit-tests",
                               "aither/domain-tests", "aither/integration-tests")}
    skipped = {c: o.description for c, o in outcomes.items() if o.skipped}
    assert skipped == {c: "skipped: docs-only change" for c in ("aither/image", "aither/environment", "aither/smoke")}
    assert overall_state(list(outcomes.values())) == "pending"


def test_a_suite_the_sandbox_stopped_says_so_first_in_the_status(entry) -> None:
    broken = entry(SUCCESS_PR)
    for key in ("tests", "passed", "failed", "errors", "skipped"):
        broken["assets"]["unit_tests"]["metadata"].pop(key)
    broken["checks"]["unit_tests:all_tests_passed"] = "FAILED"
    details = broken["check_details"]["unit_tests:all_tests_passed"]
    details["suite_problems"] = ["0000-0099: error (stopped by the sandbox: memory limit of 1024 MiB reached: ...)"]
    details["stopped_suites"] = ["0000-0099: out of memory"]
    unit = by_context(stage_outcomes(broken))["aither/unit-tests"]
    assert unit.state == "failure"
    assert unit.description.startswith("stopped by the sandbox: 0000-0099: out of memory; counts missing")
    assert len(unit.description) <= 140
