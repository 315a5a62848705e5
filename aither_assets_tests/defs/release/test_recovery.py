"""Rollback, holds, freeze windows and break-glass on the product's path: the ring assets against a real
Dagster instance, the local GitHub (comments, permissions) and, for deploys, the real Docker engine and
registry. The fixtures are the promotion tests' (test_ring_assets.py)."""

import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from aither_assets.promotion.names import AUTO_ROLLBACK, COMMAND_COMMENT_TAG, POLICY_TAG
from aither_assets.promotion.requests import Permissions
from aither_assets.release_policy.rollback import AUTO_ROLLBACK_REQUESTER, rollback_target
from aither_assets.runs import ring_record, rollbacks
from aither_assets.runs import rings as records
from aither_assets.runs.comments import handle_comment
from aither_assets_tests.conftest import OWNER, REPO
from aither_assets_tests.defs.release.test_ring_assets import (
    DIGEST_A,
    LADDER,
    NAMES,
    PIPELINE,
    failure_message,
    last_observation,
    open_stack,
    push,
    rings_of,
)

AUCKLAND = ZoneInfo("Pacific/Auckland")


def frozen_window(minutes_before: float, minutes_after: float, name: str = "release-freeze") -> dict:
    """A dated freeze of dev in Pacific/Auckland (local wall times) from now-before to now+after."""
    now = datetime.now(UTC).astimezone(AUCKLAND).replace(tzinfo=None, second=0, microsecond=0)
    fmt = "%Y-%m-%d %H:%M"
    return {"rings": {"dev": {"dated": [{"name": name, "time_zone": "Pacific/Auckland",
                                         "start": (now - timedelta(minutes=minutes_before)).strftime(fmt),
                                         "end": (now + timedelta(minutes=minutes_after)).strftime(fmt)}]}}}


@pytest.fixture
def frozen(github, tmp_path, monkeypatch):
    """The three-ring stack with dev frozen now by a window written on Auckland's clock."""
    yield from open_stack(github, tmp_path, monkeypatch, freeze=frozen_window(5, 30))


def comments_handler(stack):
    client = stack.github.client()
    launched = []

    def launch(request):
        launched.append(request)
        return f"run-{len(launched)}"

    def handle(comment_id):
        return handle_comment(client, stack.resources["aither_config"].operator, stack.instance,
                              client.comment(comment_id), "test", launch, Permissions(client), "aither-bot")
    return handle, launched


def ring_state(stack, ring: str) -> dict:
    record = stack.instance.fetch_observations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("ring_state"), asset_partitions=[ring]), limit=1).records[0]
    return {k: getattr(v, "value", v) for k, v in record.asset_observation.metadata.items()}


def materialization(stack, ring: str, number: int) -> dict:
    record = stack.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(NAMES[ring]), asset_partitions=[str(number)]), limit=1).records[0]
    return {k: getattr(v, "value", v) for k, v in record.asset_materialization.metadata.items()}


def holds(stack):
    return ring_record.hold_book_of(stack.instance, LADDER)


# -- without Docker: refusals before anything is deployed ------------------------------------------


def test_rollback_when_nothing_good_exists_is_a_clear_error(stack):
    number = stack.open_pr("lonely")
    stack.build(number, DIGEST_A)
    result = stack.promote(number, "dev", reason="put it back", mode="rollback")
    message = failure_message(result)
    assert message.strip().endswith(f"Failure: no rollback of dev to PR #{number}'s build: PR #{number} was "
                                    f"never live in dev") and len(message.strip().splitlines()) == 1
    observed = last_observation(stack, "dev", number)
    assert observed["outcome"] == "refused" and observed["mode"] == "rollback"
    # the comment path answers the same, in one reply, and starts nothing
    handle, launched = comments_handler(stack)
    comment = stack.comment(number, "/rollback dev smoke is red", user="maintainer")
    outcome = handle(comment)
    assert "not started: no rollback of dev to a good digest: nothing else was ever live in dev" in outcome
    assert not launched


