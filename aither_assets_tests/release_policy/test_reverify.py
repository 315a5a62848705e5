"""The periodic re-verification of a live ring: due from the last check of what it serves."""

from datetime import timedelta

from aither_assets.release_policy.reverify import next_reverification
from aither_assets_tests.release_policy.records import at, digest, failed, promo, reverified, rollback

TEN = timedelta(minutes=10)


def test_due_ten_minutes_after_the_deploy_then_after_each_check():
    events = [promo(0, 1, "a"), promo(5, 2, "b")]
    due = next_reverification(events, "ring-0", TEN)
    assert (due.pr, due.digest, due.last_checked, due.due_at) == (2, digest("b"), at(5), at(15))
    assert not due.due(at(14)) and due.due(at(15))
    events += [reverified(15, 2, "b"), failed(26, 1, "a")]  # a check of a build it no longer serves: ignored
    assert next_reverification(events, "ring-0", TEN).due_at == at(25)
    events += [failed(27, 2, "b")]
    assert next_reverification(events, "ring-0", TEN).due_at == at(37)


def test_a_rollback_is_a_deploy_and_restarts_the_clock():
    events = [promo(0, 1, "a"), promo(5, 2, "b"), failed(15, 2, "b"), rollback(16, 1, "a", 2, "b")]
    due = next_reverification(events, "ring-0", TEN)
    assert (due.pr, due.due_at) == (1, at(26))


def test_nothing_live_or_no_schedule_means_no_reverification():
    assert next_reverification([], "ring-0", TEN) is None
    assert next_reverification([promo(0, 1, "a", ring="dev")], "ring-0", TEN) is None
    assert next_reverification([promo(0, 1, "a")], "ring-0", timedelta(0)) is None
