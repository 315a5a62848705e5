"""Automatic promotion and periodic re-verification against a real instance and the local GitHub; the
Docker tests promote and re-verify real containers from the real registry."""

import time
import uuid
from datetime import UTC, datetime

import dagster as dg
import pytest

from aither_assets.defs.release.policy_sensors import auto_promotion_sensor, reverification_sensor
from aither_assets.promotion.names import AUTO_PROMOTION, AUTO_ROLLBACK, POLICY_TAG, RING_TAG
from aither_assets.release_policy.auto import AUTO_REQUESTER
from aither_assets.release_policy.holds import hold_book
from aither_assets.release_policy.rollback import NoRollbackTarget, live_record, rollback_target
from aither_assets.runs import ring_record
from aither_assets.runs import rings as records
from aither_assets.runs.auto_promotion import decide
from aither_assets_tests.defs.release.test_ring_assets import (
    DIGEST_A,
    DIGEST_B,
    last_observation,
    open_stack,
    rings_of,
)

DIGEST_C = "sha256:" + "c" * 64
SOAK = 2.0


@pytest.fixture
def auto_stack(github, tmp_path, monkeypatch):
    """staging promotes automatically after a 2 s soak in dev; dev is re-verified every second."""
    yield from open_stack(github, tmp_path, monkeypatch, staging={"auto_promote": True, "soak_seconds": SOAK},
                          dev={"reverify_seconds": 1})


def went_live(stack, ring: str, number: int, digest: str) -> None:
    """Record a verified deploy of ``digest`` in ``ring`` (what a promotion run records), without Docker."""
    stack.instance.report_runless_asset_event(ring_record.deploy_observation(
        ring, "promotion", pr=number, digest=digest, head_sha=stack.head(number), since=time.time(),
        requester="maintainer", reason="test", image_ref=f"127.0.0.1:5999/x@{digest}", title="t",
        url="http://127.0.0.1:1", replaced_pr=None, replaced_digest=None))


def decision(stack, ring="staging"):
    rings = stack.resources["aither_config"].operator.rings
    return decide(stack.instance, stack.github.client(), rings, ring, "aither-bot", datetime.now(UTC))[0]


def reasons(found) -> dict[int, str]:
    return {r.build.pr: r.reason for r in found.rejected}


def tick(sensor, stack):
    """One evaluation of ``sensor`` (dg.build_sensor_context), as the daemon's tick would run it."""
    with dg.build_sensor_context(instance=stack.instance, resources=stack.resources) as context:
        return sensor(context)


def test_automatic_promotion_picks_the_newest_eligible_build_after_its_soak_never_held_or_older(auto_stack):
    stack = auto_stack
    a, b = stack.open_pr("a"), stack.open_pr("b")
    stack.build(a, DIGEST_A)
    stack.build(b, DIGEST_B)
    went_live(stack, "dev", a, DIGEST_A)
    time.sleep(SOAK + 0.2)
    went_live(stack, "dev", b, DIGEST_B)  # a soaked its 2 s before b replaced it; b starts soaking now

    first = decision(stack)
    assert first.chosen is not None and first.chosen.pr == a
    assert "soak" in reasons(first)[b] and first.chosen.digest == DIGEST_A

    # a held build is never chosen, whatever its gates say
    stack.instance.report_runless_asset_event(ring_record.hold_observation(a, DIGEST_A, "hold", "maintainer", "bad"))
    held = decision(stack)
    assert held.chosen is None and reasons(held)[a].startswith("held:") and held.retry_after is not None

    time.sleep(SOAK)  # b's soak is done: the newest eligible build
    newest = decision(stack)
    assert newest.chosen is not None and newest.chosen.pr == b

    # the sensor asks for exactly that: the ring's promotion job, a run key of ring+digest, the policy tag
    result = tick(auto_promotion_sensor, stack)
    [request] = result.run_requests
    assert request.job_name == "promote_ring_staging" and request.partition_key == str(b)
    assert request.run_key == f"auto-promotion:staging:{DIGEST_B}"
    assert request.tags[POLICY_TAG] == AUTO_PROMOTION
    assert request.run_config["ops"]["ring_staging"]["config"]["reason"] == newest.describe()

    # once b is live in staging, the older a is never picked, even released from its hold
    went_live(stack, "staging", b, DIGEST_B)
    stack.instance.report_runless_asset_event(ring_record.hold_observation(a, None, "unhold", "maintainer", "ok"))
    assert not hold_book(ring_record.ring_events(stack.instance, ("dev", "staging", "ring-0"))).active
    older = decision(stack)
    assert older.chosen is None
    assert "not after what is live" in reasons(older)[a] and reasons(older)[b] == "already live"


def test_one_automatic_promotion_per_ring_at_a_time(auto_stack):
    stack = auto_stack
    a = stack.open_pr("a")
    stack.build(a, DIGEST_A)
    went_live(stack, "dev", a, DIGEST_A)
    time.sleep(SOAK + 0.2)
    assert decision(stack).chosen is not None
    # a promotion of staging running (by anyone): the policy waits for it
    run_id = uuid.uuid4().hex
    stack.instance.add_run(dg.DagsterRun(job_name="promote_ring_staging", run_id=run_id,
                                         status=dg.DagsterRunStatus.STARTED, tags={RING_TAG: "staging"}))
    waiting = decision(stack)
    assert waiting.chosen is None and run_id in waiting.blocked and "one at a time" in waiting.blocked
    skipped = tick(auto_promotion_sensor, stack)
    assert not getattr(skipped, "run_requests", None)


