"""Protocol behaviour clients notice: auth, errors, rate limits, ETags, pagination, prefixes."""

from __future__ import annotations

import re
import time

from aither_assets.devstack.localgithub import LocalGitHub

from .conftest import OTHER_TOKEN, OWNER_TOKEN, Api

DOCS = "https://docs.github.com/rest"


def pick(error: dict) -> dict:
    return {key: error[key] for key in ("resource", "field", "code")}


def test_unknown_or_malformed_token_is_401_bad_credentials_without_echoing_it(api: Api, gh: LocalGitHub) -> None:
    for header in ("token ghp_nope_secret_value", "Bearer ghp_nope_secret_value", "Basic zzz"):
        reply = api.get("/repos/alice/app", token=None, headers={"Authorization": header})
        assert reply.status == 401
        assert reply.json["message"] == "Bad credentials" and reply.json["documentation_url"] == DOCS
        assert b"secret_value" not in reply.raw
    assert all("secret" not in row["path"] and row["login"] is None for row in gh.request_log())
    assert all(OWNER_TOKEN not in str(row) for row in gh.request_log())


def test_anonymous_reads_public_repos_but_writes_need_auth(api: Api) -> None:
    reply = api.get("/repos/alice/app", token=None)
    assert reply.status == 200 and reply.headers["X-RateLimit-Limit"] == "60"
    assert "permissions" not in reply.json
    write = api.post("/repos/alice/app/issues/1/comments", {"body": "x"}, token=None)
    assert write.status == 401 and write.json["message"] == "Requires authentication"


def test_private_repo_is_404_for_strangers_and_visible_to_collaborators(api: Api, gh: LocalGitHub) -> None:
    gh.create_repo("alice", "secret", private=True)
    assert api.get("/repos/alice/secret", token=OTHER_TOKEN).status == 404
    assert api.get("/repos/alice/secret", token=None).status == 404
    gh.add_collaborator("alice", "secret", "bob", "read")
    reply = api.get("/repos/alice/secret", token=OTHER_TOKEN)
    assert reply.status == 200 and reply.json["permissions"] == {
        "admin": False, "maintain": False, "push": False, "triage": False, "pull": True}


def test_read_only_users_cannot_write_statuses(api: Api, gh: LocalGitHub) -> None:
    sha = gh.branch_sha("alice", "app", "main")
    reply = api.post(f"/repos/alice/app/statuses/{sha}", {"state": "success"}, token=OTHER_TOKEN)
    assert reply.status == 403 and reply.json["documentation_url"] == DOCS


def test_not_found_and_validation_failed_bodies(api: Api, gh: LocalGitHub) -> None:
    assert api.get("/repos/alice/nope").json == {"message": "Not Found", "documentation_url": DOCS, "status": "404"}
    assert api.get("/no/such/endpoint").status == 404
    assert api.get("/repos/alice/app/pulls/99999999999999999999999").status == 404  # not a 500
    assert api.get("/repos/alice/app/pulls/%C2%B2").status == 404  # a unicode digit
    sha = gh.branch_sha("alice", "app", "main")
    bad_state = api.post(f"/repos/alice/app/statuses/{sha}", {"state": "great"})
    assert bad_state.status == 422 and bad_state.json["message"] == "Validation Failed"
    assert pick(bad_state.json["errors"][0]) == {"resource": "Status", "field": "state", "code": "invalid"}
    bad_base = api.post("/repos/alice/app/pulls", {"title": "t", "head": "main", "base": "nope"})
    assert bad_base.status == 422
    assert pick(bad_base.json["errors"][0]) == {"resource": "PullRequest", "field": "base", "code": "invalid"}
    broken = api.request("POST", "/repos/alice/app/issues", raw=b"{not json")
    assert broken.status == 400 and broken.json["message"] == "Problems parsing JSON"


def test_every_response_carries_rate_limit_headers_and_json_content_type(api: Api) -> None:
    first = api.get("/repos/alice/app")
    second = api.get("/repos/alice/app/pulls")
    for reply in (first, second):
        assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
        assert reply.headers["X-RateLimit-Limit"] == "5000" and reply.headers["X-RateLimit-Resource"] == "core"
        assert int(reply.headers["X-RateLimit-Reset"]) > time.time()
    assert int(first.headers["X-RateLimit-Used"]) + 1 == int(second.headers["X-RateLimit-Used"])
    assert int(second.headers["X-RateLimit-Remaining"]) == 5000 - int(second.headers["X-RateLimit-Used"])
    missing = api.get("/repos/alice/nope")
    assert "X-RateLimit-Remaining" in missing.headers


