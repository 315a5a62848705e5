"""Publishing to a real (local) GitHub: statuses per stage, ONE sticky comment, never raising."""

from __future__ import annotations

import time

from aither_assets.feedback import (
    APPROVAL_CONTEXT,
    CONTEXTS,
    MARKER,
    FeedbackLinks,
    publish_approval_states,
    publish_feedback,
    stage_outcomes,
)
from aither_assets_tests.conftest import OWNER, REPO

from .conftest import FAILING_TEST_PR, SUCCESS_PR


def links_for(entry) -> FeedbackLinks:
    return FeedbackLinks.for_dagster("http://dagster.local:3000", entry, dashboard="http://pages.local/")


def marker_comments(github, number: int) -> list[dict]:
    return [c for c in github.store.list_comments(OWNER, REPO, number) if c["body"].startswith(MARKER)]


def writes_since(github, since_id: int) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in github.store.request_log(since_id=since_id) if r["method"] != "GET"]


def last_request_id(github) -> int:
    log = github.store.request_log()
    return log[-1]["id"] if log else 0


def test_statuses_per_stage_and_one_comment(github, local_entry) -> None:
    entry = local_entry(FAILING_TEST_PR)
    client = github.client()
    report = publish_feedback(client, entry, links_for(entry))
    assert report.errors == []
    assert (report.statuses_set, report.comment_action, report.mode) == (9, "created", "statuses")
    # 1 combined-status read + 9 statuses + who-am-I + 1 comment page + 1 comment
    assert report.requests == 13

    combined = client.combined_status(entry["head_sha"])
    got = {s["context"]: (s["state"], s["description"], s["target_url"]) for s in combined["statuses"]}
    want = {o.context: (o.state, o.description, o.target_url) for o in stage_outcomes(entry, links_for(entry))}
    assert got == want and set(got) == set(CONTEXTS)
    assert got["aither/unit-tests"][:2] == ("failure", "68 passed, 1 failed (69 tests, 3 suites, 5.6 s)")
    assert got["aither/image"][:2] == ("error", "not run: an earlier stage failed")
    assert combined["state"] == "failure"

    comments = marker_comments(github, entry["number"])
    assert [c["id"] for c in comments] == [report.comment_id]
    assert github.store.user_by_id(comments[0]["user_id"])["login"] == "aither-bot"


def test_publishing_the_same_result_again_writes_nothing(github, local_entry) -> None:
    entry = local_entry(SUCCESS_PR)
    client = github.client()
    first = publish_feedback(client, entry, links_for(entry))
    since = last_request_id(github)
    again = publish_feedback(client, entry, links_for(entry))
    assert (again.statuses_set, again.statuses_unchanged, again.comment_action) == (0, 9, "unchanged")
    assert again.comment_id == first.comment_id and again.errors == []
    assert writes_since(github, since) == []


def test_sticky_comment_found_past_the_first_page_and_updated_in_place(github, local_entry) -> None:
    number = github.open_pr("busy")
    for i in range(250):
        github.store.create_comment(OWNER, REPO, number, f"comment {i}", user="alice")
    # Someone else quoting our marker is not our comment: never updated, never deleted.
    impostor = github.store.create_comment(OWNER, REPO, number, MARKER + "\nfake results", user="mallory")
    client = github.client()

    running = local_entry(SUCCESS_PR, pr=number)
    running["run_status"] = "STARTED"
    for asset in ("container_image", "pr_environment", "smoke_report"):
        running["assets"][asset] = {"status": "NOT_MATERIALIZED", "metadata": {}}
    first = publish_feedback(client, running, links_for(running))
    assert first.comment_action == "created" and first.errors == []

    for i in range(50):  # the conversation goes on: our comment is now on page 3 of 4
        github.store.create_comment(OWNER, REPO, number, f"later {i}", user="alice")
    since = last_request_id(github)
    done = local_entry(SUCCESS_PR, pr=number)
    second = publish_feedback(client, done, links_for(done))
    assert (second.comment_action, second.comment_id) == ("updated", first.comment_id)
    pages = [r["path"] for r in github.store.request_log(since_id=since) if f"/issues/{number}/comments" in r["path"]]
    assert len(pages) == 4 and "page=4" in pages[-1]

    ours = [c for c in marker_comments(github, number) if c["id"] != impostor["id"]]
    assert [c["id"] for c in ours] == [first.comment_id]
    assert "3/3 checks passed" in ours[0]["body"] and "in progress" not in ours[0]["body"]
    assert github.store.comment_row(github.store.repo_row(OWNER, REPO), impostor["id"])["body"].endswith("fake results")
    assert len(github.store.list_comments(OWNER, REPO, number)) == 250 + 1 + 50 + 1


