"""`aither demo --once`: the whole product on its embedded stack, on the real path (sensor, daemon, runs)."""

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aither_assets.devstack import postgres
from aither_assets.devstack.demo.seed import HOSTILE_TITLE

pytestmark = pytest.mark.skipif(shutil.which("docker-registry") is None, reason="docker-registry is not installed")


@pytest.mark.parametrize("profile", ["embedded", "production"])
def test_demo_once_processes_every_sample_pr(tmp_path, profile):
    # production: PostgreSQL, the code image, one container per run (DockerRunLauncher); the same checks.
    if profile == "production" and not postgres.available():
        pytest.skip("PostgreSQL is not installed (scripts/bootstrap installs it)")
    summary_file = tmp_path / "summary.json"
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "aither"), "demo", "--once", "--profile", profile,
         "--data", str(tmp_path / "demo"), "--json", str(summary_file), "--timeout", "600"],
        capture_output=True, text=True, timeout=1200,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads(summary_file.read_text())
    assert summary["profile"] == profile
    if profile == "production":  # every run was a container of the code image; none left, Postgres stopped
        assert summary["runs_in_containers"]["runs"] >= 10
        assert summary["runs_in_containers"]["with_container"] == summary["runs_in_containers"]["runs"]
        assert summary["runs_in_containers"]["images"] and all(
            image.startswith("aither/code:") for image in summary["runs_in_containers"]["images"])
        assert summary["teardown"]["containers_left"] == [] and summary["teardown"]["postgres_running"] is False
    prs = {p["title"]: p for p in summary["prs"]}
    assert len(prs) >= 10

    ran = [p for p in prs.values() if p["run_status"]]
    assert all(p["head_runs"] == 1 for p in ran), {p["number"]: p["head_runs"] for p in ran}  # one run per head
    for pr in ran:
        context = pr["assets"]["pr_context"]
        assert context["status"] == "MATERIALIZED"
        assert context["metadata"]["head_sha"] == pr["head_sha"]
    rings = {p["base"]: p["ring"] for p in prs.values()}
    assert rings["dev"] == "dev" and rings["dev-staging"] == "staging"
    assert rings["ring-0-canary"] == "ring-0" and rings["main"] == "production"

    assert prs["WIP: new storage backend"]["skipped_reason"].startswith("draft PR")
    assert "ok-to-test" in prs["Outside contribution (fork-unapproved)"]["skipped_reason"]
    assert prs["Outside contribution (fork-approved)"]["run_status"] == "SUCCESS"
    # Tests ran for real: the broken head fails exactly one named test, in the UI metadata and the check.
    broken = prs["Refactor handlers (breaks a test)"]
    assert broken["run_status"] == "FAILURE"
    assert broken["checks"]["unit_tests:all_tests_passed"] == "FAILED"
    failing = broken["check_details"]["unit_tests:all_tests_passed"]["failing_tests"]
    assert len(failing) == 1 and "test_wrong_method_is_405" in failing[0]
    assert broken["assets"]["unit_tests"]["metadata"]["failed"] == 1
    assert "test\\_wrong\\_method\\_is\\_405" in broken["assets"]["unit_tests"]["metadata"]["failing_tests"]
    good = prs["Paginate the items API"]
    for name in ("unit_tests", "domain_tests", "integration_tests"):
        assert good["assets"][name]["metadata"]["tests"] > 0 and good["assets"][name]["metadata"]["failed"] == 0
        assert good["checks"][f"{name}:all_tests_passed"] == "PASSED"
    # A docs-only head builds and tests nothing, and says why.
    docs = prs["Docs: explain the items API"]
    assert docs["assets"]["build_artifacts"] == {"status": "SKIPPED", "skipped_reason": "docs-only change", "metadata": {}}

    # The three wiring bugs of the pipeline we replace, and a call missing a permission, are each named and block.
    miswired = prs["CI: split the deploy workflow (miswired)"]
    assert miswired["run_status"] == "FAILURE"
    assert miswired["checks"]["validation_report:no_error_findings"] == "FAILED"
    errors = " ".join(miswired["check_details"]["validation_report:no_error_findings"]["errors"])
    for rule in ("needs-missing-job", "shared-concurrency-group", "reusable-not-callable", "reusable-permissions"):
        assert rule in errors
    assert good["checks"]["validation_report:no_error_findings"] == "PASSED"

    # The image is in the registry under every tag, by digest; the preview answered its smoke checks.
    image = good["assets"]["container_image"]
    assert image["registry_verified"] and image["metadata"]["digest"].startswith("sha256:")
    assert image["metadata"]["tags"] == [f"pr-{good['number']}-dev-v2", f"pr-{good['number']}-dev-latest",
                                         f"pr-{good['number']}-latest", f"pr-{good['number']}-{good['head_sha'][:8]}"]
    # the ring tag is set by the deploy, on the digest the preview runs (read back from the registry)
    assert good["assets"]["pr_environment"]["ring_tag_verified"] is True
    environment = good["assets"]["pr_environment"]["metadata"]
    assert environment["ring_tag"] == f"dev-pr-{good['number']}-latest"
    assert environment["digest"] == image["metadata"]["digest"] and environment["container"] == f"sample-app-pr-{good['number']}"
    assert good["checks"]["smoke_report:smoke_passed"] == "PASSED" and good["assets"]["smoke_report"]["metadata"]["passed"] >= 3
    ports = [p["assets"]["pr_environment"]["metadata"]["port"] for p in prs.values() if "pr_environment" in p["assets"]
             and p["assets"]["pr_environment"]["status"] == "MATERIALIZED"]
    assert len(ports) == len(set(ports)) >= 4  # never shared by two live PRs
    # Nothing deploys a head whose tests or validation failed, or a docs-only head (and it says why).
    # A broken head's image is built side by side with its tests, under its build tags only.
    assert broken["assets"]["container_image"]["status"] == "MATERIALIZED"
    assert broken["assets"]["pr_environment"]["status"] != "MATERIALIZED"
    assert all(tag.startswith("pr-") for tag in broken["assets"]["container_image"]["metadata"]["tags"])
    assert docs["assets"]["container_image"] == {"status": "SKIPPED", "skipped_reason": "no source, docker or config change",
                                                 "metadata": {}}
    assert json.loads(summary_file.read_text())["teardown"]["left_running"] == []

    # A second head on the first PR: iteration 2, still one sticky comment, statuses per stage, deployments.
    assert good["assets"]["build_artifacts"]["metadata"]["iteration"] == 2
    assert good["assets"]["container_image"]["metadata"]["tags"][0] == f"pr-{good['number']}-dev-v2"
    # The second head came by webhook: the local GitHub delivered the signed event, the receiver
    # queued the run through the webserver's GraphQL API. The PR sensor polls too and may see the head
    # first; then the receiver finds the head's run or claim and starts none. Either way there is one run.
    deliveries = [d for d in json.loads(summary_file.read_text())["webhook_deliveries"]
                  if d["pr_number"] == good["number"] and d["head_sha"] == good["head_sha"]]
    assert deliveries and deliveries[0]["event"] == "pull_request" and deliveries[0]["action"] == "synchronize"
    if good["triggered_by"] == "webhook":
        assert deliveries[0]["outcome"].startswith(f"run {good['run_id']} ")
    else:
        assert good["triggered_by"] == "sensor"
        assert "has a run already" in deliveries[0]["outcome"] or "started by the PR sensor" in deliveries[0]["outcome"]
    facts = json.loads(summary_file.read_text())["github"]
    for pr in ran:
        assert facts[str(pr["number"])]["sticky_comments"] == 1
    assert set(facts[str(good["number"])]["statuses"].values()) == {"success"}
    assert facts[str(good["number"])]["deployments"] == 2  # one per deployed head
    assert facts[str(broken["number"])]["statuses"]["aither/unit-tests"] == "failure"
    pages = tmp_path / "demo" / "store" / "pages"
    assert (pages / "index.html").exists()
    ring0 = (pages / "rings" / "ring-0.html").read_text()  # published by the promotions, after the pipelines
    assert "Running now" in ring0 and f"#{good['number']}" in ring0 and "maintainer" in ring0 and "refused" in ring0
    assert "No promotion yet" in (pages / "rings" / "production.html").read_text()
    for pr in ran:
        assert (pages / f"pr-{pr['number']}" / "index.html").exists()
    # A run whose stages all pass reports in its own last steps; a failed one gets a report run.
    assert good["reported_by"] == "pipeline run" and broken["reported_by"] == "report run"
    assert docs["reported_by"] == "report run"  # skipped stages skip the in-run report too
    assert "&lt;script&gt;" in (pages / f"pr-{prs[HOSTILE_TITLE]['number']}" / "index.html").read_text()

    hostile = prs[HOSTILE_TITLE]
    assert hostile["run_status"] == "SUCCESS"
    assert hostile["triggered_by"] == "sensor"  # opened before the hook existed: found by the sensor's first tick
    assert hostile["assets"]["pr_context"]["metadata"]["title"] == HOSTILE_TITLE
    assert not Path("/tmp/aither-pwned").exists()

    # Promotion (issue 14): PR #1 dev -> staging -> ring-0 through PR comments, on the product's path.
    summary = json.loads(summary_file.read_text())
    attempts = summary["promotions"]
    first = [a for a in attempts if a["pr"] == good["number"] and a["requester"] != "policy (automatic promotion)"]
    assert [(a["ring"], a["outcome"]) for a in first] == [
        ("dev", "promoted"), ("staging", "promoted"), ("ring-0", "refused"), ("ring-0", "promoted"),
        ("staging", "rolled_back"), ("ring-1", "refused"), ("ring-1", "promoted")]
    refused = first[2]
    assert [g["gate"] for g in refused["unmet_gates"]] == ["approvals"]
    assert "alice ignored: the PR's author cannot approve" in refused["unmet_gates"][0]["reason"]
    assert refused["requester"] == "alice" and first[3]["approvals"] == ["maintainer"]
    assert len({a["digest"] for a in first}) == 1 and first[0]["digest"] == image["metadata"]["digest"]
    flag = next(a for a in attempts if a["outcome"] == "verification_failed")
    assert flag["ring"] == "dev" and flag["failed_check"].startswith("smoke /: ") and "500" in flag["failed_check"]
    assert flag["restored_digest"] == first[0]["digest"]
    assert summary["rings"]["dev"]["running_digest"] == summary["rings"]["dev"]["recorded_digest"] == first[0]["digest"]
    assert summary["rings"]["ring-0"]["running_pr"] == good["number"]
    trace = summary["trace"]
    assert trace["pr"] == good["number"] and trace["build"]["pipeline_run"] == good["run_id"]
    assert trace["build"]["checks"]["smoke_report:smoke_passed"] == "PASSED"
    assert summary["promotion_scenario"]["ignored_comment"]["replies"]
    assert summary["rings_removed"] == ["dev", "staging", "ring-0", "ring-1", "ring-2"]

    # Recovery (issue 16): automatic rollbacks after failed verifications (dev, ring-0), a maintainer's rollback
    # of staging, the builds rolled back from held; a freeze refusal naming its window, then break-glass by an admin.
    numbers = {p["title"]: p["number"] for p in summary["prs"]}
    canary_flag = numbers["Canary: landing page behind the ring flag"]
    health = numbers["Report the version on /health"]
    by_ring = {r["ring"]: r for r in summary["rollbacks"]}
    assert by_ring["ring-0"]["replaced_pr"] == canary_flag and by_ring["ring-0"]["pr"] == good["number"]
    assert by_ring["ring-0"]["requester"] == "policy (automatic rollback)"
    assert by_ring["staging"]["replaced_pr"] == health and by_ring["staging"]["requester"] == "maintainer"
    assert {canary_flag, health} <= {h["pr"] for h in summary["holds"]}
    assert good["number"] not in {h["pr"] for h in summary["holds"]}
    assert summary["rings"]["staging"]["running_digest"] == first[0]["digest"]
    assert "frozen" in [g["gate"] for g in first[5]["unmet_gates"]]
    assert "'demo-freeze' (Pacific/Auckland)" in str(first[5]["unmet_gates"])
    assert first[6]["break_glass"] is True and first[6]["requester"] == "release-admin"
    # Automatic promotion (issue 16): ring-2 took PR #1's build by itself after its 3 s soak in ring-1.
    [auto] = summary["auto_promotions"]
    assert (auto["ring"], auto["pr"], auto["digest"], auto["verified"]) == (
        "ring-2", good["number"], first[0]["digest"], True)
    assert auto["soak_end_to_live_seconds"] >= 0 and auto["runs"] == ["SUCCESS"]
    assert auto["reason"].startswith(f"promote PR #{good['number']} ") and auto["reason"].endswith("automatically")
    # Delivery metrics from the record alone: figures with data, and missing ones as null (never 0).
    metrics = {r["ring"]: r for r in summary["metrics"]["rings"]}
    assert metrics["ring-2"]["promotions"] == 1 and metrics["ring-2"]["lead_time_samples"] == 1
    assert metrics["dev"]["promotions"] >= 2 and metrics["dev"]["change_failure_rate"] is not None
    assert metrics["production"]["deployment_frequency_per_day"] is None
    assert metrics["production"]["change_failure_rate"] is None
    # Staleness: the image's digest is container_image's data version, and dev's promotion consumed it.
    stale = summary["staleness"]
    assert stale["image_data_version"] == stale["image_digest"] == image["metadata"]["digest"]
    # (Dagster records a partitioned dependency's version as the sha256 of its partitions' versions)
    assert stale["ring_dev_digest"] == first[0]["digest"]
    assert stale["ring_dev_input_data_version"] == hashlib.sha256(first[0]["digest"].encode()).hexdigest()

    # Nothing left running: no process of ours still holds the data folder.
    leftover = subprocess.run(["pgrep", "-af", str(tmp_path / "demo")], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""
