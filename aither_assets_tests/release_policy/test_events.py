"""A ring record that would make later answers wrong is refused when it is made."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from aither_assets.release_policy.events import EventKind, RingEvent, in_order, ring_events
from aither_assets_tests.release_policy.records import at, digest, hold, promo, rollback


def test_naive_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        RingEvent(EventKind.HOLD, 1, None, datetime(2026, 12, 1, 9, 0))


@pytest.mark.parametrize("kind", [EventKind.PROMOTION, EventKind.ROLLBACK, EventKind.VERIFICATION_FAILED,
                                  EventKind.REVERIFIED])
def test_ring_events_need_a_ring_and_a_digest(kind):
    with pytest.raises(ValueError, match="needs a ring"):
        RingEvent(kind, 1, digest("a"), at(0))
    with pytest.raises(ValueError, match="needs a digest"):
        RingEvent(kind, 1, None, at(0), ring="dev")


def test_rollback_names_both_what_it_replaced_or_neither():
    with pytest.raises(ValueError, match="both the PR and the digest"):
        RingEvent(EventKind.ROLLBACK, 1, digest("a"), at(0), ring="dev", replaced_pr=2)


def test_order_is_by_time_and_stable_for_equal_times():
    first, second, earlier = promo(5, 1, "a"), promo(5, 2, "b"), promo(1, 3, "c")
    assert in_order([first, second, earlier]) == [earlier, first, second]


def test_ring_events_keep_one_ring_and_leave_holds_out():
    events = [promo(1, 1, "a", ring="dev"), promo(2, 1, "a", ring="staging"), hold(3, 1, "a"),
              rollback(4, 2, "b", 1, "a", ring="dev")]
    assert [e.at for e in ring_events(events, "dev")] == [at(1), at(4)]


def test_times_are_kept_in_utc_so_order_is_real_time_across_dst():
    berlin = ZoneInfo("Europe/Berlin")
    # 2026-10-25: 02:30 CEST (00:30 UTC) happens before 02:10 CET (01:10 UTC)
    first = RingEvent(EventKind.HOLD, 1, None, datetime(2026, 10, 25, 2, 30, fold=0, tzinfo=berlin))
    second = RingEvent(EventKind.HOLD, 2, None, datetime(2026, 10, 25, 2, 10, fold=1, tzinfo=berlin))
    assert first.at == datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc) and first.at.tzinfo is timezone.utc
    assert in_order([second, first]) == [first, second]
