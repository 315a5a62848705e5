"""Holds: a build that was rolled back from (or held by hand) may not be promoted to any ring.

A hold is on a build (a digest): a new push to the PR makes a new build, which is not held,
unless the hold names the whole PR (a hand hold without a digest).

Derived from the record every time, never stored beside it: a rollback event holds the build it
replaced, a hold event holds a build (or every build of a PR), an unhold event by a writer
releases the PR's holds. Checking who may unhold is a separate step so the permission read from
GitHub is an input, not a side effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Literal

from aither_assets.release_policy.events import EventKind, RingEvent, in_order, short
from aither_assets.release_policy.permissions import refusal

HOLD_PERMISSION = "write"  # who may hold or release a build: the same people who may promote one


@dataclass(frozen=True)
class Hold:
    pr: int
    digest: str | None  # None: every build of the PR
    since: datetime
    by: str
    reason: str
    ring: str | None  # where it happened (the rollback's ring), if anywhere
    source: Literal["rollback", "hold"]

    def describe(self) -> str:
        what = f"PR #{self.pr} ({short(self.digest)})" if self.digest else f"PR #{self.pr} (every build)"
        where = f" after a rollback of {self.ring}" if self.source == "rollback" and self.ring else ""
        because = f": {self.reason}" if self.reason else ""
        return f"{what} held since {self.since.isoformat(timespec='seconds')} by {self.by or 'unknown'}{where}{because}"


@dataclass(frozen=True)
class HoldBook:
    """The holds in force after the record's last event."""

    active: tuple[Hold, ...]

    def holds_of(self, *, pr: int | None = None, digest: str | None = None) -> tuple[Hold, ...]:
        """Holds covering a build: by its digest, by its PR, or both (a build is held if either is)."""
        if pr is None and digest is None:
            raise ValueError("holds_of needs a PR or a digest")
        found = []
        for hold in self.active:
            if digest is not None and hold.digest == digest:
                found.append(hold)
            elif pr is not None and hold.pr == pr and (hold.digest is None or digest is None or hold.digest == digest):
                found.append(hold)
        return tuple(found)

    def is_held(self, *, pr: int | None = None, digest: str | None = None) -> bool:
        return bool(self.holds_of(pr=pr, digest=digest))


def hold_book(events: Iterable[RingEvent]) -> HoldBook:
    """Replay the record: rollbacks and holds add, unholds release."""
    active: list[Hold] = []
    for event in in_order(events):
        if event.kind is EventKind.ROLLBACK and event.replaced_digest is not None:
            active.append(Hold(event.replaced_pr, event.replaced_digest, event.at, event.requester,
                               event.reason, event.ring, "rollback"))
        elif event.kind is EventKind.HOLD:
            active.append(Hold(event.pr, event.digest, event.at, event.requester, event.reason, event.ring, "hold"))
        elif event.kind is EventKind.UNHOLD:
            # "unhold PR" releases every hold of the PR; naming a digest releases that build's holds only.
            active = [h for h in active if not (h.pr == event.pr and event.digest in (None, h.digest))]
    return HoldBook(tuple(active))


@dataclass(frozen=True)
class HoldDecision:
    allowed: bool
    reason: str  # why it was refused, or what will happen


def check_unhold(book: HoldBook, pr: int, requester: str, permission: str | None, reason: str) -> HoldDecision:
    """May ``requester`` (whose role GitHub reported as ``permission``) release PR ``pr``'s holds?"""
    refused = refusal(f"unhold of PR #{pr}", requester, permission, reason, HOLD_PERMISSION)
    if refused:
        return HoldDecision(False, refused)
    holds = book.holds_of(pr=pr)
    if not holds:
        return HoldDecision(False, f"PR #{pr} is not held")
    return HoldDecision(True, f"releases {len(holds)} hold{'s' if len(holds) > 1 else ''} of PR #{pr}")


def check_hold(book: HoldBook, pr: int, requester: str, permission: str | None, reason: str) -> HoldDecision:
    """May ``requester`` hold PR ``pr``'s build by hand?"""
    refused = refusal(f"hold of PR #{pr}", requester, permission, reason, HOLD_PERMISSION)
    if refused:
        return HoldDecision(False, refused)
    return HoldDecision(True, f"holds PR #{pr}" + (" (already held)" if book.is_held(pr=pr) else ""))
