"""The threaded executor on real runs: steps overlap, gates and failures hold, cancellation stops work."""

import dagster as dg
import pytest
from dagster import DagsterEventType, DagsterRunStatus
from dagster._core.test_utils import poll_for_finished_run

from aither_assets.runtime import cancellation
from aither_assets.runtime.procstat import is_dead, stat_fields
from aither_assets_tests.runtime import location as runtime_location
from aither_assets_tests.runtime.support import launch, launcher_instance, runtime_workspace, wait_for


def step_times(instance, run_id: str) -> dict[str, dict[str, float]]:
    """Per step: when it started and when it succeeded/failed (event timestamps)."""
    out: dict[str, dict[str, float]] = {}
    for record in instance.get_records_for_run(run_id).records:
        entry = record.event_log_entry
        event = entry.dagster_event
        if event and event.step_key and event.event_type in (
                DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            out.setdefault(event.step_key, {})[event.event_type.value] = entry.timestamp
    return out


def materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def overlapped(times, a: str, b: str) -> bool:
    return times[a]["STEP_START"] < times[b]["STEP_SUCCESS"] and times[b]["STEP_START"] < times[a]["STEP_SUCCESS"]


def test_independent_steps_run_side_by_side():
    with dg.instance_for_test() as instance:
        result = dg.execute_job(dg.reconstructable(runtime_location.parallel_job), instance=instance)
        assert result.success
        assert materialized(result) == {"root", "left", "right", "gated", "after_gate"}
        times = step_times(instance, result.run_id)
        assert overlapped(times, "left", "right")
        # and the graph's order holds: gated after both, after_gate after gated
        assert times["gated"]["STEP_START"] >= max(times["left"]["STEP_SUCCESS"], times["right"]["STEP_SUCCESS"])
        assert times["after_gate"]["STEP_START"] >= times["gated"]["STEP_SUCCESS"]


def test_a_cancellation_left_from_an_earlier_run_does_not_reach_the_next():
    cancellation.request()  # as a cancelled run would leave it in a long-lived process
    with dg.instance_for_test() as instance:
        result = dg.execute_job(dg.reconstructable(runtime_location.parallel_job), instance=instance)
    assert result.success and not cancellation.requested()


def test_max_concurrent_one_runs_one_step_at_a_time():
    with dg.instance_for_test() as instance:
        result = dg.execute_job(dg.reconstructable(runtime_location.one_at_a_time_job), instance=instance)
        assert result.success
        assert not overlapped(step_times(instance, result.run_id), "left", "right")


def test_a_failed_blocking_check_stops_what_depends_on_it(monkeypatch):
    monkeypatch.setenv("AITHER_TEST_GATE", "fail")
    with dg.instance_for_test() as instance:
        result = dg.execute_job(dg.reconstructable(runtime_location.parallel_job), instance=instance)
        assert not result.success
        assert "after_gate" not in materialized(result)
        checks = [e.asset_check_evaluation_data for e in result.all_events
                  if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION]
        assert [(c.check_name, c.passed) for c in checks] == [("positive", False)]


def test_a_failing_step_fails_the_run_and_its_downstream_never_runs_while_others_finish():
    with dg.instance_for_test() as instance:
        result = dg.execute_job(dg.reconstructable(runtime_location.broken_job), instance=instance)
        assert not result.success
        assert materialized(result) == {"root", "left"}
        times = step_times(instance, result.run_id)
        assert "STEP_FAILURE" in times["broken"] and "after_broken" not in times


@pytest.fixture
def instance():
    with launcher_instance() as instance:
        yield instance


def test_cancelling_a_run_kills_the_subprocess_of_a_step_on_another_thread(instance, tmp_path):
    marker = tmp_path / "child.pid"
    with runtime_workspace(instance) as workspace:
        run_id = launch(instance, workspace, "cancellable_job",
                        {"ops": {"slow_subprocess": {"config": {"marker": str(marker)}}}})
        assert wait_for(lambda: marker.exists() and marker.read_text(), 60), "the step never started its subprocess"
        child = int(marker.read_text())
        assert not is_dead(stat_fields(child))
        assert instance.run_launcher.terminate(run_id)
        # the subprocess sleeps 60 s: the run ends well before that only if the step was told to stop
        run = poll_for_finished_run(instance, run_id, timeout=30)
        assert run.status == DagsterRunStatus.CANCELED
        assert wait_for(lambda: is_dead(stat_fields(child)), 10)
        assert "slow_subprocess" not in {
            r.event_log_entry.dagster_event.asset_key.to_user_string()
            for r in instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records}


def test_a_step_with_one_upstream_skipped_and_one_abandoned_ends_the_run(instance):
    with runtime_workspace(instance) as workspace:
        run_id = launch(instance, workspace, "skip_and_abandon_job")
        try:
            run = poll_for_finished_run(instance, run_id, timeout=60)
        finally:
            instance.run_launcher.terminate(run_id)  # no-op once finished; ends a hung run
        assert run.status == DagsterRunStatus.FAILURE
        skipped = {r.event_log_entry.dagster_event.step_key
                   for r in instance.get_records_for_run(run_id, of_type=DagsterEventType.STEP_SKIPPED).records}
        assert "joins_skip_and_abandon" in skipped