def test_sensors_skip_when_nothing_is_configured(stack):
    assert "no ring has auto_promote" in tick(auto_promotion_sensor, stack).skip_message
    assert "no ring has reverify_seconds" in tick(reverification_sensor, stack).skip_message


# -- with Docker ---------------------------------------------------------------------------------------


@pytest.mark.docker
def test_the_sensor_promotes_a_real_build_after_its_soak_and_records_the_policy(auto_stack, pushed):
    stack = auto_stack
    first, _ = pushed
    a = stack.open_pr("ships")
    stack.build(a, first.split("@")[1], reference=first)
    assert stack.promote(a, "dev").success
    early = tick(auto_promotion_sensor, stack)
    assert not getattr(early, "run_requests", None)  # still soaking
    time.sleep(SOAK)
    started = time.monotonic()
    [request] = tick(auto_promotion_sensor, stack).run_requests
    assert time.monotonic() - started < 10
    reason = request.run_config["ops"]["ring_staging"]["config"]["reason"]
    result = stack.promote(a, "staging", reason=reason, tags=request.tags)
    assert result.success
    live = records.live(stack.instance, "staging")
    assert (live.pr, live.by) == (a, AUTO_REQUESTER)
    assert rings_of(stack).current("staging").pr == a


@pytest.mark.docker
def test_a_failed_reverification_revokes_verified_and_requests_the_rollback(auto_stack, pushed):
    stack = auto_stack
    first, second = pushed
    good, bad = stack.open_pr("good"), stack.open_pr("bad")
    stack.build(good, first.split("@")[1], reference=first)
    stack.build(bad, second.split("@")[1], reference=second)
    assert stack.promote(good, "dev").success
    assert stack.promote(bad, "dev").success
    ladder = ("dev", "staging", "ring-0")
    time.sleep(1.1)
    passed = tick(reverification_sensor, stack)
    assert not getattr(passed, "run_requests", None)
    assert last_observation(stack, "dev", bad)["outcome"] == "reverified"

    rings_of(stack).client.containers.get(f"{stack.app}-dev").stop(timeout=1)  # the ring breaks
    time.sleep(1.1)
    [request] = tick(reverification_sensor, stack).run_requests
    observed = last_observation(stack, "dev", bad)
    assert (observed["outcome"], observed["phase"], observed["requester"]) == (
        "verification_failed", "reverify", "policy (re-verification)")
    assert "not running" in observed["failed_check"]
    events = ring_record.ring_events(stack.instance, ladder)
    assert live_record(events, "dev").verified is False  # revoked
    assert rollback_target(events, "dev").pr == good
    assert request.partition_key == str(good) and request.tags[POLICY_TAG] == AUTO_ROLLBACK
    assert request.run_config["ops"]["ring_dev"]["config"]["mode"] == "rollback"
    # the next tick is not due again at once (counted from the failed check)
    assert not getattr(tick(reverification_sensor, stack), "run_requests", None)


@pytest.mark.docker
def test_a_failed_reverification_with_nothing_good_holds_the_build(auto_stack, pushed):
    stack = auto_stack
    first, _ = pushed
    only = stack.open_pr("only")
    stack.build(only, first.split("@")[1], reference=first)
    assert stack.promote(only, "dev").success
    rings_of(stack).client.containers.get(f"{stack.app}-dev").stop(timeout=1)
    time.sleep(1.1)
    result = tick(reverification_sensor, stack)
    assert not getattr(result, "run_requests", None)
    events = ring_record.ring_events(stack.instance, ("dev", "staging", "ring-0"))
    assert hold_book(events).is_held(pr=only, digest=first.split("@")[1])
    with pytest.raises(NoRollbackTarget):
        rollback_target(events, "dev")


def test_soak_left_and_figures_on_the_ring_page_and_in_the_pr_comment(auto_stack):
    from aither_assets.dashboard.render import render_ring_page
    from aither_assets.feedback.comment import _promotion_section
    from aither_assets.runs.policy_view import ring_page_extras, with_soak

    stack = auto_stack
    a = stack.open_pr("page")
    stack.build(a, DIGEST_A)
    went_live(stack, "dev", a, DIGEST_A)
    rings = stack.resources["aither_config"].operator.rings
    now = datetime.now(UTC)
    extras = ring_page_extras(stack.instance, rings, stack.github.client(), now)
    [candidate] = extras["staging"]["candidates"]
    assert candidate["pr"] == a and 0 < candidate["soak"]["left_seconds"] <= SOAK
    assert extras["staging"]["figures"]["deployment frequency"] is None  # nothing went live in staging
    assert extras["dev"]["figures"]["change failure rate"] == "0 % (0 of 1)"
    page = render_ring_page("staging", [], extras=extras["staging"])
    assert "Candidates" in page and f"#{a}" in page and "left" in page
    assert page.count("no data") == 5 and ">0.00 per day<" not in page
    dev_page = render_ring_page("dev", [], extras=extras["dev"])
    assert "lead time (median)" in dev_page and "per day" in dev_page
    rows = with_soak(records.promotion_ladder(stack.instance, str(a), rings.ladder), stack.instance, rings,
                     str(a), now, ring_record.ring_events(stack.instance, rings.ladder))
    staging_row = next(r for r in rows if r["ring"] == "staging")
    assert "left" in staging_row["soak"] and "soak" not in next(r for r in rows if r["ring"] == "dev")
    staging_row["soak"] += " <script>|x|"  # whatever ends up there is escaped
    section = "\n".join(_promotion_section({"promotion": rows}))
    assert "| staging | not promoted; soaked" in section and "in dev:" in section and "left" in section
    assert "<script>" not in section and "\\|x\\|" in section
