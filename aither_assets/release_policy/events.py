"""The ring record: one typed event per thing that happened to a ring or a build.

Everything in this package is computed from a sequence of these, so the wiring only has to turn
the instance's materializations and observations (and GitHub's comments) into RingEvents. Times
are timezone-aware: a naive datetime would be read in whatever zone the process runs in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Iterable


class EventKind(str, Enum):
    # ``digest`` of ``pr`` went live in ``ring`` (by a person or the policy); a deploy that failed its
    # post-deploy verification is one too, with verified=False, followed by its failure and rollback
    PROMOTION = "promotion"
    ROLLBACK = "rollback"  # ``ring`` was put back on ``digest``; ``replaced_digest`` was live before
    VERIFICATION_FAILED = "verification_failed"  # smoke checks of ``digest`` in ``ring`` failed
    REVERIFIED = "reverified"  # a periodic re-verification of ``digest`` in ``ring`` passed
    HOLD = "hold"  # ``pr`` (its ``digest``, or every build when None) may not be promoted
    UNHOLD = "unhold"  # the holds of ``pr`` (of ``digest`` only, when given) are released


# Kinds that happen to a ring; holds are about a build, whichever ring it is in.
RING_KINDS = frozenset({EventKind.PROMOTION, EventKind.ROLLBACK, EventKind.VERIFICATION_FAILED,
                        EventKind.REVERIFIED})


@dataclass(frozen=True)
class RingEvent:
    kind: EventKind
    pr: int
    digest: str | None
    at: datetime
    requester: str = ""  # a GitHub login, "Dagster UI (unauthenticated)" or the policy's name
    reason: str = ""
    ring: str | None = None  # required for ring kinds; optional for holds (where it happened)
    # promotion/rollback: the post-deploy verification of ``digest`` passed
    verified: bool = False
    # rollback: what was live before, which the rollback holds
    replaced_pr: int | None = None
    replaced_digest: str | None = None
    break_glass: bool = False  # promotion into a frozen ring by an admin

    def __post_init__(self) -> None:
        # Refuse a record that would make every later answer subtly wrong.
        object.__setattr__(self, "at", as_utc(self.at, "event time"))
        if self.kind in RING_KINDS and not self.ring:
            raise ValueError(f"a {self.kind.value} event needs a ring")
        if self.kind in RING_KINDS and not self.digest:
            raise ValueError(f"a {self.kind.value} event needs a digest")
        if self.kind is EventKind.ROLLBACK and (self.replaced_digest is None) != (self.replaced_pr is None):
            raise ValueError("a rollback names both the PR and the digest it replaced, or neither")


def as_utc(instant: datetime, what: str = "time") -> datetime:
    """``instant`` in UTC; a naive one is refused (it would be read in whatever zone the process runs in).

    Kept in UTC because Python orders and subtracts two times of *one* zone by wall clock, which is
    wrong across a DST change; UTC has none.
    """
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (got {instant.isoformat()})")
    return instant.astimezone(timezone.utc)


def in_order(events: Iterable[RingEvent]) -> list[RingEvent]:
    """Events oldest first; equal times keep the order given (the record's own order)."""
    return sorted(events, key=lambda event: event.at)


def ring_events(events: Iterable[RingEvent], ring: str) -> list[RingEvent]:
    """The ring's own events (promotions, rollbacks, verifications), oldest first."""
    return [e for e in in_order(events) if e.ring == ring and e.kind in RING_KINDS]


def short(digest: str | None) -> str:
    """``sha256:`` and 12 hex characters: enough to tell builds apart in one line."""
    return digest[:19] if digest else "no digest"
