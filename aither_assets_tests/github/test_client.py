"""The GitHub client against the real local GitHub server (HTTP, pagination, ETags, faults)."""

import logging

import pytest

from aither_assets.github import GitHubError, GitHubRateLimited
from aither_assets.github.client import GitHubClient, RetryPolicy
from aither_assets_tests.conftest import OWNER, REPO


def test_open_pulls_follows_pagination_across_pages(github):
    github.store.bulk_open_prs(OWNER, REPO, count=230, base="dev", author="alice")
    client = github.client()
    before = len(github.store.request_log())
    pulls = client.open_pulls()
    assert len(pulls) == 230 and len({p.number for p in pulls}) == 230
    paths = [r["path"] for r in github.store.request_log()[before:]]
    assert len(paths) == 3 and "page=3" in paths[-1]  # 100 + 100 + 30


def test_unchanged_poll_is_one_free_304(github):
    github.open_pr("a")
    client = github.client()
    first = client.poll_pulls()
    remaining = client.rate_limit[0]
    again = client.poll_pulls(etag=first.etag, since=first.pulls[0].updated_at)
    assert again.not_modified and again.pulls == []
    last = github.store.request_log()[-1]
    assert last["status"] == 304 and not last["counted"]
    assert client.rate_limit[0] == remaining  # a 304 costs no rate limit


def test_poll_after_a_push_reads_only_what_changed(github):
    numbers = [github.open_pr(f"pr{i}") for i in range(3)]
    client = github.client()
    first = client.poll_pulls()
    since = max(p.updated_at for p in first.pulls)
    sha = github.push(numbers[0], {"app/pr0.py": "x = 2\n"})
    changed = client.poll_pulls(etag=first.etag, since=since)
    assert not changed.not_modified and changed.etag != first.etag
    assert changed.pulls[0].number == numbers[0] and changed.pulls[0].head_sha == sha


def test_pull_fields_and_files(github):
    number = github.open_pr("items", files={"app/items.py": "x = 1\n", "README.md": "docs\n"}, title="Items <b>")
    client = github.client()
    pr = client.pull(number)
    assert (pr.title, pr.author, pr.base_ref, pr.head_ref, pr.state) == ("Items <b>", "alice", "dev", "feature/items", "open")
    assert not pr.is_fork and len(pr.head_sha) == 40
    assert sorted(f.filename for f in client.pull_files(number)) == ["README.md", "app/items.py"]


def test_retries_injected_server_errors(github):
    github.open_pr("a")
    github.store.set_faults(server_errors=3)
    assert len(github.client().open_pulls()) == 1
    assert [r["status"] for r in github.store.request_log()[-4:]] == [502, 502, 502, 200]


def test_gives_up_after_its_attempts_with_a_clear_error(github):
    github.store.set_faults(server_errors=10)
    with pytest.raises(GitHubError) as info:
        github.client(attempts=2).open_pulls()
    assert "list open pull requests failed" in str(info.value)


def test_honours_retry_after_on_secondary_rate_limits(github):
    github.open_pr("a")
    for status in (429, 403):
        github.store.set_faults(secondary_rate_limits=1, retry_after=1, status=status)
        assert len(github.client().open_pulls()) == 1
        statuses = [r["status"] for r in github.store.request_log()[-2:]]
        assert statuses == [status, 200]


def test_primary_rate_limit_beyond_the_wait_cap_raises_rate_limited(github):
    github.store.set_faults(primary_rate_limit=1, reset_in=3600)
    with pytest.raises(GitHubRateLimited) as info:
        github.client(max_rate_limit_wait=5).open_pulls()
    assert info.value.wait_seconds > 3000
    assert "API rate limit exceeded" in str(info.value)


def test_errors_carry_status_and_githubs_message(github):
    client = github.client()
    with pytest.raises(GitHubError) as info:
        client.pull(999)
    assert info.value.status == 404 and "Not Found" in str(info.value)
    bad = GitHubClient.connect(github.url, github.repository, token="ghp_wrong", retry=RetryPolicy(attempts=0))
    with pytest.raises(GitHubError) as info:
        bad.open_pulls()
    assert info.value.status == 401 and "Bad credentials" in str(info.value)


def test_token_never_appears_in_logs_or_errors(github, caplog):
    caplog.set_level(logging.DEBUG)
    secret = github.token
    client = github.client()
    github.open_pr("a")
    client.open_pulls()
    github.store.set_faults(server_errors=10)
    with pytest.raises(GitHubError) as info:
        github.client(attempts=1).open_pulls()
    bad = GitHubClient.connect(github.url, github.repository, token="ghp_" + "Z" * 36, retry=RetryPolicy(attempts=0))
    with pytest.raises(GitHubError) as bad_info:
        bad.pull(1)
    assert caplog.records, "expected debug logging from the HTTP stack"
    for text in (caplog.text, str(info.value), str(bad_info.value), repr(client)):
        assert secret not in text and "Z" * 36 not in text


