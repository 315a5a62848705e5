"""Soak time left for a candidate, from its stay in the ring below."""

from datetime import timedelta

from aither_assets.release_policy.soak import Presence, duration, presence, soak_status
from aither_assets_tests.release_policy.records import at, digest, failed, promo, rollback

HOUR = timedelta(hours=1)


def test_stay_in_the_ring_below_from_the_record():
    events = [promo(0, 1, "a", ring="staging"), promo(10, 2, "b", ring="staging"), promo(30, 3, "c", ring="staging")]
    assert presence(events, "staging", digest("b")) == Presence(at(10), at(30))
    assert presence(events, "staging", digest("c")) == Presence(at(30), None)
    assert presence(events, "staging", digest("z")) is None
    assert presence(events, "ring-0", digest("c")) is None


def test_a_failed_verification_below_ends_the_stay_and_a_new_go_live_restarts_it():
    events = [promo(0, 1, "a", ring="staging"), failed(20, 1, "a", ring="staging")]
    assert presence(events, "staging", digest("a")) == Presence(at(0), at(20))
    events += [promo(25, 2, "b", ring="staging"), rollback(40, 1, "a", 2, "b", ring="staging")]
    assert presence(events, "staging", digest("a")) == Presence(at(40), None)


def test_unverified_go_live_gives_no_healthy_time():
    assert presence([promo(0, 1, "a", ring="staging", verified=False)], "staging", digest("a")) == Presence(at(0), at(0))


def test_time_left_while_soaking_and_done_after():
    stay = Presence(at(0), None)
    soaking = soak_status("staging", stay, HOUR, at(40))
    assert (soaking.started, soaking.elapsed, soaking.left, soaking.done) == (True, timedelta(minutes=40),
                                                                                 timedelta(minutes=20), False)
    assert soaking.describe() == "soaked 40 min of 60 min in staging: 20 min left"
    done = soak_status("staging", stay, HOUR, at(60))
    assert done.done and done.left == timedelta(0)
    assert done.describe() == "soaked 60 min in staging (needs 60 min): done"


def test_replaced_below_before_done_never_completes():
    stalled = soak_status("staging", Presence(at(0), at(30)), HOUR, at(500))
    assert (stalled.elapsed, stalled.left, stalled.stopped_at, stalled.done) == (timedelta(minutes=30),
                                                                                  timedelta(minutes=30), at(30), False)
    assert "will not complete" in stalled.describe()
    # replaced after the soak was done: it stays done
    assert soak_status("staging", Presence(at(0), at(90)), HOUR, at(500)).done


def test_not_live_below_yet_and_no_soak_required():
    waiting = soak_status("staging", None, HOUR, at(0))
    assert not waiting.started and not waiting.done and waiting.left == HOUR
    assert waiting.describe() == "not live in staging yet: 60 min of soak to go once it is"
    assert soak_status("dev", Presence(at(0), None), timedelta(0), at(0)).done
    assert soak_status("dev", Presence(at(0), None), timedelta(0), at(0)).describe() == "no soak required in dev"


def test_a_clock_behind_the_record_counts_no_time():
    early = soak_status("staging", Presence(at(10), None), HOUR, at(0))
    assert early.elapsed == timedelta(0) and early.left == HOUR


def test_durations_read_well():
    assert [duration(timedelta(seconds=s)) for s in (5, 600, 5400, 36000, 259200, -3)] == \
        ["5 s", "10 min", "90 min", "10.0 h", "3.0 d", "0 s"]
