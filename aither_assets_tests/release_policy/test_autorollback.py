"""A failed verification: revoke, roll back to the last good digest and hold the failing build."""

import pytest

from aither_assets.release_policy.autorollback import plan_automatic_rollback
from aither_assets.release_policy.holds import hold_book
from aither_assets.release_policy.rollback import AUTO_ROLLBACK_REQUESTER, live_record, rollback_target
from aither_assets_tests.release_policy.records import at, digest, failed, hold, promo


def test_failed_reverification_of_the_live_build_rolls_back_and_holds_it():
    events = [promo(0, 1, "a"), promo(10, 2, "b")]
    failure = failed(30, 2, "b")
    plan = plan_automatic_rollback(events, failure)
    assert (plan.target.pr, plan.target.digest, plan.hold) == (1, digest("a"), None)
    assert plan.note == "ring-0 goes back to PR #1 (sha256:aaaaaaaaaaaa); PR #2 (sha256:bbbbbbbbbbbb) is held"
    event = plan.rollback_event(verified=True)
    assert (event.requester, event.replaced_pr, event.replaced_digest, event.at) == (
        AUTO_ROLLBACK_REQUESTER, 2, digest("b"), at(30))
    assert event.reason == "verification of sha256:bbbbbbbbbbbb failed: smoke failed"
    record = events + [failure, event]
    assert live_record(record, "ring-0").digest == digest("a")
    assert hold_book(record).is_held(pr=2, digest=digest("b"))
    # b lost "verified" in ring-0 and is held: it is never a rollback target again
    with pytest.raises(ValueError, match=r"PR #2\) is held"):
        rollback_target(record + [promo(40, 3, "c")], "ring-0", to_pr=2)


def test_failed_post_deploy_verification_goes_back_to_what_ran_before():
    events = [promo(0, 1, "a"), promo(10, 2, "b", verified=False)]
    plan = plan_automatic_rollback(events, failed(11, 2, "b"))
    assert plan.target.digest == digest("a")


def test_nothing_good_to_go_back_to_holds_the_build_and_says_why():
    events = [promo(0, 1, "a"), hold(5, 1, reason="cve"), promo(10, 2, "b")]
    plan = plan_automatic_rollback(events, failed(30, 2, "b"))
    assert plan.target is None and plan.hold.digest == digest("b") and plan.hold.requester == AUTO_ROLLBACK_REQUESTER
    assert plan.note == ("no rollback of ring-0 to a good digest: sha256:bbbbbbbbbbbb (PR #2) is what ring-0 serves "
                         "now; sha256:aaaaaaaaaaaa (PR #1) is held (cve); ring-0 stays on PR #2 (sha256:bbbbbbbbbbbb), "
                         "which is held")
    with pytest.raises(ValueError, match="no rollback was planned"):
        plan.rollback_event(verified=True)
    assert hold_book(events + [plan.hold]).is_held(pr=2, digest=digest("b"))


def test_failure_of_a_build_the_ring_does_not_serve_only_holds_it():
    plan = plan_automatic_rollback([promo(0, 1, "a")], failed(5, 3, "c"))
    assert plan.target is None and plan.hold.pr == 3
    assert plan.note == "PR #3 (sha256:cccccccccccc) is not what ring-0 serves: no rollback, the build is held"


def test_only_a_failure_starts_an_automatic_rollback():
    with pytest.raises(ValueError, match="not a promotion"):
        plan_automatic_rollback([], promo(0, 1, "a"))
