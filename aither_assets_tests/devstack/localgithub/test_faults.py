"""Fault switches (Python API and admin endpoint) and the request log."""

from __future__ import annotations

import time
from email.message import Message

import github
import pytest
from github import Auth

from aither_assets.devstack.localgithub import LocalGitHub
from aither_assets.devstack.localgithub.admin import handle_admin, is_loopback
from aither_assets.devstack.localgithub.context import Request

from .conftest import OWNER_TOKEN, Api


def test_server_errors_then_success(api: Api, gh: LocalGitHub) -> None:
    gh.set_faults(server_errors=2, status=503)
    replies = [api.get("/repos/alice/app") for _ in range(3)]
    assert [r.status for r in replies] == [503, 503, 200]
    assert replies[0].json["message"] == "Service Unavailable" and "documentation_url" in replies[0].json
    assert [(r["status"], r["counted"]) for r in gh.request_log()] == [(503, False), (503, False), (200, True)]


def test_pygithub_retries_through_server_errors(base_url: str, gh: LocalGitHub) -> None:
    gh.set_faults(server_errors=2)
    repo = github.Github(base_url=base_url, auth=Auth.Token(OWNER_TOKEN), seconds_between_requests=None).get_repo(
        "alice/app")
    assert repo.full_name == "alice/app"
    assert [r["status"] for r in gh.request_log()] == [502, 502, 200]


def test_secondary_rate_limit_with_retry_after(api: Api, gh: LocalGitHub) -> None:
    gh.set_faults(secondary_rate_limits=1, retry_after=1, status=429)
    limited = api.get("/repos/alice/app/pulls")
    assert limited.status == 429 and limited.headers["Retry-After"] == "1"
    assert limited.json["message"].startswith("You have exceeded a secondary rate limit.")
    assert int(limited.headers["X-RateLimit-Remaining"]) > 0
    assert api.get("/repos/alice/app/pulls").status == 200


def test_pygithub_waits_out_a_secondary_rate_limit(base_url: str, gh: LocalGitHub) -> None:
    gh.set_faults(secondary_rate_limits=1, retry_after=0)  # 403 + Retry-After, as GitHub usually answers
    repo = github.Github(base_url=base_url, auth=Auth.Token(OWNER_TOKEN), seconds_between_requests=None).get_repo(
        "alice/app")
    assert repo.name == "app" and [r["status"] for r in gh.request_log()] == [403, 200]


def test_primary_rate_limit_fault(api: Api, gh: LocalGitHub) -> None:
    gh.set_faults(primary_rate_limit=1, reset_in=120)
    reply = api.get("/repos/alice/app")
    assert reply.status == 403 and reply.headers["X-RateLimit-Remaining"] == "0"
    assert reply.json["message"].startswith(f"API rate limit exceeded for user ID {gh.user('alice')['id']}.")
    assert 100 < int(reply.headers["X-RateLimit-Reset"]) - time.time() <= 121
    assert api.get("/repos/alice/app").status == 200


def test_pygithub_surfaces_a_primary_rate_limit(base_url: str, gh: LocalGitHub) -> None:
    gh.set_faults(primary_rate_limit=1, reset_in=3600)
    client = github.Github(base_url=base_url, auth=Auth.Token(OWNER_TOKEN), retry=None)
    with pytest.raises(github.RateLimitExceededException):
        client.get_repo("alice/app")


def test_path_filters_limit_which_requests_fail(api: Api, gh: LocalGitHub) -> None:
    gh.set_faults(server_errors=1, path="/pulls")
    assert api.get("/repos/alice/app").status == 200
    assert api.get("/repos/alice/app/pulls").status == 502
    gh.set_faults(server_errors=1, path_regex=r"/issues/\d+/comments$")
    assert api.get("/repos/alice/app/pulls").status == 200
    assert api.get("/repos/alice/app/issues/1/comments").status == 502


def test_latency_is_added_to_every_answer(api: Api, gh: LocalGitHub) -> None:
    gh.set_faults(latency_ms=150)
    started = time.monotonic()
    assert api.get("/repos/alice/app").status == 200
    assert time.monotonic() - started >= 0.15
    gh.clear_faults()
    assert gh.faults() == {}


def test_admin_endpoints_arm_faults_and_read_the_log(api: Api, gh: LocalGitHub) -> None:
    armed = api.post("/_aither/faults", {"server_errors": 1, "status": 500}, token=None)
    assert armed.status == 200 and armed.json["server_errors"]["remaining"] == 1
    assert api.get("/repos/alice/app").status == 500
    api.get("/repos/alice/app", headers={"If-None-Match": api.get("/repos/alice/app").headers["ETag"]})
    log = api.get("/_aither/requests", token=None).json
    assert [(r["method"], r["path"], r["status"], r["counted"]) for r in log["requests"]] == [
        ("GET", "/repos/alice/app", 500, False), ("GET", "/repos/alice/app", 200, True),
        ("GET", "/repos/alice/app", 304, False)]
    assert all(r["login"] == "alice" and "token" not in str(r.get("path")) for r in log["requests"])
    assert gh.request_count(OWNER_TOKEN) == 3 and gh.request_count(OWNER_TOKEN, status=304) == 1
    assert api.post("/_aither/faults", {"bogus": 1}, token=None).status == 422
    assert api.post("/_aither/faults", {"server_errors": 1, "status": 200}, token=None).status == 422
    assert api.delete("/_aither/faults", token=None).status == 204
    assert api.delete("/_aither/requests", token=None).status == 204
    assert api.get("/_aither/requests", token=None).json["count"] == 0
    assert api.get("/_aither/nope", token=None).status == 404


def test_faults_set_in_another_instance_reach_the_running_server(api: Api, data_dir) -> None:
    LocalGitHub(data_dir).set_faults(server_errors=1)
    assert api.get("/repos/alice/app").status == 502


def test_admin_endpoints_answer_only_on_loopback(gh: LocalGitHub) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("::ffff:127.0.0.1")
    assert not is_loopback("10.0.0.5") and not is_loopback("not-an-ip")
    remote = Request.parse("POST", "/_aither/faults", Message(), b'{"server_errors": 5}', "192.168.1.9")
    assert handle_admin(gh, remote).status == 404
    assert gh.faults() == {}
