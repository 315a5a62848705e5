"""Report on a pipeline run that could not report on itself.

A run whose stages all succeed publishes its dashboard and feedback in its last steps, and
pr_context marks every stage pending when a run starts. A run that fails, or skips a stage
(the report steps are then skipped too), gets a report run when it ends.
"""

import os

import dagster as dg

from aither_assets.defs.prs.jobs import pr_pipeline_job
from aither_assets.reporting.summary import reported_in_run
from aither_assets.runs.tags import PR_TAG, REPORT_PR_TAG, REPORTED_RUN_TAG

pr_report_job = dg.define_asset_job(
    name="pr_report",
    selection=dg.AssetSelection.groups("pr_report"),
    executor_def=dg.in_process_executor,
    description="Dashboard page and GitHub feedback for the latest pipeline run of one PR.",
)


def report_interval() -> int:
    """Seconds between ticks of the report sensors. Short by default, unlike the PR sensor's poll: a
    failed run's feedback waits for it, and a tick reads only the instance, never GitHub."""
    return int(os.environ.get("AITHER_REPORT_SENSOR_INTERVAL_SECONDS", "5"))


def _report(context: dg.RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
    run = context.dagster_run
    if reported_in_run(context.instance, run.run_id):
        return dg.SkipReason(f"run {run.run_id} published its own dashboard and feedback")
    return dg.RunRequest(
        run_key=f"report:{run.run_id}",
        partition_key=run.tags[PR_TAG],
        # Not the pipeline's per-PR tag: a report must not wait for the run it reports on.
        tags={REPORT_PR_TAG: run.tags[PR_TAG], REPORTED_RUN_TAG: run.run_id},
    )


def _sensor(status: dg.DagsterRunStatus, name: str):
    @dg.run_status_sensor(
        name=f"report_on_{name}",
        run_status=status,
        monitored_jobs=[pr_pipeline_job],
        request_job=pr_report_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=report_interval(),
        description=f"Publishes the dashboard and GitHub feedback when a PR pipeline run reaches {name}.",
    )
    def sensor(context: dg.RunStatusSensorContext):
        return _report(context)

    return sensor


report_on_success = _sensor(dg.DagsterRunStatus.SUCCESS, "success")
report_on_failure = _sensor(dg.DagsterRunStatus.FAILURE, "failure")
