"""One job per ring (tagged with the ring, so dagster.yaml runs one promotion per ring at a time) and
the comment sensor: ``/promote`` and ``/approve`` in PR comments, polled as the webhook receiver's
safety net (runs/comments.py decides)."""

import json
import os
import time
from datetime import UTC, datetime, timedelta

import dagster as dg

from aither_assets.defs.release.assets import _ladder
from aither_assets.defs.resources import AitherConfig, GitHubResource
from aither_assets.github.client import GitHubError
from aither_assets.promotion.names import PROMOTION_MODE_TAG, RING_TAG, ring_asset_name
from aither_assets.promotion.requests import Permissions
from aither_assets.runs.comments import handle_comment
from aither_assets.runs.partitions import pr_partitions
from aither_assets.runs.rollbacks import Launch, promotion_job_name

CLAIMANT = "comment sensor"
LOOK_BACK = timedelta(hours=1)  # a first tick (no cursor) reads the last hour of comments


def _interval() -> int:
    return int(os.environ.get("AITHER_SENSOR_INTERVAL_SECONDS", "30"))


def promotion_job(ring: str):
    return dg.define_asset_job(
        name=promotion_job_name(ring), selection=[ring_asset_name(ring)], partitions_def=pr_partitions,
        tags={RING_TAG: ring, PROMOTION_MODE_TAG: "manual"},
        description=f"Promote one PR's build to {ring}: the gates, then deploy and verify (run config: reason).")


LADDER = _ladder()
JOBS = [promotion_job(ring) for ring in LADDER]


@dg.sensor(
    jobs=JOBS,
    minimum_interval_seconds=_interval(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Reads new PR comments: a writer's /promote or /rollback starts a run, /hold and /unhold are "
                "recorded, an ignored command gets "
                "a reply saying why (/approve is read by the gates themselves).",
)
def promotion_comment_sensor(context: dg.SensorEvaluationContext, github: GitHubResource,
                             aither_config: AitherConfig) -> dg.SensorResult | dg.SkipReason:
    cursor = json.loads(context.cursor) if context.cursor else {}
    since = cursor.get("since") or (datetime.now(UTC) - LOOK_BACK).strftime("%Y-%m-%dT%H:%M:%SZ")
    seen = set(cursor.get("seen", []))
    client = github.client()
    try:
        comments = client.repo_comments(since=since)
        bot = client.authenticated_login()
    except GitHubError as exc:
        return dg.SkipReason(f"GitHub: {exc}")
    requests: list[dg.RunRequest] = []

    def launch(request: Launch) -> str:
        requests.append(request.run_request())
        return f"(requested by the sensor, key {request.run_key})"

    permissions = Permissions(client)
    newest, newest_ids = since, set(seen)
    started = time.monotonic()
    for comment in comments:
        key = f"{comment.id}@{comment.updated_at}"
        if key in seen:
            continue
        if time.monotonic() - started > 40:  # a tick must end within 60 s: the rest next tick
            break
        outcome = handle_comment(client, aither_config.operator, context.instance, comment, CLAIMANT, launch,
                                 permissions, bot)
        if outcome not in ("no action", "not a command"):
            context.log.info(f"comment {comment.id} on #{comment.issue_number} by {comment.author}: {outcome}")
        if comment.updated_at > newest:
            newest, newest_ids = comment.updated_at, set()
        if comment.updated_at == newest:
            newest_ids.add(key)
    return dg.SensorResult(run_requests=requests,
                           cursor=json.dumps({"since": newest, "seen": sorted(newest_ids)}))
