from dataclasses import replace

from aither_assets.config.operator import RingPolicy, RingsConfig
from aither_assets.promotion.gates import (
    UNAUTHENTICATED,
    Approval,
    Candidate,
    CheckResult,
    Evidence,
    RingPresence,
    evaluate,
)

LADDER = RingsConfig().ladder
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
HEAD = "a" * 40
CHECKS = (CheckResult("validation_report:no_errors", True), CheckResult("unit_tests:all_passed", True),
          CheckResult("smoke_report:smoke_passed", True))
NOW = 10_000.0


def evidence(**changes) -> Evidence:
    base = Evidence(
        pr=7, pr_author="alice", pr_head_sha=HEAD, merged=False, entry_ring="dev",
        candidate=Candidate(D1, HEAD, "run-1234", CHECKS, built_at=1000.0),
        below=RingPresence("staging", D1, since=2000.0), approvals=(), requester="bob", now=NOW)
    return replace(base, **changes)


def gates(report):
    return [g.gate for g in report.unmet]


def test_everything_met_in_the_entry_ring():
    report = evaluate("dev", LADDER, RingPolicy(approvals=0), evidence(below=None))
    assert report.passed and report.render(7, D1).endswith("every gate met")


def test_every_unmet_gate_is_listed_not_just_the_first():
    bad = Candidate(D1, "b" * 40, "run-1234", (CheckResult("unit_tests:all_passed", False, "2 failed"),
                                               CheckResult("smoke_report:smoke_passed", None)), 1000.0)
    policy = RingPolicy(approvals=1, soak_seconds=60, require_merged=True)
    report = evaluate("ring-0", LADDER, policy, evidence(candidate=bad, below=None))
    assert gates(report) == ["build", "build", "build", "ring_below", "approvals", "merged"]
    block = report.render(7, D1)
    assert "6 unmet gates" in block and "unit_tests:all_passed failed in run run-1234 (2 failed)" in block
    assert "smoke_report:smoke_passed: no result" in block and "not merged" in block


def test_no_image_and_no_checks():
    report = evaluate("dev", LADDER, RingPolicy(approvals=0), evidence(candidate=Candidate(None, None, None)))
    assert gates(report) == ["build"] and "no image" in report.unmet[0].reason
    report = evaluate("dev", LADDER, RingPolicy(approvals=0), evidence(candidate=Candidate(D1, HEAD, "r1", ())))
    assert "recorded no check" in report.unmet[0].reason


def test_entry_ring_rules():
    # a PR into main enters at production: nothing below is required, but rings below are not for it
    main = evidence(entry_ring="production", below=None, merged=True,
                    approvals=(Approval("carol", "production", 5000, "write", None),))
    assert evaluate("production", LADDER, RingPolicy(approvals=1, soak_seconds=3600, require_merged=True), main,
                    history=((1000.0, D1),)).passed
    below = evaluate("staging", LADDER, RingPolicy(approvals=0), main)
    assert gates(below) == ["entry"] and "enters at production" in below.unmet[0].reason
    nowhere = evaluate("dev", LADDER, RingPolicy(approvals=0), evidence(entry_ring=None))
    assert gates(nowhere) == ["entry"]
    assert gates(evaluate("moon", LADDER, RingPolicy(), evidence())) == ["entry"]


def test_ring_below_must_hold_the_same_digest():
    policy = RingPolicy(approvals=0)
    assert evaluate("ring-0", LADDER, policy, evidence()).passed
    other = evaluate("ring-0", LADDER, policy, evidence(below=RingPresence("staging", D2, since=2000)))
    assert gates(other) == ["ring_below"]
    wrong_ring = evaluate("ring-0", LADDER, policy, evidence(below=RingPresence("dev", D1, since=2000)))
    assert gates(wrong_ring) == ["ring_below"]


