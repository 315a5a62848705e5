"""Delivery metrics from hand-made ring records: real figures, and None (missing) where there is no data."""

import json
from datetime import timedelta

import pytest

from aither_assets.release_policy.metrics import delivery_metrics, percentile, ring_metrics
from aither_assets_tests.release_policy.records import at, failed, promo, reverified, rollback

START, END = at(0), at(2 * 24 * 60)  # a two-day window
MIN = timedelta(minutes=1)


def test_no_events_gives_missing_figures_not_zeros():
    metrics = ring_metrics([], "ring-0", START, END, {})
    assert (metrics.promotions, metrics.rollbacks, metrics.lead_time_samples, metrics.restores) == (0, 0, 0, 0)
    assert metrics.deployment_frequency_per_day is None
    assert metrics.lead_time_median is None and metrics.lead_time_p90 is None
    assert metrics.change_failure_rate is None and metrics.time_to_restore_median is None
    assert metrics.unrestored_since is None
    shown = json.loads(json.dumps(metrics.as_json()))
    assert shown["deployment_frequency_per_day"] is None and shown["change_failure_rate"] is None
    assert shown["lead_time_median_seconds"] is None and shown["time_to_restore_median_seconds"] is None


def test_one_promotion():
    metrics = ring_metrics([promo(60, 7, "a")], "ring-0", START, END, {7: at(-30)})
    assert metrics.promotions == 1 and metrics.deployment_frequency_per_day == 0.5
    assert metrics.lead_time_median == metrics.lead_time_p90 == 90 * MIN
    assert metrics.change_failure_rate == 0.0  # one promotion, no rollback: a measured zero
    assert metrics.time_to_restore_median is None
    assert metrics.as_json()["lead_time_median_seconds"] == 5400.0


def test_a_ring_active_before_the_window_but_quiet_in_it_measures_zero_frequency():
    metrics = ring_metrics([promo(-100, 1, "a")], "ring-0", START, END, {})
    assert metrics.deployment_frequency_per_day == 0.0 and metrics.change_failure_rate is None


def test_full_history_of_promotions_failures_rollbacks_and_restores():
    events = [
        promo(0, 1, "a"), promo(100, 2, "b"),
        failed(130, 2, "b"), failed(135, 2, "b"),  # one outage, seen twice
        rollback(140, 1, "a", 2, "b"),  # restored after 10 min
        promo(200, 3, "c"), failed(300, 3, "c"), reverified(330, 3, "c"),  # restored after 30 min, in place
        promo(400, 4, "d"), failed(401, 9, "z"),  # a failure of a digest the ring does not serve: no outage
        promo(500, 5, "e", verified=False), failed(501, 5, "e"), rollback(521, 4, "d", 5, "e"),  # 20 min
        promo(50, 2, "b", ring="staging"), rollback(60, 1, "a", 2, "b", ring="staging"),  # another ring
    ]
    first_commits = {1: at(-60), 2: at(40), 3: at(190), 4: at(0), 5: at(400)}
    metrics = ring_metrics(events, "ring-0", START, END, first_commits)
    assert (metrics.promotions, metrics.rollbacks) == (5, 2)
    assert metrics.deployment_frequency_per_day == 2.5
    assert metrics.change_failure_rate == pytest.approx(0.4)
    # lead times: 60, 60, 10, 400, 100 min -> median 60, p90 (nearest rank 5 of 5) 400
    assert (metrics.lead_time_median, metrics.lead_time_p90, metrics.lead_time_samples) == (60 * MIN, 400 * MIN, 5)
    assert metrics.restores == 3 and metrics.time_to_restore_median == 20 * MIN
    assert metrics.unrestored_since is None


def test_a_restore_that_has_not_happened_yet():
    events = [promo(0, 1, "a"), promo(100, 2, "b"), failed(130, 2, "b")]
    metrics = ring_metrics(events, "ring-0", START, END, {})
    assert metrics.restores == 0 and metrics.time_to_restore_median is None
    assert metrics.unrestored_since == at(130)
    assert metrics.as_json()["unrestored_since"] == "2026-12-01T11:10:00+00:00"
    # an outage that began before the window is still open at its end
    later = ring_metrics(events, "ring-0", at(200), at(300), {})
    assert later.unrestored_since == at(130) and later.restores == 0


def test_window_edges_start_included_end_excluded_and_restores_counted_by_failure_time():
    events = [promo(0, 1, "a"), promo(60, 2, "b"), failed(90, 2, "b"), rollback(150, 1, "a", 2, "b")]
    metrics = ring_metrics(events, "ring-0", at(0), at(60), {})
    assert metrics.promotions == 1
    assert ring_metrics(events, "ring-0", at(60), at(120), {}).promotions == 1
    # the failure at 90 is in [60, 200): restored at 150
    assert ring_metrics(events, "ring-0", at(60), at(200), {}).time_to_restore_median == 60 * MIN
    # window ends before the restore: still open then
    assert ring_metrics(events, "ring-0", at(60), at(120), {}).unrestored_since == at(90)


def test_lead_time_leaves_out_prs_without_a_believable_first_commit():
    events = [promo(10, 1, "a"), promo(20, 2, "b"), promo(30, 1, "c")]  # PR 1 counts from its first go-live
    metrics = ring_metrics(events, "ring-0", START, END, {1: at(0), 2: at(25)})  # PR 2's commit is "after" go-live
    assert (metrics.lead_time_samples, metrics.lead_time_unknown) == (1, 1)
    assert metrics.lead_time_median == 10 * MIN
    none_known = ring_metrics(events, "ring-0", START, END, {})
    assert none_known.lead_time_median is None and none_known.lead_time_unknown == 2


def test_percentile_is_nearest_rank():
    values = [timedelta(minutes=m) for m in range(1, 11)]
    assert percentile(values, 0.9) == 9 * MIN and percentile(values, 0.5) == 5 * MIN
    assert percentile([3 * MIN], 0.9) == 3 * MIN and percentile([], 0.9) is None


def test_every_ring_of_the_ladder_in_order_and_a_bad_window_is_refused():
    events = [promo(0, 1, "a", ring="dev"), promo(5, 1, "a", ring="staging")]
    rings = delivery_metrics(events, ("dev", "staging", "ring-0"), START, END, {})
    assert [(m.ring, m.promotions) for m in rings] == [("dev", 1), ("staging", 1), ("ring-0", 0)]
    assert rings[2].deployment_frequency_per_day is None
    with pytest.raises(ValueError, match="must end after it starts"):
        ring_metrics(events, "dev", END, START, {})
