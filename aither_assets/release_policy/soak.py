"""Soak: how long a candidate has run healthy in the ring below, and how long it still has to.

Shown in ``aither release status``, on the ring page and in the PR comment, so "why is this not
promoted yet" has a number. Soak counts from the candidate's latest go-live in the ring below and
stops when it is replaced there or fails a verification there (a restart needs a new go-live).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from aither_assets.release_policy.events import EventKind, RingEvent, as_utc, ring_events


@dataclass(frozen=True)
class Presence:
    """A digest's latest stay in a ring: since its go-live, until replaced or failed (None: still there)."""

    since: datetime
    until: datetime | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "since", as_utc(self.since, "since"))
        if self.until is not None:
            object.__setattr__(self, "until", as_utc(self.until, "until"))


def presence(events: Iterable[RingEvent], ring: str, digest: str) -> Presence | None:
    """The latest stay of ``digest`` in ``ring``, from the record; None when it never went live there."""
    since: datetime | None = None
    until: datetime | None = None
    for event in ring_events(events, ring):
        went_live = event.kind in (EventKind.PROMOTION, EventKind.ROLLBACK)
        if went_live and event.digest == digest:
            since, until = event.at, None
            if not event.verified:
                until = event.at  # live but never verified: no healthy time at all
        elif since is not None and until is None:
            if went_live or (event.kind is EventKind.VERIFICATION_FAILED and event.digest == digest):
                until = event.at
    return Presence(since, until) if since is not None else None


@dataclass(frozen=True)
class Soak:
    ring_below: str
    required: timedelta
    started: bool  # the candidate went live in the ring below
    elapsed: timedelta
    left: timedelta
    stopped_at: datetime | None  # replaced or failed below before the soak was done: it will not finish

    @property
    def done(self) -> bool:
        return self.started and self.left <= timedelta(0)

    def describe(self) -> str:
        if self.required <= timedelta(0):
            return f"no soak required in {self.ring_below}"
        if not self.started:
            return f"not live in {self.ring_below} yet: {duration(self.required)} of soak to go once it is"
        if self.done:
            return f"soaked {duration(self.elapsed)} in {self.ring_below} (needs {duration(self.required)}): done"
        if self.stopped_at is not None:
            return (f"soaked {duration(self.elapsed)} of {duration(self.required)} in {self.ring_below}, then it "
                    f"was replaced or failed there: the soak will not complete")
        return f"soaked {duration(self.elapsed)} of {duration(self.required)} in {self.ring_below}: " \
               f"{duration(self.left)} left"


def soak_status(ring_below: str, stay: Presence | None, required: timedelta, now: datetime) -> Soak:
    """Soak of a candidate whose stay in ``ring_below`` is ``stay`` (from ``presence``), at ``now``."""
    now = as_utc(now, "now")
    if stay is None:
        return Soak(ring_below, required, False, timedelta(0), max(required, timedelta(0)), None)
    end = stay.until if stay.until is not None else now
    elapsed = max(end - stay.since, timedelta(0))  # a clock behind the record counts as no time, not negative
    left = max(required - elapsed, timedelta(0))
    stopped = stay.until if stay.until is not None and left > timedelta(0) else None
    return Soak(ring_below, required, True, elapsed, left, stopped)


def duration(span: timedelta) -> str:
    """Short and readable: 45 s, 12 min, 1.5 h, 2.0 d."""
    seconds = max(span.total_seconds(), 0.0)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"
