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
from aither_assets.promotion.names import ring_asset_name
from aither_assets.promotion.rollout import LiveCheck, verify_live
from aither_assets.release_policy.events import RingEvent, short
from aither_assets.release_policy.reverify import Reverification, next_reverification
from aither_assets.runs import ring_record, rollbacks
from aither_assets.runs.rollbacks import Launch

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
             checks_for: Callable[[int], Sequence[SmokeCheck]], now: datetime) -> ReverifyOutcome:
    """Re-run ``due.ring``'s verification against its container and record the outcome (runless).

    ``checks_for(pr)`` gives the ring's checks for the live PR (its repo smoke checks, or none for
    health_only); a failure revokes "verified" and plans the automatic rollback."""
    checks = list(checks_for(due.pr)) if rings.policy(due.ring).verification == "repo_smoke" else []
    check = verify_live(envs, due.ring, checks=checks)
    verification = {"verification": dg.MetadataValue.json(check.verification.to_dict())} if check.verification else {}
    if check.passed:
        instance.report_runless_asset_event(ring_record.verification_observation(
            ring_asset_name(due.ring), due.pr, due.digest, passed=True, phase="reverify", at=now.timestamp(),
            requester=REVERIFY_REQUESTER, extra=verification))
        return ReverifyOutcome(due, check, None, None, f"{due.ring}: PR #{due.pr} ({short(due.digest)}) re-verified")
    failure = rollbacks.record_reverification_failure(
        instance, rings.ladder, due.ring, pr=due.pr, digest=due.digest, failed_check=check.failure or "failed",
        requester=REVERIFY_REQUESTER, at=now.timestamp(), extra=verification)
    return ReverifyOutcome(due, check, failure.launch, failure.plan.hold if failure.launch is None else None,
                           failure.note)
