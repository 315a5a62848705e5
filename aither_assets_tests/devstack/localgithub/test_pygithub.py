"""PyGithub 2.x against the server, end to end (token and GitHub App auth)."""

from __future__ import annotations

import time

import github
import jwt
import pytest
from github import Auth, GithubIntegration

from aither_assets.devstack.localgithub import LocalGitHub

from .conftest import OTHER_TOKEN, OWNER_TOKEN, Api

APP_ID = 4242


# PyGithub throttles by default (0.25 s between requests, 1 s between writes).
NO_THROTTLE = {"seconds_between_requests": None, "seconds_between_writes": None}


def client(base_url: str, token: str | Auth.Auth = OWNER_TOKEN, **kwargs) -> github.Github:
    auth = Auth.Token(token) if isinstance(token, str) else token
    return github.Github(base_url=base_url, auth=auth, **NO_THROTTLE, **kwargs)


def test_repo_and_paginated_pulls(base_url: str, gh: LocalGitHub) -> None:
    gh.bulk_open_prs("alice", "app", count=7, base="main")
    repo = client(base_url, per_page=3).get_repo("alice/app")
    assert (repo.full_name, repo.default_branch, repo.fork, repo.owner.login) == ("alice/app", "main", False, "alice")
    before = gh.request_count(OWNER_TOKEN)
    pulls = repo.get_pulls(state="open", sort="created", direction="asc")
    assert [pr.number for pr in pulls] == list(range(1, 8))
    assert gh.request_count(OWNER_TOKEN) - before == 3  # three pages of 3, 3, 1
    assert pulls.totalCount == 7


def test_pull_files_and_fields(base_url: str, gh: LocalGitHub, feature_pr: int) -> None:
    pr = client(base_url).get_repo("alice/app").get_pull(feature_pr)
    assert (pr.title, pr.user.login, pr.head.ref, pr.base.ref, pr.merged, pr.draft) == (
        "Feature", "alice", "feature", "main", False, False)
    assert pr.head.sha == gh.get_pr("alice", "app", feature_pr)["head_sha"]
    assert pr.head.repo.full_name == "alice/app" and pr.updated_at.tzinfo is not None
    assert sorted((f.filename, f.status) for f in pr.get_files()) == [
        ("NEW.md", "added"), ("README.md", "removed"), ("src/app.py", "modified")]
    assert [c.commit.message for c in pr.get_commits()] == ["feature work"]


def test_fork_pull_through_pygithub(base_url: str, gh: LocalGitHub) -> None:
    gh.fork_repo("alice", "app", "bob")
    gh.commit_files("bob", "app", "patch", {"p.txt": "p"}, "p")
    number = gh.open_pr("alice", "app", head="patch", base="main", title="From fork", user="bob", head_owner="bob")
    pr = client(base_url).get_repo("alice/app").get_pull(number)
    assert pr.head.repo.full_name == "bob/app" and pr.head.repo.fork and pr.head.label == "bob:patch"
    fork = client(base_url).get_repo("bob/app")
    assert fork.parent.full_name == "alice/app" and fork.source.full_name == "alice/app"


def test_labels_reviews_and_issue_comments(base_url: str, gh: LocalGitHub, feature_pr: int) -> None:
    pr = client(base_url).get_repo("alice/app").get_pull(feature_pr)
    pr.add_to_labels("preview", "ok-to-test")
    pr.remove_from_labels("preview")
    assert [label.name for label in pr.get_labels()] == ["ok-to-test"]
    assert [e.event for e in pr.get_issue_events()] == ["labeled", "labeled", "unlabeled"]
    comment = pr.create_issue_comment("<!-- aither --> first")
    comment.edit("<!-- aither --> second")
    comments = list(pr.get_issue_comments())
    assert [(c.id, c.body) for c in comments] == [(comment.id, "<!-- aither --> second")]
    comment.delete()
    assert list(pr.get_issue_comments()) == []
    as_bob = client(base_url, OTHER_TOKEN).get_repo("alice/app").get_pull(feature_pr)
    as_bob.create_review(event="APPROVE", body="ok")
    assert [(r.user.login, r.state) for r in pr.get_reviews()] == [("bob", "APPROVED")]
    with pytest.raises(github.GithubException) as error:
        pr.create_review(event="APPROVE")
    assert error.value.status == 422


def test_statuses_and_combined_status(base_url: str, gh: LocalGitHub, feature_pr: int) -> None:
    repo = client(base_url).get_repo("alice/app")
    commit = repo.get_commit(repo.get_pull(feature_pr).head.sha)
    commit.create_status("pending", "http://ci/1", "building", "aither/build")
    commit.create_status("success", "http://ci/1", "built", "aither/build")
    commit.create_status("success", description="tested", context="aither/test")
    combined = commit.get_combined_status()
    assert combined.state == "success" and combined.total_count == 2
    assert sorted(s.context for s in combined.statuses) == ["aither/build", "aither/test"]
    assert len(list(commit.get_statuses())) == 3


