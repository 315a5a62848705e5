"""Holds from the record: a rolled-back build is held until a writer releases it."""

from aither_assets.release_policy.holds import check_hold, check_unhold, hold_book
from aither_assets_tests.release_policy.records import digest, hold, promo, rollback, unhold


def test_rolled_back_build_is_held_with_who_and_why():
    book = hold_book([promo(0, 1, "a"), promo(10, 2, "b"), rollback(20, 1, "a", 2, "b", by="bob", reason="500s")])
    assert book.is_held(pr=2) and book.is_held(digest=digest("b"))
    assert not book.is_held(pr=1) and not book.is_held(digest=digest("a"))
    (only,) = book.active
    assert (only.by, only.reason, only.ring, only.source) == ("bob", "500s", "ring-0", "rollback")
    assert "PR #2 (sha256:bbbbbbbbbbbb) held since 2026-12-01T09:20:00+00:00 by bob after a rollback of ring-0: 500s" \
        == only.describe()


def test_hold_is_on_the_build_so_a_new_push_is_not_held():
    book = hold_book([rollback(20, 1, "a", 2, "b")])
    assert book.is_held(pr=2, digest=digest("b"))
    assert not book.is_held(pr=2, digest=digest("c"))  # PR 2 pushed again: a new build


def test_hand_hold_without_digest_holds_every_build_of_the_pr():
    book = hold_book([hold(1, 7)])
    assert book.is_held(pr=7) and book.is_held(pr=7, digest=digest("z"))
    assert not book.is_held(digest=digest("z"))  # by digest alone nothing says it is PR 7's


def test_unhold_releases_the_prs_holds_and_a_later_rollback_holds_again():
    events = [rollback(20, 1, "a", 2, "b"), hold(21, 2, "c"), hold(22, 3, "d"), unhold(30, 2)]
    assert [h.pr for h in hold_book(events).active] == [3]
    events.append(rollback(40, 1, "a", 2, "b"))
    assert hold_book(events).is_held(pr=2, digest=digest("b"))


def test_unhold_of_one_digest_keeps_the_prs_other_holds():
    book = hold_book([hold(1, 2, "b"), hold(2, 2, "c"), unhold(3, 2, "b")])
    assert not book.is_held(digest=digest("b")) and book.is_held(digest=digest("c"))


def test_unhold_before_the_hold_releases_nothing():
    # the record is replayed in time order, whatever order it is given in
    assert hold_book([hold(5, 2, "b"), unhold(1, 2)]).is_held(pr=2)


def test_unhold_by_a_non_writer_is_refused_with_their_role():
    book = hold_book([rollback(20, 1, "a", 2, "b")])
    decision = check_unhold(book, 2, "mallory", "read", "it is fine")
    assert not decision.allowed
    assert decision.reason == ("unhold of PR #2 by mallory refused: they have read permission on the repository, "
                               "write is needed")
    assert not check_unhold(book, 2, "ghost", None, "x").allowed  # no role read from GitHub: refused


def test_unhold_by_a_writer_needs_a_reason_and_a_hold():
    book = hold_book([rollback(20, 1, "a", 2, "b")])
    assert check_unhold(book, 2, "carol", "write", "  ").reason == "unhold of PR #2 needs a reason"
    assert check_unhold(book, 9, "carol", "write", "ok").reason == "PR #9 is not held"
    decision = check_unhold(book, 2, "carol", "maintain", "root cause fixed")
    assert decision.allowed and decision.reason == "releases 1 hold of PR #2"


def test_hold_by_hand_needs_a_writer():
    book = hold_book([])
    assert not check_hold(book, 4, "eve", "triage", "x").allowed
    assert check_hold(book, 4, "carol", "admin", "suspicious").allowed
