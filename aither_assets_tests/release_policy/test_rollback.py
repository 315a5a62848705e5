"""The rollback target from a ring's record: last live, verified, not held, not current."""

import pytest

from aither_assets.release_policy.rollback import (
    NoRollbackTarget,
    check_rollback_request,
    live_record,
    replay,
    rollback_target,
)
from aither_assets_tests.release_policy.records import at, digest, failed, hold, promo, reverified, rollback, unhold


def test_last_good_is_the_previous_verified_digest():
    events = [promo(0, 1, "a"), promo(10, 2, "b"), promo(20, 3, "c")]
    target = rollback_target(events, "ring-0")
    assert (target.pr, target.digest, target.last_live_at) == (2, digest("b"), at(10))
    assert (target.replaces_pr, target.replaces_digest) == (3, digest("c"))


def test_rollback_skips_a_held_build():
    # b was held by hand (e.g. it broke ring-1): the rollback goes past it to a
    events = [promo(0, 1, "a"), promo(10, 2, "b"), promo(20, 3, "c"), hold(25, 2, "b", reason="broke ring-1")]
    target = rollback_target(events, "ring-0")
    assert target.digest == digest("a")


def test_hold_from_a_rollback_in_another_ring_counts_here_too():
    # c broke ring-1 and was rolled back there: in ring-0 it is skipped although it ran fine there
    events = [promo(0, 1, "a"), promo(10, 2, "b"), promo(20, 3, "c"), promo(30, 4, "d"),
              promo(12, 2, "b", ring="ring-1"), promo(22, 3, "c", ring="ring-1"), rollback(25, 2, "b", 3, "c", ring="ring-1")]
    assert rollback_target(events, "ring-0").digest == digest("b")


def test_failed_reverification_revokes_verified_and_a_later_pass_restores_it():
    events = [promo(0, 1, "a"), promo(10, 2, "b"), failed(15, 2, "b"), promo(20, 3, "c")]
    assert rollback_target(events, "ring-0").digest == digest("a")
    assert replay(events, "ring-0").verified == {digest("a"): True, digest("b"): False, digest("c"): True}
    events.append(reverified(16, 2, "b"))
    assert rollback_target(events, "ring-0").digest == digest("b")


def test_reverification_failure_of_the_live_digest_shows_in_the_live_record():
    events = [promo(0, 1, "a"), failed(5, 1, "a")]
    live = live_record(events, "ring-0")
    assert (live.pr, live.digest, live.since, live.verified) == (1, digest("a"), at(0), False)
    assert live_record(events + [reverified(6, 1, "a")], "ring-0").verified


def test_unverified_promotion_is_not_a_target():
    events = [promo(0, 1, "a", verified=False), promo(10, 2, "b")]
    with pytest.raises(NoRollbackTarget, match=r"sha256:aaaaaaaaaaaa \(PR #1\) is not verified in ring-0"):
        rollback_target(events, "ring-0")


def test_nothing_good_is_a_clear_error_naming_each_refusal():
    events = [promo(0, 1, "a"), promo(10, 2, "b"), hold(11, 1, reason="leaks memory"), failed(12, 2, "b"),
              promo(20, 3, "c")]
    with pytest.raises(NoRollbackTarget) as error:
        rollback_target(events, "ring-0")
    assert str(error.value) == (
        "no rollback of ring-0 to a good digest: sha256:cccccccccccc (PR #3) is what ring-0 serves now; "
        "sha256:bbbbbbbbbbbb (PR #2) is not verified in ring-0 (its last verification there did not pass); "
        "sha256:aaaaaaaaaaaa (PR #1) is held (leaks memory)")


def test_empty_ring_and_single_build_ring_have_nothing_to_go_back_to():
    with pytest.raises(NoRollbackTarget, match="^no rollback of ring-0 to a good digest: nothing else was ever live"):
        rollback_target([], "ring-0")
    with pytest.raises(NoRollbackTarget, match=r"\(PR #1\) is what ring-0 serves now$"):
        rollback_target([promo(0, 1, "a"), promo(1, 1, "a", ring="dev")], "ring-0")


def test_named_pr_goes_to_that_prs_build_even_past_a_newer_good_one():
    events = [promo(0, 1, "a"), promo(10, 2, "b"), promo(20, 3, "c")]
    target = rollback_target(events, "ring-0", to_pr=1)
    assert (target.pr, target.digest) == (1, digest("a"))


def test_named_pr_takes_its_last_good_build():
    events = [promo(0, 1, "a"), promo(10, 1, "b"), failed(11, 1, "b"), promo(20, 3, "c")]
    assert rollback_target(events, "ring-0", to_pr=1).digest == digest("a")


def test_named_pr_that_never_ran_here_or_is_held_is_refused():
    events = [promo(0, 1, "a"), promo(10, 2, "b", ring="dev"), promo(20, 3, "c")]
    with pytest.raises(NoRollbackTarget, match=r"^no rollback of ring-0 to PR #2's build: PR #2 was never live in ring-0$"):
        rollback_target(events, "ring-0", to_pr=2)
    events += [hold(30, 1, "a", reason="cve")]
    with pytest.raises(NoRollbackTarget, match=r"PR #1's build: sha256:aaaaaaaaaaaa \(PR #1\) is held \(cve\)$"):
        rollback_target(events, "ring-0", to_pr=1)
    events += [unhold(31, 1)]
    assert rollback_target(events, "ring-0", to_pr=1).digest == digest("a")


def test_after_a_rollback_the_next_rollback_goes_further_back():
    events = [promo(0, 1, "a"), promo(10, 2, "b"), promo(20, 3, "c"), rollback(30, 2, "b", 3, "c")]
    live = live_record(events, "ring-0")
    assert (live.pr, live.digest, live.since) == (2, digest("b"), at(30))
    # c is held (rolled back from), b is current: a is next
    assert rollback_target(events, "ring-0").digest == digest("a")


def test_rollback_request_needs_a_writer_and_a_reason():
    assert check_rollback_request("ring-0", "carol", "write", "500s after deploy") is None
    assert check_rollback_request("ring-0", "mallory", "read", "because") == (
        "rollback of ring-0 by mallory refused: they have read permission on the repository, write is needed")
    assert check_rollback_request("ring-0", "Dagster UI (unauthenticated)", None, "x").startswith(
        "rollback of ring-0 by Dagster UI (unauthenticated) refused: they have no permission")
    assert check_rollback_request("ring-0", "carol", "admin", " ") == "rollback of ring-0 needs a reason"


def test_long_history_error_names_the_newest_five_refusals():
    events = [promo(i * 10, i, chr(ord("a") + i), verified=False) for i in range(8)]
    with pytest.raises(NoRollbackTarget) as error:
        rollback_target(events, "ring-0")
    message = str(error.value)
    assert message.count("is not verified") == 4 and "(PR #7) is what ring-0 serves now" in message
    assert message.endswith("; and 3 older builds") and "PR #2" not in message
