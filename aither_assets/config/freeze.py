"""Freeze windows in the operator config: per ring, recurring (weekly) windows and dated ranges.

Every window names its IANA time zone: "Friday 18:00" means nothing without one, and the
control plane's own zone (often UTC in a container) is rarely the release manager's. Times are
wall-clock times in that zone, written in quotes ("18:00"): unquoted, YAML 1.1 reads 18:00 as
the number 1080, which we refuse rather than guess.

    freeze:
      rollbacks_allowed: true          # recovery comes first
      rings:
        production:
          recurring:
            - {name: weekend, time_zone: Europe/Berlin, days: [fri], start: "18:00", end_day: mon, end: "08:00"}
            - {name: nights, time_zone: Europe/Berlin, days: [mon, tue, wed, thu], start: "22:00", end: "06:00"}
          dated:
            - {name: year-end, time_zone: America/New_York, start: "2026-12-20 00:00", end: "2027-01-04 08:00"}
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = datetime.weekday()
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HH_MM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RING = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _day(value: Any) -> str:
    text = value.strip().lower() if isinstance(value, str) else None
    if text in DAYS:
        return text
    if text in _FULL_DAYS:
        return DAYS[_FULL_DAYS.index(text)]
    raise ValueError(f"must be a day of the week: {', '.join(DAYS)}")


def _zone(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be an IANA time zone name, e.g. Europe/Berlin or UTC")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown IANA time zone; use a name such as Europe/Berlin, America/New_York or UTC") from None
    return value


def _wall_time(value: Any) -> time:
    # Only "HH:MM" text: an int here is YAML's reading of an unquoted 18:00, a time with an offset
    # contradicts the window's time_zone.
    if isinstance(value, str) and _HH_MM.match(value.strip()):
        hours, minutes = _HH_MM.match(value.strip()).groups()
        return time(int(hours), int(minutes))
    if isinstance(value, int):
        raise ValueError('write the time in quotes, e.g. "18:00" (unquoted, YAML reads 18:00 as a number)')
    raise ValueError('must be a wall-clock time "HH:MM" (00:00 to 23:59), without an offset')


def _wall_datetime(value: Any) -> datetime:
    if isinstance(value, str):
        if _DATE_ONLY.match(value.strip()):
            raise ValueError('needs a time as well as a date, e.g. "2027-01-04 08:00"')
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError('must be a local date and time "YYYY-MM-DD HH:MM"') from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        raise ValueError('needs a time as well as a date, e.g. "2027-01-04 08:00"')
    if not isinstance(value, datetime):
        raise ValueError('must be a local date and time "YYYY-MM-DD HH:MM"')
    if value.tzinfo is not None:
        raise ValueError("give the local time without an offset; time_zone says where it is")
    return value


Day = Annotated[str, BeforeValidator(_day)]
TimeZoneName = Annotated[str, BeforeValidator(_zone)]
WallTime = Annotated[time, BeforeValidator(_wall_time)]
WallDateTime = Annotated[datetime, BeforeValidator(_wall_datetime)]
WindowName = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[^\x00-\x1f\x7f]+$")]


class RecurringFreeze(_Strict):
    """Every week: from ``start`` on each of ``days`` until the next ``end`` (on ``end_day``, if given).

    Without ``end_day`` a window ends the same day, or the next day when ``end`` is not after
    ``start`` (22:00 -> 06:00 crosses midnight). With it, the window runs to the next ``end_day``
    at ``end``: fri 18:00 -> mon 08:00 is the weekend.
    """

    name: WindowName
    time_zone: TimeZoneName
    days: tuple[Day, ...] = Field(min_length=1, description="the days the window starts on")
    start: WallTime
    end: WallTime
    end_day: Day | None = None


class DatedFreeze(_Strict):
    """Once: from ``start`` to ``end``, local times in ``time_zone`` (the end is exclusive)."""

    name: WindowName
    time_zone: TimeZoneName
    start: WallDateTime
    end: WallDateTime

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")  # absent when start itself was invalid: that error says so
        if start is not None and end <= start:
            raise ValueError(f"must be after start ({start:%Y-%m-%d %H:%M})")
        return end


class RingFreeze(_Strict):
    recurring: tuple[RecurringFreeze, ...] = ()
    dated: tuple[DatedFreeze, ...] = ()


class FreezeConfig(_Strict):
    # Recovery comes first: a rollback into a frozen ring goes ahead unless the operator says otherwise.
    rollbacks_allowed: bool = True
    rings: dict[str, RingFreeze] = {}

    @field_validator("rings")
    @classmethod
    def _ring_names(cls, rings: dict[str, RingFreeze]) -> dict[str, RingFreeze]:
        bad = [name for name in rings if not _RING.match(name)]
        if bad:
            raise ValueError(f"ring names must be 1-31 of a-z 0-9 - (e.g. ring-0); got {bad}")
        return rings

    def windows(self, ring: str) -> RingFreeze:
        return self.rings.get(ring) or RingFreeze()
