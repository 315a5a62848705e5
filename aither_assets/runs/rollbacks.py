"""Rollbacks and holds on the product's path: what to record after a failed verification, the rollback
run to launch, the holds a person asks for. The rules are release_policy's (rollback_target,
plan_automatic_rollback, check_hold/check_unhold); this module reads the record (runs/ring_record.py),
turns the answers into observations and launches, and is shared by the ring asset, the comment
handlers and the re-verification sensor.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg

from aither_assets.environments.ring_env import RingDeployment
from aither_assets.promotion.names import (
    AUTO_ROLLBACK,
    POLICY_TAG,
    PROMOTION_MODE_TAG,
    RING_TAG,
    ring_asset_name,
)
from aither_assets.release_policy.autorollback import AutoRollbackPlan, plan_automatic_rollback
from aither_assets.release_policy.events import EventKind, RingEvent, short
from aither_assets.release_policy.rollback import AUTO_ROLLBACK_REQUESTER
from aither_assets.runs import ring_record
from aither_assets.runs import rings as records


@dataclass(frozen=True)
class Launch:
    """A promotion or rollback run to submit: job, partition, run config and tags."""

    job_name: str
    partition: str
    run_config: dict
    tags: dict[str, str]
    run_key: str

    def run_request(self) -> dg.RunRequest:
        return dg.RunRequest(run_key=self.run_key, job_name=self.job_name, partition_key=self.partition,
                             run_config=self.run_config,
                             tags={k: v for k, v in self.tags.items() if k != "dagster/partition"})


def promotion_job_name(ring: str) -> str:
    return f"promote_{ring_asset_name(ring)}"


def rollback_launch(ring: str, to_pr: int, reason: str, tags: dict[str, str], run_key: str) -> Launch:
    """A run of ``ring``'s job in rollback mode for PR ``to_pr`` (the PR whose build the ring goes back to)."""
    config = {"reason": reason[:500] or f"rollback of {ring}", "mode": "rollback"}
    return Launch(promotion_job_name(ring), str(to_pr), {"ops": {ring_asset_name(ring): {"config": config}}},
                  {RING_TAG: ring, PROMOTION_MODE_TAG: "rollback", "dagster/partition": str(to_pr), **tags}, run_key)


def deployed_build(instance: dg.DagsterInstance, ring: str, digest: str) -> records.LiveRecord | None:
    """The latest ring_state record of ``digest`` in ``ring`` (its image reference, head and title)."""
    return next((r for r in records.ring_history(instance, ring, limit=1000) if r.digest == digest), None)


@dataclass(frozen=True)
class Recovery:
    """What a failed verification leads to: observations to record (in order) and a sentence for people."""

    plan: AutoRollbackPlan
    observations: tuple[dg.AssetObservation, ...]
    note: str


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def failure_event(ring: str, pr: int, digest: str, at: float, requester: str, failed_check: str) -> RingEvent:
    return RingEvent(EventKind.VERIFICATION_FAILED, pr, digest, _utc(at), requester, failed_check, ring)


def after_failed_deploy(instance: dg.DagsterInstance, ladder: tuple[str, ...], ring: str, *, pr: int, digest: str,
                        failed_at: float, requester: str, failed_check: str, reason: str,
                        restored: RingDeployment | None) -> Recovery:
    """After the post-deploy verification of ``digest`` failed in ``ring`` (roll_out already put back what
    ran before, ``restored``, if anything): record the restore as an automatic rollback, which holds the
    failing build, or, when nothing was put back, hold the build. The failure observation itself is the
    caller's (verification_observation, phase deploy, at ``failed_at``); its events are added here as well,
    so the plan does not depend on whether the instance has stored it yet."""
    went_live = RingEvent(EventKind.PROMOTION, pr, digest, _utc(failed_at), requester, reason, ring)
    failure = failure_event(ring, pr, digest, failed_at, requester, failed_check)
    plan = plan_automatic_rollback([*ring_record.ring_events(instance, ladder), went_live], failure)
    if restored is None:
        hold = plan.hold or RingEvent(EventKind.HOLD, pr, digest, failure.at, AUTO_ROLLBACK_REQUESTER,
                                      f"verification failed in {ring}: {failed_check}", ring)
        return Recovery(plan, (_hold_of(hold),), f"PR #{pr} ({short(digest)}) is held; {plan.note}")
    # roll_out put back what ran before; it is the last good digest unless the record says otherwise
    good = plan.target is not None and plan.target.digest == restored.digest
    record = deployed_build(instance, ring, restored.digest)
    because = f"verification of {short(digest)} (PR #{pr}) failed: {failed_check}"
    observation = ring_record.deploy_observation(
        ring, "rollback", pr=restored.pr, digest=restored.digest, head_sha=restored.sha,
        since=max(time.time(), failed_at + 0.001), requester=AUTO_ROLLBACK_REQUESTER, reason=because[:500],
        image_ref=restored.image_ref, title=record.title if record else "", url=restored.url,
        replaced_pr=pr, replaced_digest=digest, verified=good)
    note = (f"{ring} is back on PR #{restored.pr} ({short(restored.digest)}), its last good digest; "
            f"PR #{pr} ({short(digest)}) is held" if good else
            f"{ring} is back on PR #{restored.pr} ({short(restored.digest)}), which ran before but is not a good "
            f"digest by the record ({plan.note}); PR #{pr} ({short(digest)}) is held")
    return Recovery(plan, (observation,), note)


def _hold_of(event: RingEvent) -> dg.AssetObservation:
    return ring_record.hold_observation(event.pr, event.digest, "hold", event.requester, event.reason, event.ring)


@dataclass(frozen=True)
class ReverificationFailure:
    """A live ring failed its periodic re-verification: recorded, and what happens next."""

    plan: AutoRollbackPlan
    launch: Launch | None  # the rollback run to the last good digest (None: nothing good; the build is held)
    note: str


def record_reverification_failure(instance: dg.DagsterInstance, ladder: tuple[str, ...], ring: str, *, pr: int,
                                  digest: str, failed_check: str, requester: str = AUTO_ROLLBACK_REQUESTER,
                                  at: float | None = None, run_key: str | None = None,
                                  extra: dict | None = None) -> ReverificationFailure:
    """For the re-verification sensor: record that ``digest`` (PR ``pr``), live in ``ring``, failed its
    re-verification (revoking "verified" there), and return the rollback run to launch, tagged as the
    policy's (the run records AUTO_ROLLBACK_REQUESTER), or, when nothing good exists, record a hold.

    ``launch.run_request()`` is the sensor's RunRequest; outside a sensor, submit ``launch`` like a comment's."""
    at = time.time() if at is None else at
    instance.report_runless_asset_event(ring_record.verification_observation(
        ring_asset_name(ring), pr, digest, passed=False, phase="reverify", at=at, requester=requester,
        failed_check=failed_check, extra=extra))
    failure = failure_event(ring, pr, digest, at, requester, failed_check)
    plan = plan_automatic_rollback(ring_record.ring_events(instance, ladder), failure)
    if plan.target is None:
        if plan.hold is not None:
            instance.report_runless_asset_event(_hold_of(plan.hold))
        return ReverificationFailure(plan, None, plan.note)
    reason = f"re-verification of {short(digest)} (PR #{pr}) failed: {failed_check}"
    launch = rollback_launch(ring, plan.target.pr, reason, {POLICY_TAG: AUTO_ROLLBACK},
                             run_key or f"auto-rollback:{ring}:{digest}:{int(at)}")
    return ReverificationFailure(plan, launch, plan.note)
