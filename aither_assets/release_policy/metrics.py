"""Delivery metrics per ring, from the ring record alone (the four DORA figures).

- deployment frequency: promotions into the ring per day over the window;
- lead time: first commit of the PR -> its first go-live in the ring (median and p90);
- change failure rate: rollbacks / promotions in the window;
- time to restore: a failed verification of what the ring serves -> the ring serving a verified build again.

A deploy whose post-deploy verification fails is recorded as a promotion with verified=False, then
the failure (then the rollback): the bad build did serve the ring for that while. A failure of a
digest the ring does not serve (by the record) is no outage of the ring.

A figure without data is None, shown as missing: a zero would claim something we never measured.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Mapping

from aither_assets.release_policy.events import EventKind, RingEvent, as_utc, ring_events


@dataclass(frozen=True)
class RingMetrics:
    ring: str
    start: datetime
    end: datetime
    promotions: int
    rollbacks: int
    deployment_frequency_per_day: float | None  # None: nothing of this ring recorded by the window's end
    lead_time_median: timedelta | None
    lead_time_p90: timedelta | None
    lead_time_samples: int
    lead_time_unknown: int  # PRs that went live without a known first commit time (left out, not guessed)
    change_failure_rate: float | None  # None: no promotion in the window
    time_to_restore_median: timedelta | None  # None: no failure was restored in the window
    restores: int
    unrestored_since: datetime | None  # a failure still not restored at the window's end

    def as_json(self) -> dict:
        def seconds(span: timedelta | None) -> float | None:
            return None if span is None else span.total_seconds()

        return {
            "ring": self.ring, "start": self.start.isoformat(), "end": self.end.isoformat(),
            "promotions": self.promotions, "rollbacks": self.rollbacks,
            "deployment_frequency_per_day": self.deployment_frequency_per_day,
            "lead_time_median_seconds": seconds(self.lead_time_median),
            "lead_time_p90_seconds": seconds(self.lead_time_p90),
            "lead_time_samples": self.lead_time_samples, "lead_time_unknown": self.lead_time_unknown,
            "change_failure_rate": self.change_failure_rate,
            "time_to_restore_median_seconds": seconds(self.time_to_restore_median),
            "restores": self.restores,
            "unrestored_since": self.unrestored_since.isoformat() if self.unrestored_since else None,
        }


def percentile(values: list[timedelta], fraction: float) -> timedelta | None:
    """Nearest-rank percentile: always a value that was observed, defined for one sample."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def ring_metrics(events: Iterable[RingEvent], ring: str, start: datetime, end: datetime,
                 first_commit_at: Mapping[int, datetime]) -> RingMetrics:
    """The ring's figures over [start, end); ``first_commit_at`` maps PR -> its first commit's time (GitHub)."""
    start, end = as_utc(start, "window start"), as_utc(end, "window end")
    if end <= start:
        raise ValueError(f"the metrics window must end after it starts ({start.isoformat()} .. {end.isoformat()})")
    history = ring_events(events, ring)
    inside = [e for e in history if start <= e.at < end]
    promotions = [e for e in inside if e.kind is EventKind.PROMOTION]
    rollbacks = [e for e in inside if e.kind is EventKind.ROLLBACK]

    recorded = any(e.at < end for e in history)
    frequency = len(promotions) / ((end - start) / timedelta(days=1)) if recorded else None

    # Lead time per PR: to its first go-live in this ring ever, counted in the window that go-live is in.
    first_live: dict[int, datetime] = {}
    for event in history:
        if event.kind is EventKind.PROMOTION:
            first_live.setdefault(event.pr, event.at)
    leads, unknown = [], 0
    for pr, live_at in first_live.items():
        if not start <= live_at < end:
            continue
        committed = first_commit_at.get(pr)
        committed = as_utc(committed, f"PR #{pr}'s first commit time") if committed is not None else None
        if committed is None or committed > live_at:  # unknown, or a commit date from the future: not guessed
            unknown += 1
        else:
            leads.append(live_at - committed)

    restores, unrestored = _restores(history, start, end)
    return RingMetrics(
        ring, start, end, len(promotions), len(rollbacks), frequency,
        statistics.median(leads) if leads else None, percentile(leads, 0.9), len(leads), unknown,
        len(rollbacks) / len(promotions) if promotions else None,
        statistics.median(restores) if restores else None, len(restores), unrestored)


def _restores(history: list[RingEvent], start: datetime, end: datetime) -> tuple[list[timedelta], datetime | None]:
    """Failure -> verified again, for failures in the window; further failures while down are one outage.

    Also the start of an outage still open at the window's end (it may have begun before the window).
    """
    restores: list[timedelta] = []
    down_since: datetime | None = None
    live_digest: str | None = None
    for event in history:
        if event.at >= end:
            break
        restored = False
        if event.kind in (EventKind.PROMOTION, EventKind.ROLLBACK):
            live_digest = event.digest
            restored = event.verified
        elif event.kind is EventKind.REVERIFIED:
            restored = event.digest == live_digest
        elif event.kind is EventKind.VERIFICATION_FAILED and event.digest == live_digest and down_since is None:
            down_since = event.at
        if restored and down_since is not None:
            if down_since >= start:
                restores.append(event.at - down_since)
            down_since = None
    return restores, down_since


def delivery_metrics(events: Iterable[RingEvent], ladder: Iterable[str], start: datetime, end: datetime,
                     first_commit_at: Mapping[int, datetime]) -> tuple[RingMetrics, ...]:
    """``ring_metrics`` for every ring of the ladder, in ladder order (``aither release metrics --json``)."""
    events = list(events)
    return tuple(ring_metrics(events, ring, start, end, first_commit_at) for ring in ladder)
