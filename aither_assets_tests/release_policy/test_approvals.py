"""Approvals voided by a new digest, for `aither release status`."""

from aither_assets.release_policy.approvals import ApprovalRecord, approval_standing
from aither_assets_tests.release_policy.records import at, digest


def test_new_digest_voids_earlier_approvals_and_keeps_those_for_it():
    old = ApprovalRecord("bob", "ring-0", digest("a"), at(5))
    new = ApprovalRecord("carol", "ring-0", digest("b"), at(20))
    other_ring_old = ApprovalRecord("dan", "ring-1", digest("a"), at(1))
    standing = approval_standing([new, old, other_ring_old], digest("b"))
    assert standing.standing == (new,)
    assert [v.approval for v in standing.voided] == [other_ring_old, old]  # oldest first
    assert standing.voided[1].reason == ("approved sha256:aaaaaaaaaaaa; the PR's build is now sha256:bbbbbbbbbbbb "
                                         "(a new digest voids approvals)")


def test_no_build_voids_everything_and_no_approvals_is_empty():
    only = ApprovalRecord("bob", "ring-0", digest("a"), at(5))
    assert approval_standing([only], None).voided[0].reason == "the PR has no build now"
    empty = approval_standing([], digest("a"))
    assert empty.standing == () and empty.voided == ()
