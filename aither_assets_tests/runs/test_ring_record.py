"""The ring record round-trips through a real Dagster instance: what is written is what release_policy reads."""

import dagster as dg
import pytest

from aither_assets.promotion.names import ring_asset_name
from aither_assets.release_policy.events import EventKind
from aither_assets.release_policy.holds import hold_book
from aither_assets.release_policy.rollback import live_record, rollback_target
from aither_assets.runs import ring_record

A, B, C = "sha256:" + "a" * 64, "sha256:" + "b" * 64, "sha256:" + "c" * 64


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def deploy(instance, ring, kind, pr, digest, since, replaced=(None, None), verified=True):
    instance.report_runless_asset_event(ring_record.deploy_observation(
        ring, kind, pr=pr, digest=digest, head_sha="f" * 40, since=since, requester="alice", reason="why",
        image_ref=f"reg/app@{digest}", title="t", url="http://127.0.0.1:1/", replaced_pr=replaced[0],
        replaced_digest=replaced[1], verified=verified))


def test_deploys_failures_and_holds_replay_into_the_last_good_digest(instance):
    deploy(instance, "staging", "promotion", 1, A, 1000.0)
    deploy(instance, "staging", "promotion", 2, B, 2000.0)
    instance.report_runless_asset_event(dg.AssetObservation(
        asset_key=dg.AssetKey(ring_asset_name("staging")), partition="3",
        metadata={"outcome": "verification_failed", "digest": C, "failed_check": "GET /health: 500"}))
    instance.report_runless_asset_event(ring_record.hold_observation(2, B, "hold", "bob", "bad migration"))

    events = ring_record.ring_events(instance, ("dev", "staging"))
    kinds = [e.kind for e in events if e.ring == "staging"]
    assert kinds[:2] == [EventKind.PROMOTION, EventKind.PROMOTION]
    failed = [e for e in events if e.kind is EventKind.VERIFICATION_FAILED]
    assert failed and failed[0].pr == 3 and failed[0].reason == "GET /health: 500"
    # the failed deploy went live unverified: the ring serves C, and B is held, so the last good is A
    assert live_record(events, "staging").digest == C
    assert hold_book(events).is_held(pr=2, digest=B)
    assert rollback_target(events, "staging").digest == A


def test_a_rollback_record_holds_what_it_replaced_and_unhold_releases_it(instance):
    deploy(instance, "dev", "promotion", 1, A, 1000.0)
    deploy(instance, "dev", "promotion", 2, B, 2000.0)
    deploy(instance, "dev", "rollback", 1, A, 3000.0, replaced=(2, B))
    events = ring_record.ring_events(instance, ("dev",))
    assert live_record(events, "dev").digest == A
    assert hold_book(events).is_held(pr=2, digest=B)
    instance.report_runless_asset_event(ring_record.hold_observation(2, None, "unhold", "carol", "fixed"))
    assert not hold_book(ring_record.ring_events(instance, ("dev",))).is_held(pr=2, digest=B)


def test_bad_kinds_are_refused():
    with pytest.raises(ValueError, match="hold action"):
        ring_record.hold_observation(1, None, "release", "a", "b")
    with pytest.raises(ValueError, match="deploy kind"):
        ring_record.deploy_observation("dev", "redeploy", pr=1, digest=A, head_sha="", since=0, requester="",
                                       reason="", image_ref="", title="", url="http://x/", replaced_pr=None,
                                       replaced_digest=None)