def test_deployments_and_statuses(base_url: str, gh: LocalGitHub, feature_pr: int) -> None:
    repo = client(base_url).get_repo("alice/app")
    sha = repo.get_pull(feature_pr).head.sha
    deployment = repo.create_deployment(sha, environment="pr-1", transient_environment=True,
                                        production_environment=False, required_contexts=[], payload={"n": 1},
                                        auto_merge=False)
    assert deployment.environment == "pr-1" and deployment.transient_environment and deployment.sha == sha
    deployment.create_status("in_progress", description="starting")
    deployment.create_status("success", environment_url="http://pr-1.local")
    deployment.create_status("inactive", description="torn down")
    assert [s.state for s in deployment.get_statuses()] == ["inactive", "success", "in_progress"]
    assert [d.id for d in repo.get_deployments(environment="pr-1")] == [deployment.id]


def test_collaborator_permission(base_url: str, gh: LocalGitHub) -> None:
    gh.create_user("carol")
    gh.add_collaborator("alice", "app", "carol", "write")
    repo = client(base_url).get_repo("alice/app")
    assert [repo.get_collaborator_permission(u) for u in ("alice", "carol", "bob")] == ["admin", "write", "read"]


@pytest.fixture
def app_install(gh: LocalGitHub, app_keys: tuple[str, str]) -> int:
    gh.create_app(APP_ID, app_keys[1], slug="aither-ci")
    return gh.create_installation(APP_ID, "alice", "app")


def test_check_runs_through_app_installation_auth(base_url: str, gh: LocalGitHub, app_keys: tuple[str, str],
                                                  app_install: int, feature_pr: int) -> None:
    auth = Auth.AppAuth(APP_ID, app_keys[0]).get_installation_auth(app_install)
    repo = client(base_url, auth).get_repo("alice/app")
    sha = repo.get_pull(feature_pr).head.sha
    run = repo.create_check_run("aither/tests", sha, status="in_progress", details_url="http://ci/run")
    run.edit(status="completed", conclusion="success", output={"title": "Tests", "summary": "12 passed"})
    assert (run.status, run.conclusion, run.output.title) == ("completed", "success", "Tests")
    runs = list(repo.get_commit(sha).get_check_runs())
    assert [(r.name, r.conclusion, r.app.slug) for r in runs] == [("aither/tests", "success", "aither-ci")]
    assert runs[0].pull_requests[0].number == feature_pr
    status = repo.get_commit(sha).create_status("success", context="by-app")
    assert status.creator.login == "aither-ci[bot]"
    personal = client(base_url).get_repo("alice/app")
    with pytest.raises(github.GithubException) as error:
        personal.create_check_run("nope", sha)
    assert error.value.status == 403 and "personal access token" in error.value.data["message"]


def test_github_integration_finds_installations(base_url: str, gh: LocalGitHub, app_keys: tuple[str, str],
                                                app_install: int) -> None:
    integration = GithubIntegration(auth=Auth.AppAuth(APP_ID, app_keys[0]), base_url=base_url, **NO_THROTTLE)
    installation = integration.get_repo_installation("alice", "app")
    assert installation.id == app_install and installation.app_id == APP_ID
    assert integration.get_app_installation(app_install).id == app_install
    token = integration.get_access_token(app_install)
    assert token.token.startswith("ghs_") and token.expires_at.timestamp() > time.time() + 3000
    with pytest.raises(github.GithubException) as error:
        integration.get_repo_installation("bob", "nothing")
    assert error.value.status == 404


def test_app_jwt_is_verified(api: Api, gh: LocalGitHub, app_keys: tuple[str, str], app_install: int) -> None:
    now = int(time.time())
    path = f"/app/installations/{app_install}/access_tokens"

    def post_with(payload: dict, key: str = app_keys[0]) -> int:
        token = jwt.encode(payload, key, algorithm="RS256")
        return api.post(path, {}, token=None, headers={"Authorization": f"Bearer {token}"}).status

    assert post_with({"iat": now - 60, "exp": now + 300, "iss": str(APP_ID)}) == 201
    assert post_with({"iat": now - 900, "exp": now - 300, "iss": str(APP_ID)}) == 401  # expired
    assert post_with({"iat": now, "exp": now + 3600, "iss": str(APP_ID)}) == 401  # too long-lived
    assert post_with({"iat": now, "exp": now + 300, "iss": "999"}) == 401  # unknown app
    other_key = _other_private_key()
    assert post_with({"iat": now, "exp": now + 300, "iss": str(APP_ID)}, other_key) == 401  # wrong signature
    assert api.post(path, {}).status == 401  # a personal token is not an app JWT


def _other_private_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_installation_token_expires(api: Api, gh: LocalGitHub, app_install: int) -> None:
    token = gh.create_token_for_installation(app_install)
    assert api.get("/repos/alice/app", token=token).status == 200
    gh.db.conn().execute("UPDATE tokens SET expires_at = 0 WHERE kind = 'installation'")
    assert api.get("/repos/alice/app", token=token).status == 401


def test_api_v3_base_url_with_pygithub(base_url: str, gh: LocalGitHub, feature_pr: int) -> None:
    repo = client(base_url + "/api/v3").get_repo("alice/app")
    assert repo.url == f"{base_url}/api/v3/repos/alice/app"
    assert [f.filename for f in repo.get_pull(feature_pr).get_files()]
