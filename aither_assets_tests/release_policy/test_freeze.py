"""Freeze windows at instants: boundaries in the window's own time zone, across DST, chained windows, break-glass."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from aither_assets.config.freeze import FreezeConfig
from aither_assets.release_policy.freeze import check_freeze, freeze_at, wall_to_instant

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def config(**rings) -> FreezeConfig:
    return FreezeConfig.model_validate({"rings": rings})


WEEKEND = {"recurring": [{"name": "weekend", "time_zone": "Europe/Berlin", "days": ["fri"], "start": "18:00",
                          "end_day": "mon", "end": "08:00"}]}


def test_wall_clock_to_instant_on_an_ordinary_day_and_across_dst():
    assert wall_to_instant(datetime(2026, 12, 4, 18, 0), BERLIN) == utc(2026, 12, 4, 17, 0)  # CET, UTC+1
    assert wall_to_instant(datetime(2026, 7, 3, 18, 0), BERLIN) == utc(2026, 7, 3, 16, 0)  # CEST, UTC+2
    # 2027-03-28: Berlin clocks jump 02:00 -> 03:00; 02:30 never shows, the clock passes it at the jump
    assert wall_to_instant(datetime(2027, 3, 28, 2, 30), BERLIN) == utc(2027, 3, 28, 1, 0)
    # 2026-10-25: 02:30 shows twice (CEST, then CET); the first showing counts
    assert wall_to_instant(datetime(2026, 10, 25, 2, 30), BERLIN) == utc(2026, 10, 25, 0, 30)
    # New York jumps at 02:00 local on 2027-03-14
    assert wall_to_instant(datetime(2027, 3, 14, 2, 15), NEW_YORK) == utc(2027, 3, 14, 7, 0)


def test_weekend_window_boundaries_in_berlin_time():
    frozen = config(production=WEEKEND)
    assert freeze_at(frozen, "production", utc(2026, 12, 4, 16, 59)) is None  # Fri 17:59 in Berlin
    freeze = freeze_at(frozen, "production", utc(2026, 12, 4, 17, 0))  # Fri 18:00 in Berlin
    assert (freeze.window, freeze.time_zone) == ("weekend", "Europe/Berlin")
    assert freeze.started == utc(2026, 12, 4, 17, 0) and freeze.until == utc(2026, 12, 7, 7, 0)
    assert freeze.describe() == "production is frozen by the window 'weekend' (Europe/Berlin) until 2026-12-07 08:00 CET"
    assert freeze_at(frozen, "production", utc(2026, 12, 6, 12, 0)).window == "weekend"  # Sunday
    assert freeze_at(frozen, "production", utc(2026, 12, 7, 6, 59)) is not None  # Mon 07:59
    assert freeze_at(frozen, "production", utc(2026, 12, 7, 7, 0)) is None  # Mon 08:00: the end is exclusive
    assert freeze_at(frozen, "staging", utc(2026, 12, 5, 12, 0)) is None  # another ring is not frozen


def test_weekend_across_the_autumn_clock_change_keeps_wall_clock_ends():
    frozen = config(production=WEEKEND)
    # Fri 2026-10-23 18:00 CEST (16:00 UTC) -> Mon 2026-10-26 08:00 CET (07:00 UTC): 63 hours, not 62
    freeze = freeze_at(frozen, "production", utc(2026, 10, 25, 1, 30))  # inside the repeated hour
    assert (freeze.started, freeze.until) == (utc(2026, 10, 23, 16, 0), utc(2026, 10, 26, 7, 0))
    assert freeze.until - freeze.started == timedelta(hours=63)  # instants are UTC: arithmetic is real time


def test_window_starting_in_the_spring_gap_starts_at_the_jump():
    frozen = config(dev={"recurring": [{"name": "early", "time_zone": "Europe/Berlin", "days": ["sun"],
                                        "start": "02:30", "end": "04:00"}]})
    assert freeze_at(frozen, "dev", utc(2027, 3, 28, 0, 59)) is None  # 01:59 CET
    freeze = freeze_at(frozen, "dev", utc(2027, 3, 28, 1, 0))  # 03:00 CEST: the clock passed 02:30
    assert freeze.started == utc(2027, 3, 28, 1, 0) and freeze.until == utc(2027, 3, 28, 2, 0)


def test_nightly_window_crosses_midnight_from_its_start_day_only():
    frozen = config(staging={"recurring": [{"name": "nights", "time_zone": "UTC", "days": ["mon", "thu"],
                                            "start": "22:00", "end": "06:00"}]})
    assert freeze_at(frozen, "staging", utc(2026, 12, 8, 2, 0)).until == utc(2026, 12, 8, 6, 0)  # Tue, from Mon
    assert freeze_at(frozen, "staging", utc(2026, 12, 11, 5, 59)) is not None  # Fri, from Thu
    assert freeze_at(frozen, "staging", utc(2026, 12, 9, 2, 0)) is None  # Wed: Tue is no start day
    assert freeze_at(frozen, "staging", utc(2026, 12, 7, 21, 59)) is None


def test_dated_range_in_new_york_ends_at_new_york_time():
    frozen = config(production={"dated": [{"name": "year-end", "time_zone": "America/New_York",
                                           "start": "2026-12-20 00:00", "end": "2027-01-04 08:00"}]})
    assert freeze_at(frozen, "production", utc(2026, 12, 20, 4, 59)) is None  # 23:59 EST on the 19th
    assert freeze_at(frozen, "production", utc(2026, 12, 20, 5, 0)).window == "year-end"
    freeze = freeze_at(frozen, "production", utc(2027, 1, 4, 12, 59))  # 07:59 EST
    assert freeze.until == utc(2027, 1, 4, 13, 0) and freeze.local(freeze.until).hour == 8
    assert freeze.describe().endswith("until 2027-01-04 08:00 EST")
    assert freeze_at(frozen, "production", utc(2027, 1, 4, 13, 0)) is None


def test_abutting_and_overlapping_windows_chain_to_when_the_ring_really_thaws():
    rings = dict(WEEKEND)
    rings["dated"] = [{"name": "monday-migration", "time_zone": "UTC", "start": "2026-12-07 07:00",
                       "end": "2026-12-07 12:00"},
                      {"name": "after", "time_zone": "UTC", "start": "2026-12-07 11:00", "end": "2026-12-07 13:30"}]
    freeze = freeze_at(config(production=rings), "production", utc(2026, 12, 5, 12, 0))
    assert (freeze.window, freeze.ends) == ("weekend", utc(2026, 12, 7, 7, 0))
    assert freeze.until == utc(2026, 12, 7, 13, 30)
    # inside the overlap the window reported is the one ending last
    assert freeze_at(config(production=rings), "production", utc(2026, 12, 7, 11, 30)).window == "after"


def test_a_ring_frozen_every_day_reports_a_bounded_until():
    every_day = {"recurring": [{"name": "always", "time_zone": "UTC", "days": ["mon", "tue", "wed", "thu", "fri",
                                                                               "sat", "sun"],
                                "start": "00:00", "end": "00:00"}]}
    freeze = freeze_at(config(dev=every_day), "dev", utc(2026, 12, 5, 12, 0))
    assert freeze.until > utc(2027, 12, 1)  # followed for a year and more, then reported "until at least"


def test_naive_instant_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        freeze_at(config(), "dev", datetime(2026, 12, 5, 12, 0))


SATURDAY = utc(2026, 12, 5, 12, 0)


def test_promotion_into_a_frozen_ring_is_refused_naming_the_window():
    decision = check_freeze(config(production=WEEKEND), "production", SATURDAY)
    assert not decision.allowed and decision.freeze.window == "weekend"
    assert decision.reason == ("promotion into production refused: production is frozen by the window 'weekend' "
                               "(Europe/Berlin) until 2026-12-07 08:00 CET; a break-glass promotion needs "
                               "--break-glass --reason from a repository admin")


def test_break_glass_by_a_writer_is_refused():
    decision = check_freeze(config(production=WEEKEND), "production", SATURDAY, break_glass=True,
                            reason="hotfix", requester="walt", permission="write")
    assert not decision.allowed and not decision.break_glass
    assert decision.reason.endswith("; break-glass by walt refused: they have write permission on the repository, "
                                    "admin is needed")
    unauthenticated = check_freeze(config(production=WEEKEND), "production", SATURDAY, break_glass=True,
                                   reason="hotfix", requester="Dagster UI (unauthenticated)", permission=None)
    assert "they have no permission" in unauthenticated.reason and not unauthenticated.allowed


def test_break_glass_by_an_admin_needs_a_reason_and_is_recorded_as_such():
    frozen = config(production=WEEKEND)
    no_reason = check_freeze(frozen, "production", SATURDAY, break_glass=True, requester="ada", permission="admin")
    assert not no_reason.allowed and no_reason.reason.endswith("; break-glass needs a reason")
    decision = check_freeze(frozen, "production", SATURDAY, break_glass=True, reason="CVE fix",
                            requester="ada", permission="admin")
    assert decision.allowed and decision.break_glass
    assert decision.reason.startswith("break-glass promotion by ada during a freeze: production is frozen")


def test_outside_a_freeze_nothing_is_break_glass():
    decision = check_freeze(config(production=WEEKEND), "production", utc(2026, 12, 8, 12, 0), break_glass=True,
                            reason="x", requester="ada", permission="admin")
    assert decision.allowed and not decision.break_glass and decision.freeze is None


def test_rollbacks_go_ahead_during_a_freeze_unless_configured_otherwise():
    allowed = check_freeze(config(production=WEEKEND), "production", SATURDAY, rollback=True)
    assert allowed.allowed and not allowed.break_glass and allowed.freeze.window == "weekend"
    strict = FreezeConfig.model_validate({"rollbacks_allowed": False, "rings": {"production": WEEKEND}})
    refused = check_freeze(strict, "production", SATURDAY, rollback=True)
    assert not refused.allowed and refused.reason.startswith("rollback into production refused")
    assert check_freeze(strict, "production", SATURDAY, rollback=True, break_glass=True, reason="outage",
                        requester="ada", permission="admin").break_glass


def test_window_ending_on_its_start_day_before_its_start_time_lasts_almost_a_week():
    frozen = config(dev={"recurring": [{"name": "week", "time_zone": "UTC", "days": ["mon"], "start": "10:00",
                                        "end_day": "mon", "end": "09:00"}]})
    freeze = freeze_at(frozen, "dev", utc(2026, 12, 13, 12, 0))  # Sunday, inside the window from Mon 7th
    assert (freeze.started, freeze.until) == (utc(2026, 12, 7, 10, 0), utc(2026, 12, 14, 9, 0))
    assert freeze_at(frozen, "dev", utc(2026, 12, 14, 9, 30)) is None  # the hour between two weeks


@pytest.mark.parametrize(("window", "on_local_clock"), [
    # the weekend in Berlin: Fri 18:00 -> Mon 08:00 by the wall clock
    ({"name": "weekend", "time_zone": "Europe/Berlin", "days": ["fri"], "start": "18:00", "end_day": "mon",
      "end": "08:00"},
     lambda t: (t.weekday() == 4 and t.hour >= 18) or t.weekday() in (5, 6) or (t.weekday() == 0 and t.hour < 8)),
    # nights in New York, every day 22:00 -> 06:00: both DST changes (at 02:00) fall inside it
    ({"name": "nights", "time_zone": "America/New_York", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
      "start": "22:00", "end": "06:00"},
     lambda t: t.hour >= 22 or t.hour < 6),
])
def test_a_year_of_instants_agrees_with_the_wall_clock(window, on_local_clock):
    frozen = config(dev={"recurring": [window]})
    zone = ZoneInfo(window["time_zone"])
    instant, step = utc(2026, 1, 1), timedelta(minutes=97)
    while instant < utc(2027, 1, 1):
        assert (freeze_at(frozen, "dev", instant) is not None) == on_local_clock(instant.astimezone(zone)), instant
        instant += step