def test_duplicates_left_by_a_crash_are_deleted_and_the_oldest_kept(github, local_entry) -> None:
    entry = local_entry(FAILING_TEST_PR)
    number = entry["number"]
    oldest = github.store.create_comment(OWNER, REPO, number, MARKER + "\nfrom a run that crashed", user="aither-bot")
    github.store.create_comment(OWNER, REPO, number, "a human comment", user="alice")
    newer = github.store.create_comment(OWNER, REPO, number, MARKER + "\nfrom a racing run", user="aither-bot")
    report = publish_feedback(github.client(), entry, links_for(entry))
    assert (report.comment_action, report.comment_id, report.comments_deleted) == ("updated", oldest["id"], 1)
    assert [c["id"] for c in marker_comments(github, number)] == [oldest["id"]]
    assert newer["id"] not in [c["id"] for c in github.store.list_comments(OWNER, REPO, number)]
    assert len(github.store.list_comments(OWNER, REPO, number)) == 2


def test_github_failing_is_reported_not_raised_and_the_next_run_reconciles(github, local_entry) -> None:
    entry = local_entry(FAILING_TEST_PR)
    client = github.client()
    github.store.set_faults(server_errors=50)
    started = time.monotonic()
    report = publish_feedback(client, entry, links_for(entry))
    assert time.monotonic() - started < 10
    assert report.errors and report.comment_action == "failed" and report.comment_id is None
    assert any("502" in error for error in report.errors)
    assert "the next run reconciles" in report.errors[-1]  # it stopped calling a GitHub that does not answer
    assert github.store.faults()["server_errors"]["remaining"] > 0

    github.store.clear_faults()
    healed = publish_feedback(client, entry, links_for(entry))
    assert healed.errors == [] and healed.comment_action == "created"
    assert healed.statuses_set + healed.statuses_unchanged == 9
    states = {s["context"]: s["state"] for s in client.combined_status(entry["head_sha"])["statuses"]}
    assert states == {o.context: o.state for o in stage_outcomes(entry)}
    assert len(marker_comments(github, entry["number"])) == 1


def test_a_failure_half_way_is_completed_by_the_next_run(github, local_entry) -> None:
    entry = local_entry(SUCCESS_PR)
    client = github.client()
    github.store.set_faults(server_errors=6, path="/issues/")  # every try of one comment call
    report = publish_feedback(client, entry, links_for(entry))
    assert report.statuses_set == 9 and report.comment_action == "failed" and len(report.errors) == 1
    healed = publish_feedback(client, entry, links_for(entry))
    assert (healed.statuses_set, healed.statuses_unchanged, healed.comment_action) == (0, 9, "created")
    assert len(marker_comments(github, entry["number"])) == 1


def test_rate_limit_stops_feedback_at_once(github, local_entry) -> None:
    entry = local_entry(SUCCESS_PR)
    github.store.set_faults(primary_rate_limit=1, reset_in=600)
    started = time.monotonic()
    report = publish_feedback(github.client(), entry, links_for(entry))
    assert time.monotonic() - started < 5
    assert "rate limit" in report.errors[0].lower()
    assert report.errors[-1].startswith("skipped 10 GitHub call(s) after GitHub's rate limit")
    assert report.statuses_set == 0 and report.comment_action == "failed"


def test_a_malformed_entry_is_reported_not_raised(github, local_entry) -> None:
    entry = local_entry(SUCCESS_PR)
    entry["head_sha"] = "not-a-sha"
    report = publish_feedback(github.client(), entry, links_for(entry))
    assert report.statuses_set == 0 and any("not a commit SHA" in e for e in report.errors)
    assert publish_feedback(github.client(), {"title": "no number"}, None).errors[0].startswith("feedback not rendered")


def head_of(github, number: int) -> str:
    return github.store.get_pr(OWNER, REPO, number)["head_sha"]


def test_approval_states_are_capped_per_tick_and_never_raise(github) -> None:
    heads = [head_of(github, github.open_pr(f"fork-{i}")) for i in range(3)]
    client = github.client()
    errors = publish_approval_states(client, waiting=[(sha, "waits for ok-to-test") for sha in heads[:2]],
                                     approved=[(heads[2], "approved by maintainer (write)")], limit=2)
    assert errors == ["1 approval status(es) left for a later tick (at most 2 per tick)"]
    states = [{s["context"]: s["state"] for s in client.combined_status(sha)["statuses"]}.get(APPROVAL_CONTEXT)
              for sha in heads]
    assert states == ["pending", "pending", None]

    github.store.set_faults(server_errors=50)
    errors = publish_approval_states(client, waiting=[], approved=[(heads[2], "approved by maintainer (write)")])
    assert len(errors) == 1 and errors[0].startswith(f"set status aither/approval on {heads[2][:8]}") and "502" in errors[0]
