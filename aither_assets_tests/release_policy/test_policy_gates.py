"""Held and frozen as gates of every promotion, listed beside issue 14's gates."""

from datetime import datetime, timezone

from aither_assets.config.freeze import FreezeConfig
from aither_assets.release_policy.freeze import check_freeze
from aither_assets.release_policy.holds import hold_book
from aither_assets.release_policy.policy_gates import policy_gates
from aither_assets_tests.release_policy.records import digest, hold, rollback

FROZEN = FreezeConfig.model_validate({"rings": {"production": {"dated": [
    {"name": "launch", "time_zone": "UTC", "start": "2026-12-01 00:00", "end": "2026-12-02 00:00"}]}}})
DURING = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
AFTER = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


def test_held_and_frozen_are_both_listed():
    holds = hold_book([rollback(20, 1, "a", 2, "b", reason="500s"), hold(25, 2, reason="and by hand")])
    gates = policy_gates(holds, check_freeze(FROZEN, "production", DURING), 2, digest("b"))
    assert [g.gate for g in gates] == ["held", "held", "frozen"]
    assert gates[0].reason.startswith("PR #2 (sha256:bbbbbbbbbbbb) held since ") and gates[0].reason.endswith(
        ": 500s; release it with `aither release unhold 2 --reason ...` or /unhold")
    assert gates[2].reason.startswith("promotion into production refused: production is frozen by the window 'launch'")


def test_nothing_unmet_outside_a_freeze_for_a_build_not_held():
    holds = hold_book([rollback(20, 1, "a", 2, "b")])
    assert policy_gates(holds, check_freeze(FROZEN, "production", AFTER), 2, digest("c")) == ()


def test_break_glass_by_an_admin_passes_the_freeze_gate():
    decision = check_freeze(FROZEN, "production", DURING, break_glass=True, reason="CVE", requester="ada",
                            permission="admin")
    assert policy_gates(hold_book([]), decision, 3, digest("c")) == ()
