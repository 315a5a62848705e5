"""Teardown of preview environments: closed or merged PRs, expired TTLs, anything left over."""

import datetime as dt
import os

import dagster as dg

from aither_assets.defs.resources import GitHubResource, PreviewResource, run_active
from aither_assets.feedback import deactivate_deployments
from aither_assets.github.client import GitHubError
from aither_assets.runs.tags import PR_TAG
from aither_assets.sandbox.sweep import sweep as sweep_sandboxes


class TeardownConfig(dg.Config):
    pr: int
    reason: str


@dg.op(description="Remove the PR's preview containers and free its port; the partition and history stay.")
def teardown_preview(context: dg.OpExecutionContext, config: TeardownConfig, preview: PreviewResource,
                     github: GitHubResource) -> None:
    removed = preview.environments().teardown(config.pr)
    freed = preview.ports().release(config.pr)
    inactive = deactivate_deployments(github.client(), config.pr)  # best effort, like all feedback
    context.log_event(dg.AssetObservation(
        asset_key="pr_environment", partition=str(config.pr),
        metadata={"state": "torn_down", "reason": config.reason, "containers_removed": removed, "port_freed": freed,
                  "github_deployments_inactive": inactive},
    ))


@dg.job(description="Tear down one PR's preview environment (requested by the sweep sensor).")
def preview_teardown():
    teardown_preview()


def _interval() -> int:
    return int(os.environ.get("AITHER_SWEEP_INTERVAL_SECONDS", "60"))


@dg.sensor(job=preview_teardown, minimum_interval_seconds=_interval(), default_status=dg.DefaultSensorStatus.RUNNING,
           description="Finds preview containers of ours whose PR closed or whose TTL passed; one teardown each.")
def preview_sweep_sensor(context: dg.SensorEvaluationContext, preview: PreviewResource, github: GitHubResource):
    # Sandbox containers a dead run worker left behind go too (runs that are over, or older than any timeout).
    swept = sweep_sandboxes(run_active=lambda run_id: run_active(context.instance, run_id))
    if swept:
        context.log.info(f"removed {len(swept)} sandbox container(s) left by runs that are over")
    now = dt.datetime.now(dt.timezone.utc)
    client = github.client()
    requests = []
    for info in preview.environments().list_ours():
        reason = None
        if info.pr is None:
            continue  # sweep() of the environments module handles unreadable labels; nothing to ask GitHub
        if info.expires_at is not None and info.expires_at <= now:
            reason = f"TTL expired at {info.expires_at.isoformat()}"
        else:
            try:
                pr = client.pull(info.pr)
            except GitHubError as exc:
                context.log.warning(f"PR #{info.pr}: {exc}; asking again next tick")
                continue
            if pr.state != "open":
                reason = f"PR {'merged' if pr.merged else 'closed'}"
        if reason:
            requests.append(dg.RunRequest(
                run_key=f"teardown:{info.pr}:{info.id}",
                run_config=dg.RunConfig(ops={"teardown_preview": TeardownConfig(pr=info.pr, reason=reason)}),
                tags={PR_TAG: str(info.pr)},
            ))
    return requests or dg.SkipReason("every preview environment belongs to an open PR within its TTL")
