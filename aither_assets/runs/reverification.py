"""Periodic re-verification of live rings: which are due (release_policy.reverify), the check against the
running container (promotion.rollout.verify_live), the outcome in the ring record (ring_record), and what a
failure leads to (release_policy.autorollback): a rollback run to request, or a hold when nothing is good.

The sensor in defs/release/policy_sensors.py only calls these and submits the run this returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Sequence

import dagster as dg

from aither_assets.config.operator import RingsConfig
from aither_assets.config.pipeline import SmokeCheck
from aither_assets.environments.ring_env import RingEnvironments
from aither_assets.promotion.names import AUTO_ROLLBACK, POLICY_TAG, ring_asset_name
from aither_assets.promotion.rollout import LiveCheck, verify_live
from aither_assets.release_policy.autorollback import AutoRollbackPlan, plan_automatic_rollback
from aither_assets.release_policy.events import EventKind, RingEvent, short
from aither_assets.release_policy.reverify import Reverification, next_reverification
from aither_assets.runs import ring_record
from aither_assets.runs.comments import Launch, promotion_job_name

REVERIFY_REQUESTER = "policy (re-verification)"


def due_reverifications(events: list[RingEvent], rings: RingsConfig, now: datetime) -> list[Reverification]:
    """Rings whose live build is due for its re-verification (rings with ``reverify_seconds`` set)."""
    due = []
    for ring in rings.ladder:
        every = rings.policy(ring).reverify_seconds
        planned = next_reverification(events, ring, timedelta(seconds=every)) if every > 0 else None
        if planned is not None and planned.due(now):
            due.append(planned)
    return due


def rollback_launch(plan: AutoRollbackPlan) -> Launch:
    """The rollback run the contract with rollback mode names: the ring job for the target PR's partition."""
    target = plan.target
    if target is None:
        raise ValueError(f"no rollback was planned: {plan.note}")
    reason = (f"re-verification of PR #{plan.failure.pr} ({short(plan.failure.digest)}) in {target.ring} failed: "
              f"{plan.failure.reason}")[:500]
    run_config = {"ops": {ring_asset_name(target.ring): {"config": {"reason": reason, "mode": "rollback"}}}}
    run_key = f"auto-rollback:{target.ring}:{plan.failure.digest}:{int(plan.failure.at.timestamp())}"
    return Launch(promotion_job_name(target.ring), str(target.pr), run_config, {POLICY_TAG: AUTO_ROLLBACK}, run_key)


@dataclass(frozen=True)
class ReverifyOutcome:
    due: Reverification
    check: LiveCheck
    rollback: Launch | None  # the run to request (a failure with a good digest to go back to)
    hold: RingEvent | None  # recorded when nothing could be rolled back to
    note: str

    @property
    def passed(self) -> bool:
        return self.check.passed


def reverify(instance: dg.DagsterInstance, envs: RingEnvironments, rings: RingsConfig, due: Reverification,
             checks_for: Callable[[int], Sequence[SmokeCheck]], events: list[RingEvent],
             now: datetime) -> ReverifyOutcome:
    """Re-run ``due.ring``'s verification against its container and record the outcome (runless).

    ``checks_for(pr)`` gives the ring's checks for the live PR (its repo smoke checks, or none for
    health_only); a failure revokes "verified" and plans the automatic rollback."""
    checks = list(checks_for(due.pr)) if rings.policy(due.ring).verification == "repo_smoke" else []
    check = verify_live(envs, due.ring, checks=checks)
    verification = check.verification.to_dict() if check.verification else None
    if check.passed:
        instance.report_runless_asset_event(ring_record.reverification_observation(
            due.ring, due.pr, due.digest, "reverified", REVERIFY_REQUESTER, verification=verification))
        return ReverifyOutcome(due, check, None, None, f"{due.ring}: PR #{due.pr} ({short(due.digest)}) re-verified")
    failure = RingEvent(EventKind.VERIFICATION_FAILED, due.pr, due.digest, now, REVERIFY_REQUESTER,
                        check.failure or "failed", due.ring)
    plan = plan_automatic_rollback(events, failure)  # from the record as it was, plus this failure
    instance.report_runless_asset_event(ring_record.reverification_observation(
        due.ring, due.pr, due.digest, "verification_failed", REVERIFY_REQUESTER, check.failure or "failed",
        verification))
    if plan.target is not None:
        return ReverifyOutcome(due, check, rollback_launch(plan), None, plan.note)
    hold = plan.hold
    if hold is not None:
        instance.report_runless_asset_event(ring_record.hold_observation(
            hold.pr, hold.digest, "hold", hold.requester, hold.reason, hold.ring))
    return ReverifyOutcome(due, check, None, hold, plan.note)
