"""The PR sensor: watches GitHub and requests a run for every new head commit."""

import os
import time

import dagster as dg

from aither_assets.config.operator import OperatorConfig
from aither_assets.defs.prs.assets import pr_context
from aither_assets.defs.prs.jobs import pr_pipeline_job
from aither_assets.defs.resources import AitherConfig, GitHubResource
from aither_assets.feedback import publish_approval_states
from aither_assets.github.client import GitHubRateLimited
from aither_assets.github.models import PullRequest
from aither_assets.prs.claims import claims_for
from aither_assets.prs.polling import PollCursor
from aither_assets.prs.tick import TickDecision, decide_tick
from aither_assets.runs.partitions import PR_PARTITIONS_NAME, pr_partitions
from aither_assets.runs.pipeline import approval_used_by, heads_with_runs, pipeline_run_tags, supersede_older_runs

CLAIMANT = "PR sensor"


def sensor_interval() -> int:
    """Seconds between polls of the PR sensor: the safety net behind the webhook receiver (demo --once: 2)."""
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
    new_keys, cancelled, to_run = [], 0, []
    if decision.seen:  # an unchanged poll needs no partition lookup or run queries
        known = set(context.instance.get_dynamic_partitions(PR_PARTITIONS_NAME))
        new_keys = sorted({pr.partition_key for pr in decision.seen} - known, key=int)
        cancelled = supersede_older_runs(context.instance, newest_heads(decision))
        to_run = heads_to_start(context.instance, aither_config.operator, decision.to_run)
    for error in publish_approval_states(client, **decision.approval_statuses()):
        context.log.warning(error)
    context.log.info(
        f"{decision.requests} GitHub request(s); {len(to_run)} to run, {len(decision.to_run) - len(to_run)} already "
        f"started or claimed, {len(decision.skipped)} skipped, {len(decision.closed)} closed, {len(new_keys)} new "
        f"partition(s), {cancelled} superseded run(s) cancelled" + (" (full resync)" if decision.full_sync else "")
    )
    return dg.SensorResult(
        run_requests=[run_request(pr, decision.approvals.get(pr.number)) for pr in to_run],
        dynamic_partitions_requests=[pr_partitions.build_add_request(new_keys)] if new_keys else [],
        asset_events=observations(decision),
        cursor=decision.cursor.to_json(),
    )


def heads_to_start(instance: dg.DagsterInstance, config: OperatorConfig, prs: list[PullRequest]) -> list[PullRequest]:
    """The heads among ``prs`` this tick starts: the webhook receiver may have started some already
    (run_key de-duplicates this sensor's requests only), or be about to (the claim decides)."""
    started = heads_with_runs(instance, prs)
    candidates = [pr for pr in prs if (pr.partition_key, pr.head_sha) not in started]
    won = set(claims_for(config.storage.root).claim([(pr.number, pr.head_sha) for pr in candidates], CLAIMANT))
    return [pr for pr in candidates if (pr.number, pr.head_sha) in won]


def run_request(pr, fork_approval: str | None = None) -> dg.RunRequest:
    return dg.RunRequest(run_key=f"{pr.number}:{pr.head_sha}", partition_key=pr.partition_key,
                         tags=pipeline_run_tags(pr, fork_approval))


def newest_heads(decision: TickDecision) -> dict[str, str]:
    """Partition key -> the head that should run now ("" for a closed PR: nothing left to build)."""
    newest = {pr.partition_key: pr.head_sha for pr in decision.to_run}
    newest.update({pr.partition_key: "" for pr in decision.closed})
    return newest


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