def test_api_v3_prefix_like_github_enterprise(github):
    github.open_pr("a")
    client = GitHubClient.connect(github.url + "/api/v3", github.repository, token=github.token)
    assert len(client.open_pulls()) == 1


def test_feedback_calls_statuses_comments_deployments(github):
    number = github.open_pr("a")
    client = github.client()
    sha = client.pull(number).head_sha
    client.set_status(sha, "pending", "aither/build", "building", "http://dagster/runs/1")
    client.set_status(sha, "success", "aither/build", "built")
    client.set_status(sha, "failure", "aither/tests", "1 failed")
    combined = client.combined_status(sha)
    assert combined["state"] == "failure"
    assert {s["context"]: s["state"] for s in combined["statuses"]} == {"aither/build": "success", "aither/tests": "failure"}

    comment = client.create_comment(number, "<!-- aither -->\nfirst")
    client.update_comment(comment.id, "<!-- aither -->\nsecond")
    assert [c.body for c in client.comments(number)] == ["<!-- aither -->\nsecond"]
    client.delete_comment(comment.id)
    assert client.comments(number) == []

    deployment = client.create_deployment(sha, f"pr-{number}", description="preview")
    client.set_deployment_status(deployment["id"], "success", environment_url="http://127.0.0.1:20001")
    (listed,) = client.deployments(environment=f"pr-{number}")
    assert listed["transient_environment"] is True and listed["sha"] == sha


def test_permission_and_label_events(github):
    number = github.open_pr("a")
    github.store.add_labels(OWNER, REPO, number, ["ok-to-test"], actor="maintainer")
    client = github.client()
    assert client.permission("maintainer") == "write"
    assert client.permission("mallory") == "read"
    assert client.permission("nobody-at-all") == "none"
    (event,) = client.label_events(number)
    assert (event.event, event.label, event.actor) == ("labeled", "ok-to-test", "maintainer")


def test_comments_permissions_and_repository_comment_listing(github):
    number = github.open_pr("c")
    github.store.create_user("reader")
    github.store.add_collaborator(OWNER, REPO, "reader", "read")
    github.store.add_collaborator(OWNER, REPO, "maintainer", "maintain")
    client = github.client()
    first = client.create_comment(number, "/approve ring-0")
    github.store.create_comment(OWNER, REPO, number, "/promote dev", user="maintainer")
    listed = client.repo_comments()
    assert [(c.author, c.issue_number) for c in listed] == [("aither-bot", number), ("maintainer", number)]
    assert listed[0].created_at and listed[0].html_url.endswith(f"#issuecomment-{first.id}")
    assert client.repo_comments(since="2999-01-01T00:00:00Z") == []
    assert client.comment(first.id).body == "/approve ring-0"
    assert [c.body for c in client.comments(number, since=listed[1].updated_at)][-1] == "/promote dev"
    assert client.permission_level("maintainer") == "maintain" and client.permission("maintainer") == "write"
    assert client.permission_level("reader") == "read" and client.permission_level("nobody-at-all") == "none"


def test_first_commit_time_is_the_earliest_of_the_prs_commits_across_pages(github):
    import time as _time
    from datetime import UTC, datetime

    number = github.open_pr("commits")
    _time.sleep(1.1)  # commit times are whole seconds: the later pushes are later
    github.push(number, {"app/one.py": "X = 1\n"})
    github.push(number, {"app/two.py": "X = 2\n"})
    client = github.client()
    first = client.first_commit_at(number)
    assert first is not None and first.tzinfo is not None and first <= datetime.now(UTC)
    # the local server pages the PR's commits like GitHub (Link: rel="next"), oldest first
    headers, page = client._get(f"/repos/{OWNER}/{REPO}/pulls/{number}/commits", {"per_page": 1})
    assert len(page) == 1 and 'rel="next"' in str(headers.get("Link") or headers.get("link"))
    assert datetime.fromisoformat(page[0]["commit"]["author"]["date"].replace("Z", "+00:00")) == first
    assert client.first_commit_at(number) < datetime.fromisoformat(
        client._get(f"/repos/{OWNER}/{REPO}/pulls/{number}/commits", {"per_page": 1, "page": 3})[1][0]
        ["commit"]["author"]["date"].replace("Z", "+00:00"))
