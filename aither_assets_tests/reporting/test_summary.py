"""history(): one point per finished run, computed once from the event log and then reused."""

import dagster as dg
from dagster._core.test_utils import create_run_for_test

from aither_assets.reporting.summary import history
from aither_assets.runs.tags import HEAD_SHA_TAG, PR_TAG


def make_run(instance, number: int, sha: str, status: dg.DagsterRunStatus) -> str:
    run = create_run_for_test(instance, job_name="pr_pipeline", tags={PR_TAG: str(number), HEAD_SHA_TAG: sha},
                              status=status)
    return run.run_id


def test_finished_points_are_reused_provisional_and_new_ones_are_read():
    with dg.instance_for_test() as instance:
        done = make_run(instance, 5, "a" * 40, dg.DagsterRunStatus.SUCCESS)
        was_current = make_run(instance, 5, "b" * 40, dg.DagsterRunStatus.FAILURE)
        running = make_run(instance, 5, "c" * 40, dg.DagsterRunStatus.STARTED)
        make_run(instance, 6, "d" * 40, dg.DagsterRunStatus.SUCCESS)  # another PR

        first = history(instance, 5, current=(running, "SUCCESS"))
        assert [p["run_id"] for p in first] == [done, was_current, running]
        assert first[2]["provisional"] is True and first[2]["run_status"] == "SUCCESS"
        assert "provisional" not in first[0]
        # nothing in the event log: figures are missing, not zero
        assert first[0]["tests_passed"] is None and first[0]["iteration"] is None

        # A stored point of a finished run is taken as it is; a provisional one is read again.
        known = {done: first[0] | {"tests_passed": 69}, was_current: first[1] | {"provisional": True, "tests_passed": 1}}
        again = history(instance, 5, known=known)
        assert [p["run_id"] for p in again] == [done, was_current]  # the running one has no point yet
        assert again[0]["tests_passed"] == 69
        assert again[1]["tests_passed"] is None and "provisional" not in again[1]
        assert again[1]["run_status"] == "FAILURE"

        # Assets already read for a run (the reported run's entry) are used as they are.
        build = {"build_artifacts": {"status": "MATERIALIZED", "metadata": {"iteration": 3}}}
        given = history(instance, 5, outcomes={was_current: build})
        assert [p["iteration"] for p in given] == [None, 3]
