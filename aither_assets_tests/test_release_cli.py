"""``aither release`` against a real instance and the local GitHub (promotion runs in-process, no Docker)."""

import json
import time

import pytest
from click.testing import CliRunner

from aither_assets.cli import main
from aither_assets.runs import ring_record
from aither_assets_tests.defs.release.test_policy_sensors import went_live
from aither_assets_tests.defs.release.test_ring_assets import (  # noqa: F401
    DIGEST_A,
    DIGEST_B,
    failure_message,
    open_stack,
    stack,
)


def run(stack, *args, token=None):  # noqa: F811 - the fixture's value
    env = {"AITHER_CONFIG": str(stack.config_file), "DAGSTER_HOME": str(stack.home), "AITHER_TEST_TOKEN":
           stack.github.token, "AITHER_USER_TOKEN": token}
    return CliRunner().invoke(main, ["release", *args], env=env, catch_exceptions=False)


def test_approve_posts_as_the_person_naming_the_digest_and_the_gate_counts_it(stack):  # noqa: F811
    number = stack.open_pr("cli", base="main")  # enters at ring-0 (one approval needed)
    stack.build(number, DIGEST_A)
    maintainer = stack.github.store.create_user("maintainer")
    result = run(stack, "approve", str(number), "--ring", "ring-0", token=maintainer)
    assert result.exit_code == 0, result.output
    comments = stack.github.client().comments(number)
    assert [(c.author, c.body) for c in comments] == [("maintainer", f"/approve ring-0 {DIGEST_A}")]
    refused = stack.promote(number, "ring-0", reason="cli test")
    assert "approvals" not in failure_message(refused)  # the gates pass (the deploy then fails: this test has no such image)


def test_promote_posts_the_request_as_the_person_and_errors_are_one_line(stack):  # noqa: F811
    number = stack.open_pr("req")
    alice = stack.github.store.create_user("alice")
    result = run(stack, "promote", str(number), "--to", "dev", "--reason", "try it", token=alice)
    assert result.exit_code == 0 and "requested:" in result.output
    [comment] = stack.github.client().comments(number)
    assert (comment.author, comment.body) == ("alice", "/promote dev try it")
    no_token = run(stack, "promote", str(number), "--to", "dev", "--reason", "x")
    assert no_token.exit_code == 1 and "AITHER_USER_TOKEN is not set" in no_token.output
    assert len(no_token.output.strip().splitlines()) == 1
    bad_ring = run(stack, "promote", str(number), "--to", "moon", "--reason", "x", token=alice)
    assert "unknown ring 'moon'" in bad_ring.output and len(bad_ring.output.strip().splitlines()) == 1


def test_status_and_trace_read_the_instance(stack):  # noqa: F811
    number = stack.open_pr("st", base="main")
    stack.build(number, DIGEST_A)
    status = run(stack, "status", "--json")
    assert status.exit_code == 0, status.output
    rings = json.loads(status.output)["rings"]
    assert [r["ring"] for r in rings] == ["dev", "staging", "ring-0"] and all(r["live"] is None for r in rings)
    stack.promote(number, "ring-0", reason="refused")
    trace = run(stack, "trace", DIGEST_A, "--json")
    assert trace.exit_code == 0, trace.output
    lineage = json.loads(trace.output)
    assert lineage["pr"] == number and lineage["promotions"][0]["outcome"] == "refused"
    assert lineage["build"]["checks"]["smoke_report:smoke_passed"] == "PASSED"
    missing = run(stack, "trace", "dev")
    assert missing.exit_code == 1 and "nothing is live in dev" in missing.output


