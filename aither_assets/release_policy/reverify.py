"""When a live ring's build is due for its periodic re-verification (its smoke checks re-run).

Counted from the last verification of what the ring serves, passed or failed, so a ring that was
just deployed or just checked is not checked again at once, and a schedule tick that came late
does not make two checks in a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from aither_assets.release_policy.events import EventKind, RingEvent, as_utc, ring_events


@dataclass(frozen=True)
class Reverification:
    ring: str
    pr: int
    digest: str
    last_checked: datetime
    due_at: datetime

    def due(self, now: datetime) -> bool:
        return as_utc(now, "now") >= self.due_at


def next_reverification(events: Iterable[RingEvent], ring: str, every: timedelta) -> Reverification | None:
    """The next re-verification of what ``ring`` serves; None when nothing is live or none is configured."""
    if every <= timedelta(0):
        return None
    live: RingEvent | None = None
    last_checked: datetime | None = None
    for event in ring_events(events, ring):
        if event.kind in (EventKind.PROMOTION, EventKind.ROLLBACK):
            live, last_checked = event, event.at  # deployed means verified (or failed) just now
        elif live is not None and event.digest == live.digest:
            last_checked = event.at  # reverified or verification_failed of the live build
    if live is None:
        return None
    return Reverification(ring, live.pr, live.digest, last_checked, last_checked + every)