def test_rate_limit_is_counted_per_token(api: Api) -> None:
    owner = api.get("/repos/alice/app")
    other = api.get("/repos/alice/app", token=OTHER_TOKEN)
    assert owner.headers["X-RateLimit-Used"] == other.headers["X-RateLimit-Used"] == "1"


def test_exhausted_rate_limit_is_403_with_remaining_zero(api: Api, gh: LocalGitHub) -> None:
    gh.set_rate_limit(limit=3)
    for _ in range(3):
        assert api.get("/repos/alice/app").status == 200
    reply = api.get("/repos/alice/app")
    user_id = gh.user("alice")["id"]
    assert reply.status == 403 and reply.headers["X-RateLimit-Remaining"] == "0"
    assert reply.json["message"].startswith(f"API rate limit exceeded for user ID {user_id}.")
    assert api.get("/rate_limit").json["resources"]["core"]["remaining"] == 0
    assert api.get("/repos/alice/app", token=OTHER_TOKEN).status == 200  # other tokens are unaffected


def test_etag_and_304_are_not_counted(api: Api, gh: LocalGitHub) -> None:
    first = api.get("/repos/alice/app/pulls")
    etag = first.headers["ETag"]
    assert re.fullmatch(r'W/"[0-9a-f]{64}"', etag)
    again = api.get("/repos/alice/app/pulls", headers={"If-None-Match": etag})
    assert again.status == 304 and again.raw == b"" and again.headers["ETag"] == etag
    assert again.headers["X-RateLimit-Used"] == first.headers["X-RateLimit-Used"]
    assert gh.request_count(OWNER_TOKEN, status=304) == 1 and gh.request_count(OWNER_TOKEN, counted=True) == 1
    gh.commit_files("alice", "app", "feature", {"x": "y"}, "x")
    gh.open_pr("alice", "app", head="feature", base="main", title="changes the list")
    changed = api.get("/repos/alice/app/pulls", headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag


def test_pagination_link_header_matches_githubs_format(api: Api, gh: LocalGitHub) -> None:
    gh.bulk_open_prs("alice", "app", count=7, base="main")
    base = f"http://{api.host}:{api.port}/repos/alice/app/pulls"
    first = api.get("/repos/alice/app/pulls?per_page=3")
    assert [pr["number"] for pr in first.json] == [7, 6, 5]
    assert first.headers["Link"] == (f'<{base}?per_page=3&page=2>; rel="next", '
                                     f'<{base}?per_page=3&page=3>; rel="last"')
    middle = api.get("/repos/alice/app/pulls?per_page=3&page=2")
    assert middle.headers["Link"] == (f'<{base}?per_page=3&page=1>; rel="prev", '
                                      f'<{base}?per_page=3&page=3>; rel="next", '
                                      f'<{base}?per_page=3&page=3>; rel="last", '
                                      f'<{base}?per_page=3&page=1>; rel="first"')
    last = api.get("/repos/alice/app/pulls?per_page=3&page=3")
    assert [pr["number"] for pr in last.json] == [1]
    assert last.headers["Link"] == f'<{base}?per_page=3&page=2>; rel="prev", <{base}?per_page=3&page=1>; rel="first"'
    assert "Link" not in api.get("/repos/alice/app/pulls").headers
    assert len(api.get("/repos/alice/app/pulls?per_page=500").json) == 7  # capped at 100, no error


def test_api_v3_prefix_and_host_header_shape_the_links(api: Api, gh: LocalGitHub, base_url: str) -> None:
    gh.bulk_open_prs("alice", "app", count=2, base="main")
    enterprise = Api(base_url + "/api/v3")
    reply = enterprise.get("/repos/alice/app/pulls?per_page=1")
    assert reply.status == 200
    assert reply.json[0]["url"] == f"{base_url}/api/v3/repos/alice/app/pulls/2"
    assert reply.json[0]["html_url"] == f"{base_url}/alice/app/pull/2"
    assert reply.headers["Link"].startswith(f"<{base_url}/api/v3/repos/alice/app/pulls?per_page=1&page=2>")
    aliased = api.get("/repos/alice/app", headers={"Host": "github.example:8443"})
    assert aliased.json["url"] == "http://github.example:8443/repos/alice/app"
    assert aliased.json["clone_url"].startswith("file:///")


def test_get_user_and_unknown_methods(api: Api) -> None:
    assert api.get("/user").json["login"] == "alice"
    assert api.get("/user", token=None).status == 401
    assert api.request("PUT", "/repos/alice/app").status == 404