def test_rollback_hold_and_unhold_post_as_the_person_and_status_lists_holds(stack):  # noqa: F811
    from aither_assets.runs import ring_record

    number = stack.open_pr("rb")
    maintainer = stack.github.store.create_user("maintainer")
    nothing = run(stack, "rollback", "dev", "--reason", "broken", token=maintainer)
    assert nothing.exit_code == 1 and "nothing is live in dev: nothing to roll back" in nothing.output
    to = run(stack, "rollback", "dev", "--to", str(number), "--reason", "back  to\tthis one", token=maintainer)
    assert to.exit_code == 0, to.output
    held = run(stack, "hold", str(number), "--reason", "flaky", token=maintainer)
    unheld = run(stack, "unhold", str(number), "--reason", "fixed", token=maintainer)
    assert held.exit_code == 0 and unheld.exit_code == 0
    bodies = [(c.author, c.body) for c in stack.github.client().comments(number)]
    assert bodies == [("maintainer", f"/rollback dev #{number} back to this one"), ("maintainer", "/hold flaky"),
                      ("maintainer", "/unhold fixed")]
    glass = run(stack, "promote", str(number), "--to", "dev", "--break-glass", "--reason", "outage", token=maintainer)
    assert glass.exit_code == 0 and stack.github.client().comments(number)[-1].body == "/promote dev --break-glass outage"
    empty = run(stack, "hold", str(number), "--reason", " ", token=maintainer)
    assert empty.exit_code == 1 and "/hold needs a reason" in empty.output
    # status lists the holds in force (recorded by the comment handler; here directly)
    stack.instance.report_runless_asset_event(ring_record.hold_observation(number, None, "hold", "maintainer", "flaky"))
    status = run(stack, "status", "--json")
    [hold] = json.loads(status.output)["holds"]
    assert (hold["pr"], hold["by"], hold["reason"], hold["digest"]) == (number, "maintainer", "flaky", None)
    text = run(stack, "status")
    assert f"holds: 1\n  PR #{number} (every build) held since" in text.output and "by maintainer: flaky" in text.output
@pytest.fixture
def soak_stack(github, tmp_path, monkeypatch):
    """staging needs an hour of soak in dev."""
    yield from open_stack(github, tmp_path, monkeypatch, staging={"soak_seconds": 3600})


def test_status_shows_soak_left_and_approvals_a_new_digest_voided(soak_stack):
    stack = soak_stack  # noqa: F811
    number = stack.open_pr("soaks")
    stack.build(number, DIGEST_A)
    stack.comment(number, "/approve staging", user="maintainer")  # for DIGEST_A, the build then
    stack.build(number, DIGEST_B)
    went_live(stack, "dev", number, DIGEST_B)
    status = run(stack, "status", "--json")
    assert status.exit_code == 0, status.output
    staging = next(r for r in json.loads(status.output)["rings"] if r["ring"] == "staging")
    candidate = staging["candidate"]
    assert candidate["digest"] == DIGEST_B and candidate["soak"]["started"] is True
    assert 3500 < candidate["soak"]["left_seconds"] <= 3600 and "left" in candidate["soak"]["text"]
    [voided] = candidate["voided_approvals"]
    assert voided["login"] == "maintainer" and voided["digest"] == DIGEST_A and "voids approvals" in voided["reason"]
    text = run(stack, "status")
    assert "soak: soaked" in text.output and "voided approval by maintainer" in text.output


def test_metrics_json_from_the_record_with_missing_figures_as_null(stack):  # noqa: F811
    number = stack.open_pr("measured")
    stack.build(number, DIGEST_A)
    went_live(stack, "dev", number, DIGEST_A)
    instance = stack.instance
    def reverified(passed: bool, failed_check: str = ""):
        instance.report_runless_asset_event(ring_record.verification_observation(
            "ring_dev", number, DIGEST_A, passed=passed, phase="reverify", at=time.time(),
            requester="policy (re-verification)", failed_check=failed_check))

    reverified(False, "smoke /health: 500")
    time.sleep(0.2)
    reverified(True)
    result = run(stack, "metrics", "--days", "7", "--json")
    assert result.exit_code == 0, result.output
    rings = {r["ring"]: r for r in json.loads(result.output)["rings"]}
    dev = rings["dev"]
    assert (dev["promotions"], dev["rollbacks"], dev["change_failure_rate"]) == (1, 0, 0.0)
    assert dev["deployment_frequency_per_day"] == pytest.approx(1 / 7)
    assert dev["lead_time_samples"] == 1 and dev["lead_time_median_seconds"] > 0  # first commit from GitHub
    assert dev["restores"] == 1 and 0 < dev["time_to_restore_median_seconds"] < 30 and dev["live_verified"] is True
    for missing in ("staging", "ring-0"):  # nothing recorded: every figure is missing, none is 0
        figures = rings[missing]
        assert figures["deployment_frequency_per_day"] is None and figures["change_failure_rate"] is None
        assert figures["lead_time_median_seconds"] is None and figures["time_to_restore_median_seconds"] is None
        assert figures["live_verified"] is None
    table = run(stack, "metrics")
    assert table.exit_code == 0 and "staging" in table.output
    assert table.output.splitlines()[-1].split()[1:] == ["—"] * 5  # ring-0's row
