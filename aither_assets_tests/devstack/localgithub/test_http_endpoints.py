"""Each endpoint family over raw HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from aither_assets.devstack.localgithub import LocalGitHub

from .conftest import OTHER_TOKEN, SOURCE_FILES, Api
from .test_store import HOSTILE, HOSTILE_BRANCHES


def test_pull_shape_list_and_single(api: Api, gh: LocalGitHub, feature_pr: int) -> None:
    listed = api.get("/repos/alice/app/pulls").json
    single = api.get(f"/repos/alice/app/pulls/{feature_pr}").json
    assert [pr["number"] for pr in listed] == [feature_pr]
    pr = listed[0]
    assert (pr["state"], pr["title"], pr["body"], pr["draft"], pr["user"]["login"]) == (
        "open", "Feature", "Body", False, "alice")
    assert pr["head"]["ref"] == "feature" and pr["head"]["label"] == "alice:feature"
    assert pr["head"]["repo"]["full_name"] == "alice/app" and pr["base"]["ref"] == "main"
    assert pr["base"]["sha"] == gh.branch_sha("alice", "app", "main")
    assert "merged" not in pr  # as on GitHub, only the single-PR answer carries merge details
    assert single["merged"] is False and single["mergeable"] is True and single["mergeable_state"] == "clean"
    assert (single["commits"], single["changed_files"], single["additions"], single["deletions"]) == (1, 3, 2, 2)
    assert api.get("/repos/alice/app/pulls/999").status == 404
    assert api.get("/repos/alice/app/pulls/abc").status == 404


def test_pull_filters_and_sorting(api: Api, gh: LocalGitHub) -> None:
    gh.create_branch("alice", "app", "dev", "main")
    first, second, third = gh.bulk_open_prs("alice", "app", count=3, base="main")
    gh.commit_files("alice", "app", "on-dev", {"d": "d"}, "d")
    on_dev = gh.open_pr("alice", "app", head="on-dev", base="dev", title="dev")
    gh.close_pr("alice", "app", second)
    gh.add_labels("alice", "app", first, ["touched"])  # most recently updated now

    def numbers(query: str) -> list[int]:
        return [pr["number"] for pr in api.get(f"/repos/alice/app/pulls?{query}").json]

    assert numbers("") == [on_dev, third, first]
    assert numbers("state=closed") == [second]
    assert numbers("state=all&sort=created&direction=asc") == [first, second, third, on_dev]
    assert numbers("state=all&sort=updated&direction=desc")[0] == first
    assert numbers("base=dev") == [on_dev]
    assert numbers("head=alice:on-dev") == [on_dev]
    assert numbers("head=bob:on-dev") == []
    assert api.get("/repos/alice/app/pulls?state=weird").status == 422


def test_pull_files_commits_and_paginated_files(api: Api, gh: LocalGitHub, feature_pr: int) -> None:
    files = {f["filename"]: f for f in api.get(f"/repos/alice/app/pulls/{feature_pr}/files").json}
    assert {name: f["status"] for name, f in files.items()} == {
        "NEW.md": "added", "README.md": "removed", "src/app.py": "modified"}
    assert (files["src/app.py"]["additions"], files["src/app.py"]["deletions"], files["src/app.py"]["changes"]) == (1, 1, 2)
    assert len(files["NEW.md"]["sha"]) == 40
    gh.commit_files("alice", "app", "feature", {"tests/test_moved.py": SOURCE_FILES["tests/test_app.py"],
                                                "tests/test_app.py": None}, "rename")
    renamed = [f for f in api.get(f"/repos/alice/app/pulls/{feature_pr}/files").json if f["status"] == "renamed"]
    assert [(f["previous_filename"], f["filename"], f["changes"]) for f in renamed] == [
        ("tests/test_app.py", "tests/test_moved.py", 0)]
    page = api.get(f"/repos/alice/app/pulls/{feature_pr}/files?per_page=1")
    assert len(page.json) == 1 and 'rel="last"' in page.headers["Link"]
    commits = api.get(f"/repos/alice/app/pulls/{feature_pr}/commits").json
    assert [c["commit"]["message"] for c in commits] == ["feature work", "rename"]
    assert commits[0]["commit"]["author"]["email"] == "aither@localhost"


def test_reviews_and_self_approval(api: Api, gh: LocalGitHub, feature_pr: int) -> None:
    own = api.post(f"/repos/alice/app/pulls/{feature_pr}/reviews", {"event": "APPROVE"})
    assert own.status == 422 and own.json["errors"] == ["Can not approve your own pull request"]
    review = api.post(f"/repos/alice/app/pulls/{feature_pr}/reviews", {"event": "APPROVE", "body": "lgtm"},
                      token=OTHER_TOKEN)
    assert review.status == 200 and review.json["state"] == "APPROVED" and review.json["user"]["login"] == "bob"
    head = gh.get_pr("alice", "app", feature_pr)["head_sha"]
    listed = api.get(f"/repos/alice/app/pulls/{feature_pr}/reviews").json
    assert [(r["state"], r["commit_id"]) for r in listed] == [("APPROVED", head)] and listed[0]["submitted_at"]


def test_labels_and_label_events(api: Api, gh: LocalGitHub, feature_pr: int) -> None:
    added = api.post(f"/repos/alice/app/issues/{feature_pr}/labels", {"labels": ["bug", "ok-to-test"]})
    assert added.status == 200 and [label["name"] for label in added.json] == ["bug", "ok-to-test"]
    assert all({"id", "name", "color"} <= set(label) for label in added.json)
    assert api.post(f"/repos/alice/app/issues/{feature_pr}/labels", ["a b/c"]).status == 200  # bare-list form
    removed = api.delete(f"/repos/alice/app/issues/{feature_pr}/labels/{quote('a b/c', safe='')}")
    assert removed.status == 200 and [label["name"] for label in removed.json] == ["bug", "ok-to-test"]
    assert api.delete(f"/repos/alice/app/issues/{feature_pr}/labels/nope").status == 404
    assert api.post(f"/repos/alice/app/issues/{feature_pr}/labels", {"labels": ["x"]}, token=OTHER_TOKEN).status == 403
    events = api.get(f"/repos/alice/app/issues/{feature_pr}/events").json
    assert [(e["event"], e["label"]["name"], e["actor"]["login"]) for e in events] == [
        ("labeled", "bug", "alice"), ("labeled", "ok-to-test", "alice"), ("labeled", "a b/c", "alice"),
        ("unlabeled", "a b/c", "alice")]
    assert all(e["created_at"].endswith("Z") for e in events)
    issue = api.get(f"/repos/alice/app/issues/{feature_pr}").json
    assert issue["number"] == feature_pr and "pull_request" in issue and len(issue["labels"]) == 2


def test_issue_comments_create_list_edit_delete(api: Api, gh: LocalGitHub, feature_pr: int) -> None:
    created = api.post(f"/repos/alice/app/issues/{feature_pr}/comments", {"body": "<!-- sticky --> hi"})
    assert created.status == 201 and created.json["user"]["login"] == "alice"
    comment_id = created.json["id"]
    assert created.json["author_association"] == "OWNER"
    stranger = api.post(f"/repos/alice/app/issues/{feature_pr}/comments", {"body": "/deploy"}, token=OTHER_TOKEN)
    assert stranger.status == 201 and stranger.json["author_association"] == "NONE"
    edited = api.patch(f"/repos/alice/app/issues/comments/{comment_id}", {"body": "<!-- sticky --> updated"})
    assert edited.status == 200 and edited.json["body"] == "<!-- sticky --> updated"
    assert api.patch(f"/repos/alice/app/issues/comments/{comment_id}", {"body": "x"}, token=OTHER_TOKEN).status == 403
    assert api.get(f"/repos/alice/app/issues/comments/{comment_id}").json["body"].endswith("updated")
    page = api.get(f"/repos/alice/app/issues/{feature_pr}/comments?per_page=1")
    assert [c["id"] for c in page.json] == [comment_id] and 'rel="next"' in page.headers["Link"]
    assert api.delete(f"/repos/alice/app/issues/comments/{comment_id}").status == 204
    assert api.get(f"/repos/alice/app/issues/comments/{comment_id}").status == 404
    assert api.post(f"/repos/alice/app/issues/{feature_pr}/comments", {"body": ""}).status == 422


def test_commit_statuses_and_combined_status(api: Api, gh: LocalGitHub, feature_pr: int) -> None:
    sha = gh.get_pr("alice", "app", feature_pr)["head_sha"]
    for context, state in (("build", "pending"), ("build", "success"), ("tests", "success")):
        reply = api.post(f"/repos/alice/app/statuses/{sha}", {"state": state, "context": context,
                                                              "target_url": "http://ci/1", "description": "d"})
        assert reply.status == 201 and reply.json["creator"]["login"] == "alice"
    listed = api.get(f"/repos/alice/app/commits/{sha}/statuses").json
    assert [(s["context"], s["state"]) for s in listed] == [("tests", "success"), ("build", "success"),
                                                            ("build", "pending")]
    combined = api.get("/repos/alice/app/commits/feature/status").json
    assert combined["state"] == "success" and combined["sha"] == sha and combined["total_count"] == 2
    api.post(f"/repos/alice/app/statuses/{sha}", {"state": "failure", "context": "lint"})
    assert api.get(f"/repos/alice/app/commits/{sha}/status").json["state"] == "failure"
    assert api.post(f"/repos/alice/app/statuses/{'0' * 40}", {"state": "success"}).status == 422
    long = api.post(f"/repos/alice/app/statuses/{sha}", {"state": "success", "description": "x" * 141})
    assert long.status == 422


def test_deployments_statuses_and_auto_inactive(api: Api, gh: LocalGitHub, feature_pr: int) -> None:
    sha = gh.get_pr("alice", "app", feature_pr)["head_sha"]
    body = {"ref": sha, "environment": "pr-1", "transient_environment": False, "production_environment": False,
            "payload": {"pr": 1}, "description": "preview", "required_contexts": []}
    first = api.post("/repos/alice/app/deployments", body).json
    assert (first["sha"], first["environment"], first["payload"], first["transient_environment"]) == (
        sha, "pr-1", {"pr": 1}, False)
    status = api.post(f"/repos/alice/app/deployments/{first['id']}/statuses",
                      {"state": "success", "environment_url": "http://pr-1.local", "log_url": "http://log"})
    assert status.status == 201 and status.json["environment_url"] == "http://pr-1.local"
    assert status.json["target_url"] == "http://log"
    second = api.post("/repos/alice/app/deployments", body).json
    api.post(f"/repos/alice/app/deployments/{second['id']}/statuses", {"state": "success"})
    states = [s["state"] for s in api.get(f"/repos/alice/app/deployments/{first['id']}/statuses").json]
    assert states == ["inactive", "success"]
    assert [d["id"] for d in api.get("/repos/alice/app/deployments?environment=pr-1").json] == [second["id"], first["id"]]
    assert api.get("/repos/alice/app/deployments?environment=other").json == []
    assert api.get(f"/repos/alice/app/deployments?sha={sha}").json[0]["id"] == second["id"]
    assert api.get(f"/repos/alice/app/deployments/{first['id']}").json["id"] == first["id"]
    bad = api.post(f"/repos/alice/app/deployments/{first['id']}/statuses", {"state": "done"})
    assert bad.status == 422


def test_deployment_requires_green_contexts_unless_told_otherwise(api: Api, gh: LocalGitHub) -> None:
    sha = gh.branch_sha("alice", "app", "main")
    api.post(f"/repos/alice/app/statuses/{sha}", {"state": "failure", "context": "ci"})
    blocked = api.post("/repos/alice/app/deployments", {"ref": "main", "environment": "staging"})
    assert blocked.status == 409 and blocked.json["errors"][0]["contexts"][0]["context"] == "ci"
    allowed = api.post("/repos/alice/app/deployments", {"ref": "main", "environment": "staging",
                                                        "required_contexts": []})
    assert allowed.status == 201
    assert api.post("/repos/alice/app/deployments", {"ref": "nope", "required_contexts": []}).status == 422


def test_collaborator_permission(api: Api, gh: LocalGitHub) -> None:
    gh.create_user("carol")
    gh.add_collaborator("alice", "app", "carol", "maintain")
    expected = {"alice": ("admin", "admin"), "carol": ("write", "maintain"), "bob": ("read", "read")}
    for login, (permission, role) in expected.items():
        reply = api.get(f"/repos/alice/app/collaborators/{login}/permission").json
        assert (reply["permission"], reply["role_name"], reply["user"]["login"]) == (permission, role, login)
    assert api.get("/repos/alice/app/collaborators/nobody/permission").status == 404


def test_branches_refs_and_commits(api: Api, gh: LocalGitHub) -> None:
    sha = gh.commit_files("alice", "app", "gh-pages", {"index.html": "<h1>x</h1>"}, "pages")
    assert api.get("/repos/alice/app/branches/gh-pages").json["commit"]["sha"] == sha
    ref = api.get("/repos/alice/app/git/ref/heads/gh-pages").json
    assert ref["ref"] == "refs/heads/gh-pages" and ref["object"]["sha"] == sha
    assert api.get("/repos/alice/app/git/ref/heads/nope").status == 404
    assert api.get("/repos/alice/app/branches/nope").status == 404
    commit = api.get("/repos/alice/app/commits/gh-pages").json
    assert commit["sha"] == sha and [f["filename"] for f in commit["files"]] == ["index.html"]
    nested = gh.commit_files("alice", "app", "feat/deep/name", {"n": "n"}, "n")
    assert api.get("/repos/alice/app/branches/feat/deep/name").json["commit"]["sha"] == nested


def test_hostile_titles_and_branches_round_trip_over_http(api: Api, gh: LocalGitHub) -> None:
    numbers = {}
    for index, (title, branch) in enumerate(zip(HOSTILE, HOSTILE_BRANCHES, strict=False)):
        gh.commit_files("alice", "app", branch, {f"f{index}": title}, title)
        numbers[gh.open_pr("alice", "app", head=branch, base="main", title=title, body=title)] = (title, branch)
    for number, (title, branch) in numbers.items():
        pr = api.get(f"/repos/alice/app/pulls/{number}").json
        assert (pr["title"], pr["body"], pr["head"]["ref"]) == (title, title, branch)
        assert api.get(f"/repos/alice/app/pulls?head={quote('alice:' + branch, safe='')}").json[0]["number"] == number
    via_api = api.post("/repos/alice/app/pulls", {"title": HOSTILE[2], "head": HOSTILE_BRANCHES[0], "base": "main",
                                                   "body": HOSTILE[0]})
    assert via_api.status == 422  # a PR for that head already exists
    bad = api.post("/repos/alice/app/pulls", {"title": "x", "head": "has space", "base": "main"})
    assert bad.status == 422


def test_create_and_edit_pull_over_http(api: Api, gh: LocalGitHub) -> None:
    gh.commit_files("alice", "app", "via-api", {"v": "v"}, "v")
    created = api.post("/repos/alice/app/pulls", {"title": "Via API", "head": "via-api", "base": "main",
                                                  "draft": True})
    assert created.status == 201 and created.json["draft"] is True and created.json["number"] == 1
    edited = api.patch("/repos/alice/app/pulls/1", {"title": "Renamed", "state": "closed"})
    assert edited.json["title"] == "Renamed" and edited.json["state"] == "closed" and edited.json["closed_at"]
    reopened = api.patch("/repos/alice/app/pulls/1", {"state": "open"})
    assert reopened.json["state"] == "open"


def test_concurrent_writers_and_readers(api: Api, gh: LocalGitHub, feature_pr: int) -> None:
    def work(index: int) -> tuple[int, int]:
        comment = api.post(f"/repos/alice/app/issues/{feature_pr}/comments", {"body": f"c{index}"})
        listing = api.get(f"/repos/alice/app/pulls/{feature_pr}")
        return comment.status, listing.status

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(24)))
    assert set(results) == {(201, 200)}
    assert len(gh.list_comments("alice", "app", feature_pr)) == 24