def test_hold_and_unhold_by_comment_and_an_unhold_by_a_non_writer_is_refused(stack, github):
    github.store.create_user("reader")
    github.store.add_collaborator(OWNER, REPO, "reader", "read")
    handle, launched = comments_handler(stack)
    number = stack.open_pr("held")
    stack.build(number, DIGEST_A)
    held = handle(stack.comment(number, "/hold <b>flaky</b> in canary", user="maintainer"))
    assert held == f"replied: @maintainer: `/hold` recorded: holds PR #{number}."
    [hold] = holds(stack).holds_of(pr=number, digest=DIGEST_A)
    assert (hold.by, hold.reason, hold.digest) == ("maintainer", "<b>flaky</b> in canary", None)
    refused = handle(stack.comment(number, "/unhold looks fine to me", user="reader"))
    assert "`/unhold` ignored: it needs write permission on the repository, you have read" in refused
    refused = handle(stack.comment(number, "/unhold me too", user="mallory"))  # not a collaborator
    assert "you have" in refused and holds(stack).is_held(pr=number)
    # a held build is refused by every promotion, with the hold named beside the other gates
    message = failure_message(stack.promote(number, "dev"))
    assert "held: PR #" in message and "held since" in message and "by maintainer" in message
    released = handle(stack.comment(number, "/unhold fixed upstream", user="maintainer"))
    assert "recorded: releases 1 hold of PR" in released and not holds(stack).is_held(pr=number)
    assert not launched
    replies = [c.body for c in github.client().comments(number) if c.author == "aither-bot"]
    assert len(replies) == 4 and not any("<b>" in r for r in replies)  # the reason is never echoed


def test_a_freeze_in_another_time_zone_refuses_a_promotion_naming_the_window(frozen):
    number = frozen.open_pr("frozen")
    frozen.build(number, DIGEST_A, failing_check="unit_tests")
    message = failure_message(frozen.promote(number, "dev", reason="during the freeze"))
    assert "refused: 2 unmet gates" in message and "build: unit_tests" in message
    assert "frozen: promotion into dev refused: dev is frozen by the window 'release-freeze' (Pacific/Auckland) " \
           "until" in message and ("NZDT" in message or "NZST" in message)
    # from the UI nobody can break glass: there is no authenticated admin
    message = failure_message(frozen.promote(number, "dev", reason="ui", break_glass=True))
    assert "break-glass by Dagster UI (unauthenticated) refused: they have no permission" in message


def test_the_freeze_boundary_is_read_on_the_windows_clock(github, tmp_path, monkeypatch):
    # a window that ended a minute ago on Auckland's clock (a different day in UTC, most of the time)
    for stack_ in open_stack(github, tmp_path, monkeypatch, freeze=frozen_window(30, -1)):
        number = stack_.open_pr("thawed")
        stack_.build(number, DIGEST_A, failing_check="unit_tests")
        message = failure_message(stack_.promote(number, "dev"))
        assert "1 unmet gate" in message and "frozen" not in message


def test_break_glass_by_a_writer_is_refused(frozen):
    number = frozen.open_pr("glass")
    frozen.build(number, DIGEST_A)
    request = frozen.comment(number, "/promote dev --break-glass outage fix", user="maintainer")  # write, not admin
    result = frozen.promote(number, "dev", reason="outage fix", break_glass=True,
                            tags={COMMAND_COMMENT_TAG: str(request)})
    message = failure_message(result)
    assert "frozen: promotion into dev refused: dev is frozen by the window 'release-freeze'" in message
    assert "break-glass by maintainer refused: they have write permission on the repository, admin is needed" \
        in message
    assert records.live(frozen.instance, "dev") is None
    # a run config asking for break-glass that the comment did not ask for has no role to break glass with
    plain = frozen.comment(number, "/promote dev outage fix", user="maintainer")
    message = failure_message(frozen.promote(number, "dev", reason="x", break_glass=True,
                                             tags={COMMAND_COMMENT_TAG: str(plain)}))
    assert "break-glass by maintainer refused: they have no permission" in message


