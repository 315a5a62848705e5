"""The rollback target: the last good digest of a ring, from the ring's record alone.

"Good" means: it was live in this ring, its latest verification there passed (a failed
re-verification revokes it, a later pass restores it), it is not held, and it is not what the
ring serves now. Nothing is rebuilt: the target is a digest that already ran in this ring.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from aither_assets.release_policy.events import EventKind, RingEvent, ring_events, short
from aither_assets.release_policy.holds import hold_book
from aither_assets.release_policy.permissions import refusal

ROLLBACK_PERMISSION = "write"  # /rollback and `aither release rollback`: the people who may promote
AUTO_ROLLBACK_REQUESTER = "policy (automatic rollback)"  # after a failed verification; no person asked
_SHOWN = 5  # refusals named in the error; it stays one readable line on a ring with a long history


class NoRollbackTarget(ValueError):
    """Nothing good to go back to; the message says what was considered and why each was refused."""


@dataclass(frozen=True)
class LiveRecord:
    """What a ring serves after the record's last event."""

    ring: str
    pr: int
    digest: str
    since: datetime
    verified: bool  # its latest verification in this ring passed


@dataclass(frozen=True)
class RollbackTarget:
    ring: str
    pr: int
    digest: str
    last_live_at: datetime  # when it last went live in this ring
    replaces_pr: int | None
    replaces_digest: str | None


@dataclass(frozen=True)
class RingHistory:
    """One replay of a ring's events: what is live, and each digest's standing in the ring."""

    live: LiveRecord | None
    verified: dict[str, bool]  # digest -> latest verification outcome in this ring
    went_live: dict[str, tuple[datetime, int]]  # digest -> (last time it went live here, its PR)


def replay(events: Iterable[RingEvent], ring: str) -> RingHistory:
    live: LiveRecord | None = None
    verified: dict[str, bool] = {}
    went_live: dict[str, tuple[datetime, int]] = {}
    for event in ring_events(events, ring):
        if event.kind in (EventKind.PROMOTION, EventKind.ROLLBACK):
            verified[event.digest] = event.verified
            went_live[event.digest] = (event.at, event.pr)
            live = LiveRecord(ring, event.pr, event.digest, event.at, event.verified)
        elif event.kind is EventKind.VERIFICATION_FAILED:
            # A failed (re-)verification revokes "verified" for this ring and digest, even if it passed before.
            verified[event.digest] = False
        elif event.kind is EventKind.REVERIFIED:
            verified[event.digest] = True
        if live is not None and live.digest == event.digest and live.verified != verified[event.digest]:
            live = LiveRecord(ring, live.pr, live.digest, live.since, verified[event.digest])
    return RingHistory(live, verified, went_live)


def live_record(events: Iterable[RingEvent], ring: str) -> LiveRecord | None:
    return replay(events, ring).live


def rollback_target(events: Iterable[RingEvent], ring: str, to_pr: int | None = None) -> RollbackTarget:
    """Where a rollback of ``ring`` goes: the last good digest, or the named PR's (it must be good too).

    ``events`` is the whole record (every ring): holds are global, a held build is never a target.
    """
    events = list(events)
    history = replay(events, ring)
    holds = hold_book(events)
    current = history.live.digest if history.live else None
    refused: list[str] = []
    # Most recently live first: "last good" is the one the ring ran most recently.
    for digest, (at, pr) in sorted(history.went_live.items(), key=lambda item: item[1][0], reverse=True):
        if to_pr is not None and pr != to_pr:
            continue
        label = f"{short(digest)} (PR #{pr})"
        if digest == current:
            refused.append(f"{label} is what {ring} serves now")
        elif holds.is_held(pr=pr, digest=digest):
            refused.append(f"{label} is held ({holds.holds_of(pr=pr, digest=digest)[0].reason or 'no reason given'})")
        elif not history.verified.get(digest):
            refused.append(f"{label} is not verified in {ring} (its last verification there did not pass)")
        else:
            return RollbackTarget(ring, pr, digest, at, history.live.pr if history.live else None, current)
    wanted = f"PR #{to_pr}'s build" if to_pr is not None else "a good digest"
    if not refused:
        never = f"PR #{to_pr} was never live in {ring}" if to_pr is not None else \
            f"nothing else was ever live in {ring}"
        raise NoRollbackTarget(f"no rollback of {ring} to {wanted}: {never}")
    shown = refused[:_SHOWN] + ([f"and {len(refused) - _SHOWN} older builds"] if len(refused) > _SHOWN else [])
    raise NoRollbackTarget(f"no rollback of {ring} to {wanted}: " + "; ".join(shown))


def check_rollback_request(ring: str, requester: str, permission: str | None, reason: str) -> str | None:
    """Why a person's rollback of ``ring`` is refused (role read from GitHub, reason required), or None.

    Soak and approvals do not apply to a rollback (recovery comes first); freezes are check_freeze's.
    """
    return refusal(f"rollback of {ring}", requester, permission, reason, ROLLBACK_PERMISSION)
