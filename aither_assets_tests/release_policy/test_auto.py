"""Automatic promotion picks the newest eligible build, never a held or older one, one per ring at a time."""

from dataclasses import dataclass
from datetime import timedelta

import pytest

from aither_assets.config.freeze import FreezeConfig
from aither_assets.release_policy.auto import AUTO_REQUESTER, Build, LiveBuild, choose_auto_promotion
from aither_assets.release_policy.freeze import freeze_at
from aither_assets.release_policy.holds import hold_book
from aither_assets_tests.release_policy.records import at, digest, hold, rollback

NO_HOLDS = hold_book([])


@dataclass(frozen=True)
class Unmet:  # the shape of issue 14's UnmetGate
    gate: str
    reason: str

LIVE = LiveBuild(1, digest("a"), at(0))


def build(pr: int, name: str, minute: float, *gates: str, soak_left: float | None = None) -> Build:
    left = timedelta(minutes=soak_left) if soak_left is not None else None
    unmet = tuple(Unmet(*gate.split(": ", 1)) for gate in gates)
    return Build(pr, digest(name), at(minute), unmet, left)


def reasons(decision) -> dict[int, str]:
    return {r.build.pr: r.reason for r in decision.rejected}


def test_newest_eligible_build_is_chosen_and_the_rest_say_why():
    candidates = [build(2, "b", 10), build(3, "c", 20), build(4, "d", 30, "approvals: 0 of 1 approval")]
    decision = choose_auto_promotion("ring-1", True, LIVE, candidates, NO_HOLDS, None, None)
    assert decision.chosen.pr == 3 and decision.requester == AUTO_REQUESTER and decision.blocked is None
    assert reasons(decision) == {
        4: "unmet gates: approvals: 0 of 1 approval",
        2: "a newer eligible build was chosen (PR #3, sha256:cccccccccccc)",
    }
    assert decision.describe() == "promote PR #3 (sha256:cccccccccccc) into ring-1 automatically"


def test_held_build_is_never_chosen_even_when_newest():
    holds = hold_book([rollback(40, 1, "a", 5, "e", ring="ring-0"), hold(41, 6)])
    candidates = [build(5, "e", 30), build(6, "f", 35), build(2, "b", 10)]
    decision = choose_auto_promotion("ring-1", True, LIVE, candidates, holds, None, None)
    assert decision.chosen.pr == 2
    assert reasons(decision)[5].startswith("held: PR #5 (sha256:eeeeeeeeeeee) held since")
    assert reasons(decision)[6].startswith("held: PR #6 (every build) held since")


def test_build_not_newer_than_live_is_never_chosen():
    live = LiveBuild(3, digest("c"), at(20))
    candidates = [build(2, "b", 10), build(3, "c", 20), build(9, "x", 20)]
    decision = choose_auto_promotion("ring-1", True, live, candidates, NO_HOLDS, None, None)
    assert decision.chosen is None and decision.describe() == "no automatic promotion into ring-1: no eligible build"
    assert reasons(decision)[3] == "already live"
    assert reasons(decision)[2] == ("built 2026-12-01T09:10:00+00:00, not after what is live (PR #3, built "
                                    "2026-12-01T09:20:00+00:00): automation never goes back; a person may")
    assert "not after what is live" in reasons(decision)[9]  # same build time: not newer


def test_one_promotion_per_ring_at_a_time():
    decision = choose_auto_promotion("ring-1", True, LIVE, [build(2, "b", 10)], NO_HOLDS, None, "run 1a2b3c4d")
    assert decision.chosen is None
    assert decision.blocked == "a promotion of ring-1 is already queued or running (run 1a2b3c4d): one at a time"
    assert reasons(decision) == {2: decision.blocked}  # the build that would go next says what it waits for


def test_ring_not_opted_in_or_frozen_takes_nothing():
    off = choose_auto_promotion("ring-1", False, LIVE, [build(2, "b", 10)], NO_HOLDS, None, None)
    assert off.chosen is None and off.blocked == "automatic promotion is off for ring-1 (operator config)"
    frozen_config = FreezeConfig.model_validate({"rings": {"ring-1": {"dated": [
        {"name": "launch", "time_zone": "UTC", "start": "2026-12-01 00:00", "end": "2026-12-02 00:00"}]}}})
    freeze = freeze_at(frozen_config, "ring-1", at(30))
    frozen = choose_auto_promotion("ring-1", True, LIVE, [build(2, "b", 10)], NO_HOLDS, freeze, None)
    assert frozen.chosen is None and frozen.blocked.startswith("ring-1 is frozen by the window 'launch'")


def test_empty_ring_takes_the_newest_eligible_build():
    decision = choose_auto_promotion("dev", True, None, [build(2, "b", 10), build(3, "c", 5)], NO_HOLDS, None, None)
    assert decision.chosen.pr == 2


def test_unknown_build_time_of_live_blocks_rather_than_guess():
    live = LiveBuild(1, digest("a"), None)
    decision = choose_auto_promotion("ring-1", True, live, [build(2, "b", 10)], NO_HOLDS, None, None)
    assert decision.chosen is None and "build time of what is live in ring-1 is not recorded" in decision.blocked


def test_retry_after_is_the_shortest_soak_of_builds_waiting_only_for_soak():
    candidates = [build(2, "b", 10, "soak: 40 min left", soak_left=40),
                  build(3, "c", 20, "soak: 15 min left", soak_left=15),
                  build(4, "d", 30, "soak: 1 min left", "approvals: 0 of 1", soak_left=1)]
    decision = choose_auto_promotion("ring-1", True, LIVE, candidates, NO_HOLDS, None, None)
    assert decision.chosen is None and decision.retry_after == timedelta(minutes=15)


def test_build_times_in_other_zones_compare_as_instants():
    from zoneinfo import ZoneInfo
    berlin = ZoneInfo("Europe/Berlin")
    # 2026-10-25 02:30 CEST (00:30 UTC) is before 02:10 CET (01:10 UTC), though its wall clock is later
    live = LiveBuild(1, digest("a"), at(0).replace(year=2026, month=10, day=25, hour=2, minute=30, tzinfo=berlin))
    newer = Build(2, digest("b"), at(0).replace(year=2026, month=10, day=25, hour=2, minute=10, fold=1, tzinfo=berlin))
    assert choose_auto_promotion("dev", True, live, [newer], NO_HOLDS, None, None).chosen == newer
    with pytest.raises(ValueError, match="build time must be timezone-aware"):
        Build(3, digest("c"), at(0).replace(tzinfo=None))