# -- with Docker: deploy, verify, put back -------------------------------------------------------------


@pytest.fixture
def three(sample_images, local_registry):
    """Three images of the sample app, three digests."""
    tag = f"aither-test/env-sample:{uuid.uuid4().hex[:10]}-v3"
    subprocess.run(["docker", "build", "--quiet", "--label", f"io.aither.test-third={tag}", "-t", tag, "-"],
                   input=f"FROM {sample_images.id}\n".encode(), check=True, capture_output=True, timeout=120)
    try:
        yield (push(sample_images.id, local_registry), push(sample_images.variant_id, local_registry),
               push(tag, local_registry))
    finally:
        subprocess.run(["docker", "image", "rm", "--force", tag], capture_output=True, check=False)


@pytest.mark.docker
def test_rollback_goes_to_the_last_good_build_skipping_a_held_one(stack, three):
    refs = three
    a, b, c = (stack.open_pr(name) for name in ("a", "b", "c"))
    for number, ref in zip((a, b, c), refs, strict=True):
        stack.build(number, ref.split("@")[1], reference=ref)
        assert stack.promote(number, "dev", reason=f"#{number} to dev").success
    digest = {number: ref.split("@")[1] for number, ref in zip((a, b, c), refs, strict=True)}
    stack.instance.report_runless_asset_event(
        ring_record.hold_observation(b, None, "hold", "maintainer", "b is suspicious"))
    events = ring_record.ring_events(stack.instance, LADDER)
    assert rollback_target(events, "dev").pr == a  # b is held: the last good is a
    # a rollback to the held build is refused, naming the hold
    message = failure_message(stack.promote(b, "dev", reason="to b", mode="rollback"))
    assert f"(PR #{b}) is held (b is suspicious)" in message
    # the comment: a writer's /rollback without a PR goes to the last good build
    handle, launched = comments_handler(stack)
    comment = stack.comment(c, "/rollback dev c broke the login", user="maintainer")
    assert handle(comment).startswith(f"rollback run run-1 of #{a} to dev for maintainer")
    [request] = launched
    assert request.partition == str(a) and request.run_config["ops"][NAMES["dev"]]["config"]["mode"] == "rollback"
    result = stack.promote(a, "dev", reason="c broke the login", mode="rollback", tags=request.tags)
    assert result.success
    state = ring_state(stack, "dev")
    assert (state["kind"], state["pr"], state["digest"], state["replaced_pr"], state["replaced_digest"]) == (
        "rollback", a, digest[a], c, digest[c])
    assert state["requester"] == "maintainer" and state["verified"] is True
    assert rings_of(stack).current("dev").image_ref == refs[0]  # the ring serves a's digest again
    done = materialization(stack, "dev", a)
    assert (done["outcome"], done["requester"], done["replaced_digest"]) == ("rolled_back", "maintainer", digest[c])
    book = holds(stack)
    assert book.is_held(pr=c, digest=digest[c]) and book.is_held(pr=b) and not book.is_held(pr=a, digest=digest[a])
    # no rebuild: the PR's image was recorded three times (once per build), never again
    assert len(records.image_history(stack.instance, str(a))) == 1
    page = (stack.pages / "rings" / "dev.html").read_text()
    assert "rolled back" in page and "held" in page


