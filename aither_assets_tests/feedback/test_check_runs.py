"""Check runs per stage through a GitHub App installation: updated in place, never duplicated."""

from __future__ import annotations

import pytest

from aither_assets.feedback import CONTEXTS, FeedbackLinks, publish_feedback
from aither_assets.github.client import GitHubClient, RetryPolicy
from aither_assets_tests.conftest import OWNER, REPO

from .conftest import DOCS_ONLY_PR, FAILING_TEST_PR
from .test_publisher import marker_comments

APP_ID = 4242




@pytest.fixture
def app_client(github, app_keys) -> GitHubClient:
    github.store.create_app(APP_ID, app_keys[1], slug="aither-ci")
    installation = github.store.create_installation(APP_ID, OWNER, REPO)
    return GitHubClient.connect(github.url, github.repository, app_id=APP_ID, app_private_key=app_keys[0],
                                installation_id=installation,
                                retry=RetryPolicy(backoff_seconds=0.01, max_rate_limit_wait=5, secondary_rate_wait=1))


def runs_on(client: GitHubClient, sha: str) -> list[dict]:
    _, data = client._get(f"{client._repo_path}/commits/{sha}/check-runs", {"filter": "all", "per_page": 100})
    return data["check_runs"]


def test_check_runs_are_created_then_updated_in_place(github, app_client, local_entry) -> None:
    entry = local_entry(FAILING_TEST_PR)
    sha = entry["head_sha"]
    links = FeedbackLinks.for_dagster("http://dagster.local:3000", entry)

    running = local_entry(FAILING_TEST_PR, pr=entry["number"])
    running["run_status"] = "STARTED"
    for asset in ("unit_tests", "domain_tests", "integration_tests"):
        running["assets"][asset] = {"status": "NOT_MATERIALIZED", "metadata": {}}
    first = publish_feedback(app_client, running, links, use_check_runs=True)
    assert first.errors == [] and (first.mode, first.statuses_set, first.comment_action) == ("check_runs", 9, "created")
    created = {r["name"]: r for r in runs_on(app_client, sha)}
    assert set(created) == set(CONTEXTS)
    assert created["aither/unit-tests"]["status"] == "in_progress"
    assert created["aither/unit-tests"]["app"]["slug"] == "aither-ci"

    done = publish_feedback(app_client, entry, links, use_check_runs=True)
    assert done.errors == [] and done.comment_action == "updated" and done.comment_id == first.comment_id
    assert done.statuses_set == 6 and done.statuses_unchanged == 3  # the three test stages were still running
    runs = runs_on(app_client, sha)
    assert len(runs) == 9, "a second publish must not add check runs"
    by_name = {r["name"]: r for r in runs}
    assert {name: r["id"] for name, r in by_name.items()} == {name: r["id"] for name, r in created.items()}
    unit = by_name["aither/unit-tests"]
    assert (unit["status"], unit["conclusion"]) == ("completed", "failure")
    assert unit["output"]["title"] == "68 passed, 1 failed (69 tests, 3 suites, 5.6 s)"
    assert unit["details_url"] == f"http://dagster.local:3000/assets/unit_tests?view=partitions&partition={entry['number']}"
    assert by_name["aither/image"]["conclusion"] == "cancelled"  # not run: an earlier stage failed
    assert by_name["aither/validation"]["conclusion"] == "success"

    # The App's comment is authored by its bot: found again, not duplicated.
    comments = marker_comments(github, entry["number"])
    assert [c["id"] for c in comments] == [first.comment_id]
    assert github.store.user_by_id(comments[0]["user_id"])["login"] == "aither-ci[bot]"

    again = publish_feedback(app_client, entry, links, use_check_runs=True)
    assert (again.statuses_set, again.statuses_unchanged, again.comment_action) == (0, 9, "unchanged")


def test_skipped_stages_get_the_skipped_conclusion(app_client, local_entry) -> None:
    entry = local_entry(DOCS_ONLY_PR)
    report = publish_feedback(app_client, entry, None, use_check_runs=True)
    assert report.errors == []
    by_name = {r["name"]: r for r in runs_on(app_client, entry["head_sha"])}
    assert by_name["aither/validation"]["conclusion"] == "success"
    assert {by_name[c]["conclusion"] for c in CONTEXTS[1:]} == {"skipped"}
    assert by_name["aither/build"]["output"]["title"] == "skipped: docs-only change"


def test_a_personal_token_cannot_write_check_runs_so_statuses_are_published(github, local_entry) -> None:
    entry = local_entry(FAILING_TEST_PR)
    client = github.client()
    report = publish_feedback(client, entry, None, use_check_runs=True)
    assert report.mode == "statuses" and report.statuses_set == 9 and report.comment_action == "created"
    assert "403" in report.errors[0] and "GitHub App installation token" in report.errors[1]
    assert len(client.combined_status(entry["head_sha"])["statuses"]) == 9
