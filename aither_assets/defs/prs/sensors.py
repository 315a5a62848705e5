"""The PR sensor: watches GitHub and requests a run for every new head commit."""

import os
import time

import dagster as dg

from aither_assets.defs.prs.assets import pr_context
from aither_assets.defs.prs.jobs import pr_pipeline_job
from aither_assets.defs.prs.partitions import PR_PARTITIONS_NAME, pr_partitions
from aither_assets.defs.prs.tags import BASE_REF_TAG, DEPLOYING_TAG, FORK_APPROVAL_TAG, HEAD_SHA_TAG, PR_TAG, tag_safe
from aither_assets.defs.resources import AitherConfig, GitHubResource
from aither_assets.feedback import publish_approval_states
from aither_assets.github.client import GitHubRateLimited
from aither_assets.prs.polling import PollCursor
from aither_assets.prs.tick import TickDecision, decide_tick

_IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def sensor_interval() -> int:
    """Seconds between ticks of the PR sensor and the run-status sensors (the demo uses 2)."""
    return int(os.environ.get("AITHER_SENSOR_INTERVAL_SECONDS", "30"))


@dg.sensor(
    job=pr_pipeline_job,
    minimum_interval_seconds=sensor_interval(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Polls the repository's pull requests; one run per new head SHA.",
)
def pull_request_sensor(
    context: dg.SensorEvaluationContext, github: GitHubResource, aither_config: AitherConfig
) -> dg.SensorResult | dg.SkipReason:
    client = github.client()
    try:
        decision = decide_tick(client, aither_config.operator,
                               PollCursor.from_json(context.cursor), time.time(),
                               approval_used_by=lambda pr, stamp: approval_used_by(context.instance, pr, stamp))
    except GitHubRateLimited as exc:
        return dg.SkipReason(f"GitHub rate limit: {exc}")
    new_keys, cancelled = [], 0
    if decision.seen:  # an unchanged poll needs no partition lookup or cancel check
        known = set(context.instance.get_dynamic_partitions(PR_PARTITIONS_NAME))
        new_keys = sorted({pr.partition_key for pr in decision.seen} - known, key=int)
        cancelled = supersede_older_runs(context, decision)
    for error in publish_approval_states(
        client,
        waiting=[(pr.head_sha, why) for pr, why in decision.awaiting_approval],
        approved=[(pr.head_sha, decision.approved_by[pr.number]) for pr in decision.to_run
                  if pr.number in decision.approved_by],
    ):
        context.log.warning(error)
    context.log.info(
        f"{decision.requests} GitHub request(s); {len(decision.to_run)} to run, {len(decision.skipped)} skipped, "
        f"{len(decision.closed)} closed, {len(new_keys)} new partition(s), {cancelled} superseded run(s) cancelled"
        + (" (full resync)" if decision.full_sync else "")
    )
    return dg.SensorResult(
        run_requests=[run_request(pr, decision.approvals.get(pr.number)) for pr in decision.to_run],
        dynamic_partitions_requests=[pr_partitions.build_add_request(new_keys)] if new_keys else [],
        asset_events=observations(decision),
        cursor=decision.cursor.to_json(),
    )


def run_request(pr, fork_approval: str | None = None) -> dg.RunRequest:
    tags = {PR_TAG: pr.partition_key, HEAD_SHA_TAG: pr.head_sha, BASE_REF_TAG: tag_safe(pr.base_ref)}
    if fork_approval is not None:
        tags[FORK_APPROVAL_TAG] = tag_safe(fork_approval)
    return dg.RunRequest(run_key=f"{pr.number}:{pr.head_sha}", partition_key=pr.partition_key, tags=tags)


def approval_used_by(instance: dg.DagsterInstance, pr, stamp: str) -> str | None:
    """The other head of this fork PR that a run already built on this approval (one approval, one head)."""
    runs = instance.get_runs(filters=dg.RunsFilter(
        job_name=pr_pipeline_job.name, tags={PR_TAG: pr.partition_key, FORK_APPROVAL_TAG: tag_safe(stamp)}))
    return next((run.tags[HEAD_SHA_TAG] for run in runs if run.tags.get(HEAD_SHA_TAG) != pr.head_sha), None)


def observations(decision: TickDecision) -> list[dg.AssetObservation]:
    """What the sensor learnt without running anything: skipped heads and closed PRs, on pr_context."""
    events = []
    for pr, reason in decision.skipped:
        events.append(dg.AssetObservation(
            asset_key=pr_context.key, partition=pr.partition_key,
            metadata={"state": "skipped", "head_sha": pr.head_sha, "skipped_reason": reason},
        ))
    for pr in decision.closed:
        events.append(dg.AssetObservation(
            asset_key=pr_context.key, partition=pr.partition_key,
            metadata={"state": "merged" if pr.merged else "closed", "head_sha": pr.head_sha,
                      "closed_at": pr.closed_at or "", "teardown": "pending"},
        ))
    return events


def supersede_older_runs(context: dg.SensorEvaluationContext, decision: TickDecision) -> int:
    """Cancel queued or running runs of an older head of the same PR (cancel-in-progress).

    A run that is deploying (tagged by the deploy step) is left to finish: killing it
    half-way would leave an environment nobody owns. The new run queues behind it.
    """
    newest = {pr.partition_key: pr.head_sha for pr in decision.to_run}
    newest.update({pr.partition_key: "" for pr in decision.closed})  # closed: nothing left to build
    if not newest:
        return 0
    cancelled = 0
    for run in context.instance.get_runs(filters=dg.RunsFilter(statuses=_IN_PROGRESS, job_name=pr_pipeline_job.name)):
        pr = run.tags.get(PR_TAG)
        if pr in newest and run.tags.get(HEAD_SHA_TAG) != newest[pr] and run.tags.get(DEPLOYING_TAG) != "true":
            context.instance.run_coordinator.cancel_run(run.run_id)
            cancelled += 1
    return cancelled
