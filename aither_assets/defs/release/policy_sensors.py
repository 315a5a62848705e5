"""The release policy's sensors: automatic promotion and periodic re-verification. Thin: the rules are in
release_policy/, the reading and recording in runs/auto_promotion.py and runs/reverification.py."""

import os
import time
from datetime import UTC, datetime

import dagster as dg

from aither_assets.config.pipeline import load_pipeline_config
from aither_assets.defs.release import sensors as promotion_sensors
from aither_assets.defs.resources import AitherConfig, GitHubResource, WorkspaceResource
from aither_assets.environments.ring_env import RingEnvironments
from aither_assets.github.client import GitHubError
from aither_assets.runs import ring_record
from aither_assets.runs import rings as records
from aither_assets.runs.auto_promotion import auto_promotion_launch, decide
from aither_assets.runs.reverification import due_reverifications, reverify

TICK_BUDGET_SECONDS = 40  # a tick must end well within 60 s: rings left over wait for the next tick


def _interval(name: str) -> int:
    """The sensor's own setting, else the sensors' common one (the demo sets that to a few seconds)."""
    return int(os.environ.get(name) or os.environ.get("AITHER_SENSOR_INTERVAL_SECONDS") or "30")


@dg.sensor(
    jobs=promotion_sensors.JOBS,
    minimum_interval_seconds=_interval("AITHER_AUTO_PROMOTION_INTERVAL_SECONDS"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Promotes the newest eligible build into each ring with auto_promote: true once every gate "
                "passes (soak, approvals, not held, not frozen, newer than what is live), one per ring at a time.",
)
def auto_promotion_sensor(context: dg.SensorEvaluationContext, github: GitHubResource,
                          aither_config: AitherConfig) -> dg.SensorResult | dg.SkipReason:
    rings = aither_config.operator.rings
    auto = [ring for ring in rings.ladder if rings.policy(ring).auto_promote]
    if not auto:
        return dg.SkipReason("no ring has auto_promote: true")
    started = time.monotonic()
    client = github.client()
    try:
        bot = client.authenticated_login()
    except GitHubError as exc:
        return dg.SkipReason(f"GitHub: {exc}")
    events = ring_record.ring_events(context.instance, rings.ladder)
    requests, said = [], []
    for ring in auto:
        if time.monotonic() - started > TICK_BUDGET_SECONDS:
            said.append(f"{ring}: left for the next tick (time budget)")
            continue
        decision, inputs = decide(context.instance, client, rings, ring, bot, datetime.now(UTC), events)
        for skipped in inputs.skipped:
            context.log.info(f"{ring}: skipped {skipped}")
        for rejected in decision.rejected:
            context.log.info(f"{ring}: PR #{rejected.build.pr} not promoted: {rejected.reason}")
        context.log.info(decision.describe())
        said.append(decision.describe())
        if decision.chosen is not None:
            requests.append(auto_promotion_launch(decision).run_request())
    if not requests:
        return dg.SkipReason("; ".join(said)[:1000])
    return dg.SensorResult(run_requests=requests)


@dg.sensor(
    jobs=promotion_sensors.JOBS,
    minimum_interval_seconds=_interval("AITHER_REVERIFY_INTERVAL_SECONDS"),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Re-runs each live ring's verification every reverify_seconds (its operator config); a failure "
                "revokes verified and requests the automatic rollback to the last good digest (or holds the build).",
)
def reverification_sensor(context: dg.SensorEvaluationContext, aither_config: AitherConfig,
                          workspace: WorkspaceResource) -> dg.SensorResult | dg.SkipReason:
    operator = aither_config.operator
    rings = operator.rings
    if not any(rings.policy(ring).reverify_seconds > 0 for ring in rings.ladder):
        return dg.SkipReason("no ring has reverify_seconds set")
    started = time.monotonic()
    events = ring_record.ring_events(context.instance, rings.ladder)
    due = due_reverifications(events, rings, datetime.now(UTC))
    if not due:
        return dg.SkipReason("no live ring is due for re-verification")
    envs = RingEnvironments(app=operator.app, url_host=rings.host)

    def checks_for(ring: str):
        def checks(pr: int):
            now = records.live(context.instance, ring)
            sha = now.head_sha if now is not None and now.pr == pr else ""
            try:
                return load_pipeline_config(workspace.tree(pr, sha)).smoke if sha else ()
            except Exception as exc:  # noqa: BLE001 - the health check still runs; say why the smoke checks did not
                context.log.warning(f"{ring}: smoke checks of PR #{pr} at {sha[:12]} not read ({exc}); "
                                    f"re-verifying with the health check only")
                return ()
        return checks

    requests, said = [], []
    for planned in due:
        if time.monotonic() - started > TICK_BUDGET_SECONDS:
            said.append(f"{planned.ring}: left for the next tick (time budget)")
            continue
        outcome = reverify(context.instance, envs, rings, planned, checks_for(planned.ring), datetime.now(UTC))
        context.log.info(outcome.note if outcome.passed else
                         f"re-verification of {planned.ring} failed: {outcome.check.failure}; {outcome.note}")
        said.append(outcome.note)
        if outcome.rollback is not None:
            requests.append(outcome.rollback.run_request())
    if not requests:
        return dg.SkipReason("; ".join(said)[:1000])
    return dg.SensorResult(run_requests=requests)
