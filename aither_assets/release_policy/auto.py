"""Automatic promotion: which build, if any, the policy promotes into a ring now, and why not the others.

The gates themselves (build evidence, ring below, soak, approvals, merged) are issue 14's
``evaluate``; this takes each candidate's unmet gates as input and adds what only automation
needs: the ring opted in, nothing else is promoting it, it is not frozen, the build is not held,
and it is newer than what is live.

"Newer" is by build time: when the control plane recorded the image (the container_image
materialization), not the PR's commit dates. Commit dates are written by whoever made the
commit and can be set to anything, so a PR author could jump the queue with them; the build
time comes from our own record. A person may still promote an older build by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Protocol

from aither_assets.release_policy.events import as_utc, short
from aither_assets.release_policy.freeze import ActiveFreeze
from aither_assets.release_policy.holds import HoldBook

AUTO_REQUESTER = "policy (automatic promotion)"  # recorded as the requester of every automatic promotion


class Gate(Protocol):
    """An unmet gate as issue 14's GateReport lists it (promotion.gates.UnmetGate has this shape)."""

    gate: str  # entry | build | ring_below | soak | approvals | merged
    reason: str


@dataclass(frozen=True)
class Build:
    """A candidate for the ring: a PR's image and the gates issue 14 found unmet for it."""

    pr: int
    digest: str
    built_at: datetime  # when the control plane recorded the image
    unmet_gates: tuple[Gate, ...] = ()
    soak_left: timedelta | None = None  # when soak is the only thing missing, the sensor can wait this long

    def __post_init__(self) -> None:
        object.__setattr__(self, "built_at", as_utc(self.built_at, "build time"))


@dataclass(frozen=True)
class LiveBuild:
    pr: int
    digest: str
    built_at: datetime | None  # None: the record lacks it, so nothing can be shown to be newer

    def __post_init__(self) -> None:
        if self.built_at is not None:
            object.__setattr__(self, "built_at", as_utc(self.built_at, "build time"))


@dataclass(frozen=True)
class Rejected:
    build: Build
    reason: str


@dataclass(frozen=True)
class AutoDecision:
    ring: str
    chosen: Build | None
    blocked: str | None  # why the ring takes no automatic promotion now, whatever the candidates
    rejected: tuple[Rejected, ...]
    retry_after: timedelta | None = None  # the shortest soak left of a build only waiting for soak
    requester: str = AUTO_REQUESTER

    def describe(self) -> str:
        if self.chosen is not None:
            return f"promote PR #{self.chosen.pr} ({short(self.chosen.digest)}) into {self.ring} automatically"
        return f"no automatic promotion into {self.ring}: " + (self.blocked or "no eligible build")


def choose_auto_promotion(ring: str, auto: bool, live: LiveBuild | None, candidates: Iterable[Build],
                          holds: HoldBook, freeze: ActiveFreeze | None, in_flight: str | None) -> AutoDecision:
    """The newest eligible build for ``ring``, or none; every candidate not chosen gets its reason.

    ``auto`` is the ring's opt-in from the operator config (its soak and approvals are gates, already
    in each build's ``unmet_gates``). ``in_flight`` names a promotion of this ring that is queued or
    running (e.g. its run id): one promotion per ring at a time, so the sensor waits for it.
    """
    blocked = None
    if not auto:
        blocked = f"automatic promotion is off for {ring} (operator config)"
    elif in_flight:
        blocked = f"a promotion of {ring} is already queued or running ({in_flight}): one at a time"
    elif freeze is not None:
        blocked = freeze.describe()
    elif live is not None and live.built_at is None:
        blocked = f"the build time of what is live in {ring} is not recorded, so no build can be shown to be newer"

    ordered = sorted(candidates, key=lambda b: (b.built_at, b.pr, b.digest), reverse=True)
    chosen: Build | None = None
    rejected: list[Rejected] = []
    waits: list[timedelta] = []
    for build in ordered:
        reason = _why_not(build, live, holds)
        if reason is None and build.unmet_gates:
            reason = "unmet gates: " + "; ".join(f"{gate.gate}: {gate.reason}" for gate in build.unmet_gates)
            if all(gate.gate == "soak" for gate in build.unmet_gates) and build.soak_left is not None:
                waits.append(build.soak_left)
        if reason is None and chosen is None and blocked is None:
            chosen = build
            continue
        if reason is None:
            reason = blocked or f"a newer eligible build was chosen (PR #{chosen.pr}, {short(chosen.digest)})"
        rejected.append(Rejected(build, reason))
    return AutoDecision(ring, chosen, blocked, tuple(rejected), min(waits) if waits and not chosen else None)


def _why_not(build: Build, live: LiveBuild | None, holds: HoldBook) -> str | None:
    held = holds.holds_of(pr=build.pr, digest=build.digest)
    if held:
        return f"held: {held[0].describe()}"
    if live is not None and build.digest == live.digest:
        return "already live"
    if live is not None and live.built_at is not None and build.built_at <= live.built_at:
        return (f"built {build.built_at.isoformat(timespec='seconds')}, not after what is live (PR #{live.pr}, "
                f"built {live.built_at.isoformat(timespec='seconds')}): automation never goes back; a person may")
    return None
