"""Hand-made ring records for the release policy tests: short to write, real RingEvents."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from aither_assets.release_policy.events import EventKind, RingEvent

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def digest(name: str) -> str:
    """A well-formed digest that names the build in test failures: digest('a') -> sha256:aaaa..."""
    return "sha256:" + (name * 64)[:64]


def promo(minute: float, pr: int, build: str, ring: str = "ring-0", verified: bool = True, by: str = "alice",
          reason: str = "ship it") -> RingEvent:
    return RingEvent(EventKind.PROMOTION, pr, digest(build), at(minute), by, reason, ring, verified=verified)


def rollback(minute: float, pr: int, build: str, from_pr: int, from_build: str, ring: str = "ring-0",
             verified: bool = True, by: str = "bob", reason: str = "bad build") -> RingEvent:
    return RingEvent(EventKind.ROLLBACK, pr, digest(build), at(minute), by, reason, ring, verified=verified,
                     replaced_pr=from_pr, replaced_digest=digest(from_build))


def failed(minute: float, pr: int, build: str, ring: str = "ring-0") -> RingEvent:
    return RingEvent(EventKind.VERIFICATION_FAILED, pr, digest(build), at(minute), "aither", "smoke failed", ring)


def reverified(minute: float, pr: int, build: str, ring: str = "ring-0") -> RingEvent:
    return RingEvent(EventKind.REVERIFIED, pr, digest(build), at(minute), "aither", "", ring)


def hold(minute: float, pr: int, build: str | None = None, by: str = "carol", reason: str = "flaky") -> RingEvent:
    return RingEvent(EventKind.HOLD, pr, digest(build) if build else None, at(minute), by, reason)


def unhold(minute: float, pr: int, build: str | None = None, by: str = "carol", reason: str = "fixed") -> RingEvent:
    return RingEvent(EventKind.UNHOLD, pr, digest(build) if build else None, at(minute), by, reason)
