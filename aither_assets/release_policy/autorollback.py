"""What a failed verification leads to, automatically: revoke, roll back to the last good digest, hold.

The rule in one place, so the post-deploy verification and the periodic re-verification of a
live ring do the same thing. The failure itself is recorded first (it revokes "verified" for
that ring and digest); then, when the failing build is what the ring serves, the ring goes
back to its last good digest, and the rollback event holds the failing build. When nothing good
exists the ring stays where it is, the build is held all the same (so it climbs no further),
and the answer says why no rollback happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from aither_assets.release_policy.events import EventKind, RingEvent, short
from aither_assets.release_policy.rollback import (
    AUTO_ROLLBACK_REQUESTER,
    NoRollbackTarget,
    RollbackTarget,
    live_record,
    rollback_target,
)


@dataclass(frozen=True)
class AutoRollbackPlan:
    failure: RingEvent
    target: RollbackTarget | None  # where to deploy; None: no rollback (see ``note``)
    hold: RingEvent | None  # record this when there is no rollback event to carry the hold
    note: str

    def rollback_event(self, verified: bool) -> RingEvent:
        """The event to record once the target is deployed and its verification ran."""
        if self.target is None:
            raise ValueError(f"no rollback was planned: {self.note}")
        return rollback_event(self.target, self.failure, verified)


def rollback_event(target: RollbackTarget, failure: RingEvent, verified: bool) -> RingEvent:
    return RingEvent(EventKind.ROLLBACK, target.pr, target.digest, failure.at, AUTO_ROLLBACK_REQUESTER,
                     _because(f"verification of {short(failure.digest)} failed", failure.reason),
                     target.ring, verified=verified, replaced_pr=target.replaces_pr,
                     replaced_digest=target.replaces_digest)


def _because(what: str, reason: str) -> str:
    return f"{what}: {reason}" if reason else what


def plan_automatic_rollback(events: Iterable[RingEvent], failure: RingEvent) -> AutoRollbackPlan:
    """The plan after ``failure`` (a verification_failed event, already part of ``events`` or not)."""
    if failure.kind is not EventKind.VERIFICATION_FAILED:
        raise ValueError(f"an automatic rollback follows a verification failure, not a {failure.kind.value}")
    events = [e for e in events if e != failure] + [failure]
    ring, label = failure.ring, f"PR #{failure.pr} ({short(failure.digest)})"
    hold = RingEvent(EventKind.HOLD, failure.pr, failure.digest, failure.at, AUTO_ROLLBACK_REQUESTER,
                     _because(f"verification failed in {ring}", failure.reason), ring)
    live = live_record(events, ring)
    if live is None or live.digest != failure.digest:
        note = f"{label} is not what {ring} serves: no rollback, the build is held"
        return AutoRollbackPlan(failure, None, hold, note)
    try:
        target = rollback_target(events, ring)
    except NoRollbackTarget as error:
        return AutoRollbackPlan(failure, None, hold, f"{error}; {ring} stays on {label}, which is held")
    return AutoRollbackPlan(failure, target, None,
                            f"{ring} goes back to PR #{target.pr} ({short(target.digest)}); {label} is held")
