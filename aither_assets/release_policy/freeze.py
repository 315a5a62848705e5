"""Is a ring frozen at an instant, by which window, until when; and may this promotion go ahead anyway.

Wall-clock times become instants by one rule, also across daylight-saving changes: a window
starts (or ends) at the first instant the local clock shows that time. So a start in the
spring-forward gap (02:30 on a day that skips 02:00-03:00) starts when the clock jumps to
03:00, and a time the autumn fall-back shows twice counts at its first showing.

Instants are kept in UTC and converted to the window's zone only to be shown: Python compares
and subtracts two datetimes of the *same* zone by wall clock, which is wrong across a DST change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from aither_assets.config.freeze import DAYS, DatedFreeze, FreezeConfig, RecurringFreeze
from aither_assets.release_policy.events import as_utc
from aither_assets.release_policy.permissions import refusal

BREAK_GLASS_PERMISSION = "admin"
_MAX_CHAIN = 400  # windows followed end to end before we stop (a ring frozen a year ahead is frozen "until at least")


def wall_to_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first instant (in UTC) at which the clock in ``zone`` shows ``wall`` or later (see the module docstring)."""
    def shows(instant: datetime) -> datetime:
        return instant.astimezone(zone).replace(tzinfo=None)

    earlier, later = sorted(wall.replace(tzinfo=zone, fold=fold).astimezone(timezone.utc) for fold in (0, 1))
    existing = [instant for instant in (earlier, later) if shows(instant) == wall]
    if existing:
        return existing[0]
    # In a gap: the clock jumps past ``wall`` somewhere between the two readings; find the jump to the second.
    low, high = int(earlier.timestamp()), int(later.timestamp()) + 1
    while high - low > 1:
        middle = (low + high) // 2
        if shows(datetime.fromtimestamp(middle, timezone.utc)) >= wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, timezone.utc)


@dataclass(frozen=True)
class Span:
    window: str
    time_zone: str
    start: datetime  # UTC
    end: datetime  # UTC, exclusive

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


def recurring_spans(window: RecurringFreeze, near: datetime) -> list[Span]:
    """The window's weekly occurrences that could contain ``near`` (they last at most a week)."""
    zone = ZoneInfo(window.time_zone)
    today = near.astimezone(zone).date()
    spans = []
    for back in range(8, -2, -1):
        day = today - timedelta(days=back)
        if DAYS[day.weekday()] not in window.days:
            continue
        start = datetime.combine(day, window.start)
        if window.end_day is None:
            end = datetime.combine(day, window.end)
            if end <= start:
                end += timedelta(days=1)
        else:
            end = datetime.combine(day + timedelta(days=(DAYS.index(window.end_day) - day.weekday()) % 7), window.end)
            if end <= start:
                end += timedelta(days=7)
        spans.append(Span(window.name, window.time_zone, wall_to_instant(start, zone), wall_to_instant(end, zone)))
    return spans


def dated_span(window: DatedFreeze) -> Span:
    zone = ZoneInfo(window.time_zone)
    return Span(window.name, window.time_zone, wall_to_instant(window.start, zone), wall_to_instant(window.end, zone))


def spans_at(config: FreezeConfig, ring: str, instant: datetime) -> list[Span]:
    windows = config.windows(ring)
    candidates = [span for window in windows.recurring for span in recurring_spans(window, instant)]
    candidates += [dated_span(window) for window in windows.dated]
    return [span for span in candidates if span.contains(instant)]


@dataclass(frozen=True)
class ActiveFreeze:
    ring: str
    window: str  # the window that freezes the ring now (of several, the one ending last)
    time_zone: str
    started: datetime  # UTC, like every instant here
    ends: datetime  # when this window ends
    until: datetime  # when the ring thaws: later than ``ends`` when another window starts before it ends

    def local(self, instant: datetime) -> datetime:
        """``instant`` on the window's own clock, for people (never for arithmetic)."""
        return instant.astimezone(ZoneInfo(self.time_zone))

    def describe(self) -> str:
        until = self.local(self.until).strftime("%Y-%m-%d %H:%M %Z")
        return f"{self.ring} is frozen by the window '{self.window}' ({self.time_zone}) until {until}"


def freeze_at(config: FreezeConfig, ring: str, instant: datetime) -> ActiveFreeze | None:
    """The window freezing ``ring`` at ``instant``, or None when promotions may go in."""
    instant = as_utc(instant, "the instant asked about")
    active = spans_at(config, ring, instant)
    if not active:
        return None
    first = max(active, key=lambda span: span.end)
    until = first.end
    # Follow windows that overlap or abut: the ring is not open between them.
    for _ in range(_MAX_CHAIN):
        following = [span for span in spans_at(config, ring, until) if span.end > until]
        if not following:
            break
        until = max(following, key=lambda span: span.end).end
    return ActiveFreeze(ring, first.window, first.time_zone, first.start, first.end, until)


@dataclass(frozen=True)
class FreezeDecision:
    allowed: bool
    freeze: ActiveFreeze | None
    break_glass: bool  # went ahead only because of break-glass: record it as such
    reason: str


def check_freeze(config: FreezeConfig, ring: str, instant: datetime, *, rollback: bool = False,
                 break_glass: bool = False, reason: str = "", requester: str = "",
                 permission: str | None = None) -> FreezeDecision:
    """May a promotion (or rollback) into ``ring`` go ahead at ``instant``?

    ``permission`` is the requester's role on the repository as GitHub reports it. Break-glass
    takes all three: the flag, a reason, and an admin; anything less is refused and says which.
    """
    freeze = freeze_at(config, ring, instant)
    action = "rollback" if rollback else "promotion"
    if freeze is None:
        return FreezeDecision(True, None, False, f"{ring} is not frozen")
    if rollback and config.rollbacks_allowed:
        return FreezeDecision(True, freeze, False, f"{freeze.describe()}; rollbacks are allowed during a freeze")
    refused = f"{action} into {ring} refused: {freeze.describe()}"
    if not break_glass:
        return FreezeDecision(False, freeze, False,
                              f"{refused}; a break-glass {action} needs --break-glass --reason from a repository admin")
    refused_break_glass = refusal("break-glass", requester, permission, reason, BREAK_GLASS_PERMISSION)
    if refused_break_glass:
        return FreezeDecision(False, freeze, False, f"{refused}; {refused_break_glass}")
    who = requester or "an unknown requester"
    return FreezeDecision(True, freeze, True, f"break-glass {action} by {who} during a freeze: {freeze.describe()}")