def test_soak_counts_time_in_the_ring_below_until_replaced():
    policy = RingPolicy(approvals=0, soak_seconds=600)
    assert evaluate("ring-0", LADDER, policy, evidence(below=RingPresence("staging", D1, since=NOW - 601))).passed
    short = evaluate("ring-0", LADDER, policy, evidence(below=RingPresence("staging", D1, since=NOW - 100)))
    assert gates(short) == ["soak"] and short.soak_left == 500 and "8 min left" in short.unmet[0].reason
    replaced = evaluate("ring-0", LADDER, policy,
                        evidence(below=RingPresence("staging", D1, since=NOW - 5000, until=NOW - 4800)))
    assert gates(replaced) == ["soak"] and "replaced" in replaced.unmet[0].reason


def test_approvals_distinct_writers_not_author_nor_requester():
    policy = RingPolicy(approvals=2)
    history = ((1000.0, D1),)
    approvals = (
        Approval("alice", "ring-0", 3000, "admin", None),  # the PR's author
        Approval("bob", "ring-0", 3000, "write", None),  # the requester
        Approval("eve", "ring-0", 3000, "read", None),  # no write permission
        Approval("carol", "ring-1", 3000, "write", None),  # another ring
        Approval("dave", "ring-0", 3000, "write", None),
        Approval("DAVE", "ring-0", 3100, "write", None),  # the same person twice counts once
    )
    report = evaluate("ring-0", LADDER, policy, evidence(approvals=approvals), history)
    assert gates(report) == ["approvals"]
    reason = report.unmet[0].reason
    assert reason.startswith("1 of 2 approvals") and "counted: dave" in reason
    assert "alice ignored: the PR's author" in reason and "bob ignored: the person requesting" in reason
    assert "eve ignored: has read permission, write is needed" in reason and "carol" not in reason
    more = approvals + (Approval("frank", "ring-0", 3200, "maintain", None),)
    assert evaluate("ring-0", LADDER, policy, evidence(approvals=more), history).passed
    # a higher configured permission
    strict = RingPolicy(approvals=1, approver_permission="maintain")
    assert gates(evaluate("ring-0", LADDER, strict, evidence(approvals=approvals), history)) == ["approvals"]


def test_a_new_digest_voids_earlier_approvals_a_rebuild_to_the_same_digest_does_not():
    policy = RingPolicy(approvals=1)
    approval = (Approval("carol", "ring-0", 1500, "write", None),)
    new = evidence(candidate=Candidate(D2, HEAD, "run-2", CHECKS, 2000.0), below=RingPresence("staging", D2, 2100),
                   approvals=approval)
    report = evaluate("ring-0", LADDER, policy, new, history=((1000.0, D1), (2000.0, D2)))
    assert gates(report) == ["approvals"] and "an earlier build" in report.unmet[0].reason
    same = evaluate("ring-0", LADDER, policy, evidence(approvals=approval), history=((1000.0, D1), (1200.0, D1)))
    assert same.passed
    # an approval naming the digest counts for that digest only
    named = (Approval("carol", "ring-0", 900, "write", D1),)
    assert evaluate("ring-0", LADDER, policy, evidence(approvals=named), ((1000.0, D1),)).passed
    before_any = (Approval("carol", "ring-0", 500, "write", None),)
    assert not evaluate("ring-0", LADDER, policy, evidence(approvals=before_any), ((1000.0, D1),)).passed


def test_unauthenticated_requester_still_needs_approvals():
    policy = RingPolicy(approvals=1)
    report = evaluate("ring-0", LADDER, policy, evidence(requester=UNAUTHENTICATED))
    assert gates(report) == ["approvals"]


def test_merged_gate():
    policy = RingPolicy(approvals=0, require_merged=True)
    assert gates(evaluate("ring-0", LADDER, policy, evidence())) == ["merged"]
    assert evaluate("ring-0", LADDER, policy, evidence(merged=True)).passed


def test_ring_policy_defaults():
    rings = RingsConfig()
    assert rings.policy("dev").approvals == 0 and rings.policy("ring-0").approvals == 1
    assert rings.policy("production").require_merged and not rings.policy("ring-2").require_merged
    assert rings.port("dev") == 19100 and rings.port("production") == 19105
    assert rings.below("dev") is None and rings.below("ring-0") == "staging"