@pytest.mark.docker
def test_a_failed_verification_rolls_back_automatically_and_holds_the_build(stack, pushed):
    first, second = pushed
    good, bad = stack.open_pr("good"), stack.open_pr("bad")
    stack.build(good, first.split("@")[1], reference=first)
    assert stack.promote(good, "dev").success
    stack.github.push(bad, {".aither/pipeline.yaml": PIPELINE.replace("contains: ok", "contains: not-there")})
    stack.build(bad, second.split("@")[1], reference=second)
    message = failure_message(stack.promote(bad, "dev", reason="new landing page"))
    bad_digest, good_digest = second.split("@")[1], first.split("@")[1]
    assert f"dev is back on PR #{good} ({good_digest[:19]}), its last good digest; PR #{bad}" in message
    state = ring_state(stack, "dev")
    assert (state["kind"], state["pr"], state["replaced_pr"], state["replaced_digest"]) == (
        "rollback", good, bad, bad_digest)
    assert state["requester"] == AUTO_ROLLBACK_REQUESTER and state["verified"] is True
    assert rings_of(stack).current("dev").pr == good
    [hold] = holds(stack).holds_of(pr=bad, digest=bad_digest)
    assert hold.source == "rollback" and "smoke /health" in hold.reason
    # the held build is refused by the next promotion, with the hold named
    assert "held: PR #" in failure_message(stack.promote(bad, "dev"))
    # the release policy's view agrees: dev serves the good build, verified
    events = ring_record.ring_events(stack.instance, LADDER)
    from aither_assets.release_policy.rollback import live_record
    live = live_record(events, "dev")
    assert (live.pr, live.digest, live.verified) == (good, good_digest, True)
    # a failed re-verification of what is live, with nothing good left: no rollback run, the build is held
    failure = rollbacks.record_reverification_failure(stack.instance, LADDER, "dev", pr=good, digest=good_digest,
                                                      failed_check="smoke /health: 500")
    assert failure.launch is None and "is held" in failure.note
    assert holds(stack).is_held(pr=good, digest=good_digest)
    assert live_record(ring_record.ring_events(stack.instance, LADDER), "dev").verified is False


@pytest.mark.docker
def test_a_failed_reverification_launches_a_rollback_to_the_last_good_build(stack, pushed):
    first, second = pushed
    a, b = stack.open_pr("a"), stack.open_pr("b")
    stack.build(a, first.split("@")[1], reference=first)
    assert stack.promote(a, "dev").success
    stack.build(b, second.split("@")[1], reference=second)
    assert stack.promote(b, "dev").success
    failure = rollbacks.record_reverification_failure(stack.instance, LADDER, "dev", pr=b,
                                                      digest=second.split("@")[1], failed_check="smoke /: 503")
    launch = failure.launch
    assert launch is not None and launch.partition == str(a) and launch.tags[POLICY_TAG] == AUTO_ROLLBACK
    assert launch.run_config == {"ops": {NAMES["dev"]: {"config": {
        "reason": f"re-verification of {second.split('@')[1][:19]} (PR #{b}) failed: smoke /: 503",
        "mode": "rollback"}}}}
    request = launch.run_request()
    assert request.partition_key == str(a) and request.job_name == "promote_ring_dev"
    result = stack.promote(a, "dev", reason=launch.run_config["ops"][NAMES["dev"]]["config"]["reason"],
                           mode="rollback", tags=request.tags)
    assert result.success
    state = ring_state(stack, "dev")
    assert (state["kind"], state["pr"], state["requester"], state["replaced_pr"]) == (
        "rollback", a, AUTO_ROLLBACK_REQUESTER, b)
    assert holds(stack).is_held(pr=b, digest=second.split("@")[1])


@pytest.mark.docker
def test_break_glass_by_an_admin_is_recorded(frozen, pushed, github):
    github.store.create_user("root-admin")
    github.store.add_collaborator(OWNER, REPO, "root-admin", "admin")
    first, _ = pushed
    number = frozen.open_pr("glass")
    frozen.build(number, first.split("@")[1], reference=first)
    request = frozen.comment(number, "/promote dev --break-glass customer outage", user="root-admin")
    result = frozen.promote(number, "dev", reason="customer outage", break_glass=True,
                            tags={COMMAND_COMMENT_TAG: str(request)})
    assert result.success
    state = ring_state(frozen, "dev")
    assert state["break_glass"] is True and state["requester"] == "root-admin"
    done = materialization(frozen, "dev", number)
    assert done["break_glass"] is True and "release-freeze" in done["freeze"]
    [event] = [e for e in ring_record.ring_events(frozen.instance, LADDER) if e.ring == "dev"]
    assert event.break_glass
