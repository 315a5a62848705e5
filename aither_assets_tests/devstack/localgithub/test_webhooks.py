"""Webhooks end to end: a real receiving HTTP server on 127.0.0.1 gets the deliveries."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from click.testing import CliRunner

from aither_assets.devstack.localgithub import GitHubError, LocalGitHub
from aither_assets.devstack.localgithub.cli import local_github

from .conftest import OTHER_TOKEN, Api
from .test_store import HOSTILE

SECRET = "hook-s3cret-value-\u00e9"
REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Received:
    path: str
    headers: Message
    body: bytes
    at: float

    @property
    def payload(self) -> dict:
        if self.headers["Content-Type"] == "application/x-www-form-urlencoded":
            return json.loads(parse_qs(self.body.decode())["payload"][0])
        return json.loads(self.body)

    @property
    def action(self) -> str | None:
        return self.payload.get("action")


class Receiver:
    """A webhook endpoint: records every POST and answers `status`."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status = 200
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver.status  # read first: the test changes it once it saw this request
                # Recorded before answering: the next delivery waits for this answer, so
                # the list keeps delivery order and is complete once deliveries are done.
                with receiver.changed:
                    receiver.received.append(Received(self.path, self.headers, body, time.monotonic()))
                    receiver.changed.notify_all()
                answer = b"boom" if status >= 400 else b"thanks"
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.send_header("X-Receiver", "test")
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?team=a"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.received) >= count, timeout), (
                f"expected {count} deliveries, got {[(r.headers['X-GitHub-Event'], r.action) for r in self.received]}")
            return list(self.received)

    def events(self) -> list[tuple[str, str | None]]:
        return [(r.headers["X-GitHub-Event"], r.action) for r in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def deliverer(gh: LocalGitHub):
    """The Python API's deliverer (no HTTP server of ours involved)."""
    with gh.start_deliverer() as running:
        yield running


def signed(body: bytes, secret: str = SECRET) -> tuple[str, str]:
    key = secret.encode()
    return ("sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest(),
            "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest())


def assert_github_headers(request: Received, event: str, hook_id: int, repo_id: int) -> None:
    headers = request.headers
    assert headers["X-GitHub-Event"] == event
    assert str(uuid.UUID(headers["X-GitHub-Delivery"])) == headers["X-GitHub-Delivery"]
    assert headers["X-GitHub-Hook-ID"] == str(hook_id)
    assert headers["X-GitHub-Hook-Installation-Target-ID"] == str(repo_id)
    assert headers["X-GitHub-Hook-Installation-Target-Type"] == "repository"
    assert re.fullmatch(r"GitHub-Hookshot/[0-9a-f]{7}", headers["User-Agent"])
    sha1, sha256 = signed(request.body)
    assert hmac.compare_digest(headers["X-Hub-Signature"], sha1)
    assert hmac.compare_digest(headers["X-Hub-Signature-256"], sha256)


def open_feature_pr(gh: LocalGitHub, title: str = "Feature", branch: str = "feature") -> int:
    gh.commit_files("alice", "app", branch, {"f.txt": "one\n"}, "one")
    return gh.open_pr("alice", "app", head=branch, base="main", title=title, body="Body", user="alice")


# -- creation, ping, headers, signatures ------------------------------------------------------


def test_create_hook_over_rest_answers_githubs_shape_and_pings(api: Api, gh: LocalGitHub, receiver: Receiver) -> None:
    reply = api.post("/repos/alice/app/hooks", {"name": "web", "config": {
        "url": receiver.url, "content_type": "json", "secret": SECRET, "insecure_ssl": "0"},
        "events": ["pull_request"], "active": True})
    assert reply.status == 201, reply.json
    hook = reply.json
    base = f"{api_base(api)}/repos/alice/app/hooks/{hook['id']}"
    assert (hook["type"], hook["name"], hook["active"], hook["events"]) == ("Repository", "web", True, ["pull_request"])
    assert hook["config"] == {"content_type": "json", "insecure_ssl": "0", "url": receiver.url, "secret": "********"}
    assert (hook["url"], hook["test_url"], hook["ping_url"], hook["deliveries_url"]) == (
        base, base + "/test", base + "/pings", base + "/deliveries")
    assert hook["created_at"] and hook["updated_at"] and hook["last_response"]["status"] == "unused"
    assert SECRET.encode() not in reply.raw

    [ping] = receiver.wait_for(1)
    repo_id = gh.get_repo("alice", "app")["id"]
    assert_github_headers(ping, "ping", hook["id"], repo_id)
    assert ping.path == "/hook?team=a" and ping.headers["Content-Type"] == "application/json"
    payload = ping.payload
    assert payload["zen"] and payload["hook_id"] == hook["id"] and payload["hook"]["config"]["secret"] == "********"
    assert payload["repository"]["full_name"] == "alice/app" and payload["sender"]["login"] == "alice"
    assert payload["repository"]["url"] == f"{api_base(api)}/repos/alice/app"  # links point at the server
    # The signature is an HMAC of the raw body with the hook's secret and nothing else.
    wrong_sha1, wrong_sha256 = signed(ping.body, "not-the-secret")
    assert ping.headers["X-Hub-Signature-256"] != wrong_sha256 and ping.headers["X-Hub-Signature"] != wrong_sha1
    assert ping.headers["X-Hub-Signature-256"] != signed(ping.body + b" ")[1]


def api_base(api: Api) -> str:
    return f"http://{api.host}:{api.port}"


def test_pr_lifecycle_reaches_the_receiver_in_order(data_dir: Path, gh: LocalGitHub, base_url: str,
                                                     receiver: Receiver) -> None:
    hook = gh.create_hook("alice", "app", receiver.url, secret=SECRET, events=["pull_request"])
    receiver.wait_for(1)
    number = open_feature_pr(gh)
    first = gh.get_pr("alice", "app", number)["head_sha"]
    receiver.wait_for(2)
    # Another instance (as the demo does from another process) advances the head.
    pushed = time.monotonic()
    second = LocalGitHub(data_dir).commit_files("alice", "app", "feature", {"f.txt": "two\n"}, "two")
    sync = receiver.wait_for(3)[2]
    assert sync.at - pushed < 1.0  # woken at once, not after a long poll
    gh.add_labels("alice", "app", number, ["ready"], actor="bob")
    labeled = receiver.wait_for(4)[3].payload
    # The payload's PR is exactly what GET /repos/{o}/{r}/pulls/{n} answers (anonymously: no permissions).
    assert labeled["pull_request"] == Api(base_url, token=None).get(f"/repos/alice/app/pulls/{number}").json
    gh.merge_pr("alice", "app", number, actor="alice")
    received = receiver.wait_for(5)

    assert receiver.events() == [("ping", None), ("pull_request", "opened"), ("pull_request", "synchronize"),
                                 ("pull_request", "labeled"), ("pull_request", "closed")]
    repo_id = gh.get_repo("alice", "app")["id"]
    for request in received:
        assert_github_headers(request, request.headers["X-GitHub-Event"], hook["id"], repo_id)
    assert len({r.headers["X-GitHub-Delivery"] for r in received}) == 5
    opened, sync, labeled, closed = (r.payload for r in received[1:])
    assert opened["number"] == number and opened["pull_request"]["head"]["sha"] == first
    assert opened["pull_request"]["state"] == "open" and opened["sender"]["login"] == "alice"
    assert (sync["before"], sync["after"], sync["pull_request"]["head"]["sha"]) == (first, second, second)
    assert labeled["label"]["name"] == "ready" and labeled["sender"]["login"] == "bob"
    assert [label["name"] for label in labeled["pull_request"]["labels"]] == ["ready"]
    assert closed["pull_request"]["merged"] is True and closed["pull_request"]["state"] == "closed"
    assert closed["repository"]["full_name"] == "alice/app" and closed["sender"]["login"] == "alice"


def test_push_from_another_process_is_delivered_by_the_servers_deliverer(
        data_dir: Path, gh: LocalGitHub, base_url: str, receiver: Receiver) -> None:
    gh.create_hook("alice", "app", receiver.url, secret=SECRET)
    number = open_feature_pr(gh)
    receiver.wait_for(2)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run([sys.executable, "-m", "aither_assets.devstack.localgithub", "--data", str(data_dir), "push",
                           "alice/app", "feature", "--file", "g.txt=from another process"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    sha = json.loads(proc.stdout)["sha"]
    sync = receiver.wait_for(3)[2].payload
    assert (sync["action"], sync["number"], sync["after"]) == ("synchronize", number, sha)


def test_fork_pushes_draft_edits_labels_and_reopen(gh: LocalGitHub, receiver: Receiver, deliverer) -> None:
    gh.fork_repo("alice", "app", "bob")
    gh.commit_files("bob", "app", "fix", {"fix.txt": "1\n"}, "fix")
    gh.create_branch("alice", "app", "dev", "main")
    hook = gh.create_hook("alice", "app", receiver.url, secret=SECRET, events=["*"])
    number = gh.open_pr("alice", "app", head="bob:fix", base="main", title="Fix", body="old body", user="bob")
    tip = gh.commit_files("bob", "app", "fix", {"fix.txt": "2\n"}, "fix more")  # a push to the fork's branch
    gh.edit_pr("alice", "app", number, title="Fix it", body="new body", base="dev", actor="alice")
    gh.edit_pr("alice", "app", number, body="new body")  # no change: no event
    gh.set_draft("alice", "app", number, True)
    gh.set_draft("alice", "app", number, False)
    gh.add_labels("alice", "app", number, ["bug"])
    gh.remove_label("alice", "app", number, "bug")
    gh.close_pr("alice", "app", number)
    gh.reopen_pr("alice", "app", number)
    gh.wait_for_deliveries()
    assert [action for _, action in receiver.events()] == [
        None, "opened", "synchronize", "edited", "converted_to_draft", "ready_for_review", "labeled", "unlabeled",
        "closed", "reopened"]
    payloads = [r.payload for r in receiver.received]
    assert payloads[2]["after"] == tip and payloads[2]["pull_request"]["head"]["repo"]["full_name"] == "bob/app"
    edited = payloads[3]
    assert edited["changes"] == {"title": {"from": "Fix"}, "body": {"from": "old body"},
                                 "base": {"ref": {"from": "main"}, "sha": {"from": gh.branch_sha("alice", "app", "main")}}}
    assert (edited["pull_request"]["title"], edited["pull_request"]["base"]["ref"]) == ("Fix it", "dev")
    assert payloads[4]["pull_request"]["draft"] is True and payloads[5]["pull_request"]["draft"] is False
    assert payloads[7]["label"]["name"] == "bug" and payloads[7]["pull_request"]["labels"] == []
    assert payloads[8]["pull_request"]["merged"] is False and payloads[9]["pull_request"]["state"] == "open"
    deliveries = gh.hook_deliveries("alice", "app", hook["id"])
    assert [d["action"] for d in deliveries] == [p.get("action") for p in payloads]
    assert all(d["status"] == "OK" and d["status_code"] == 200 for d in deliveries)


def test_only_active_subscribed_hooks_of_the_base_repo_get_events(gh: LocalGitHub, receiver: Receiver,
                                                                  deliverer) -> None:
    other = Receiver()
    try:
        gh.create_hook("alice", "app", other.url, events=["push"])
        gh.create_hook("alice", "app", receiver.url, active=False)
        gh.bulk_open_prs("alice", "app", count=2)  # load-test helper: no events by design
        open_feature_pr(gh)
        gh.wait_for_deliveries()
        assert other.events() == [("ping", None)] and receiver.events() == []
    finally:
        other.close()


def test_form_content_type_and_hostile_titles_arrive_byte_exact(gh: LocalGitHub, receiver: Receiver,
                                                                deliverer) -> None:
    gh.create_hook("alice", "app", receiver.url, secret=SECRET, content_type="form")
    for index, title in enumerate(HOSTILE):
        open_feature_pr(gh, title=title, branch=f"hostile-{index}")
    received = receiver.wait_for(1 + len(HOSTILE))
    for request, title in zip(received[1:], HOSTILE, strict=True):
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert request.body.startswith(b"payload=")
        assert request.headers["X-Hub-Signature-256"] == signed(request.body)[1]
        assert request.payload["pull_request"]["title"] == title


def test_json_body_is_utf8_and_titles_are_byte_exact(gh: LocalGitHub, receiver: Receiver, deliverer) -> None:
    gh.create_hook("alice", "app", receiver.url, secret=SECRET)
    title = HOSTILE[4] + " \u2028 \"\\ </script> \x7f"
    open_feature_pr(gh, title=title)
    opened = receiver.wait_for(2)[1]
    assert opened.payload["pull_request"]["title"] == title
    assert title.encode()[:20] in opened.body  # raw UTF-8, not \u escapes
    assert opened.headers["X-Hub-Signature-256"] == signed(opened.body)[1]


# -- failures and redelivery ----------------------------------------------------------------------


def test_failed_delivery_is_recorded_and_redelivery_sends_it_again(api: Api, gh: LocalGitHub,
                                                                   receiver: Receiver) -> None:
    receiver.status = 500
    hook = gh.create_hook("alice", "app", receiver.url, secret=SECRET)
    [failed] = receiver.wait_for(1)
    gh.wait_for_deliveries()
    base = f"/repos/alice/app/hooks/{hook['id']}"
    [delivery] = api.get(f"{base}/deliveries").json
    assert (delivery["status"], delivery["status_code"], delivery["event"], delivery["redelivery"]) == (
        "Invalid HTTP Response: 500", 500, "ping", False)
    assert delivery["guid"] == failed.headers["X-GitHub-Delivery"]
    assert api.get(base).json["last_response"] == {"code": 500, "status": "failed",
                                                   "message": "Invalid HTTP Response: 500"}

    receiver.status = 200
    reply = api.post(f"{base}/deliveries/{delivery['id']}/attempts")
    assert reply.status == 202
    retried = receiver.wait_for(2)[1]
    assert retried.body == failed.body and retried.headers["X-GitHub-Delivery"] == failed.headers["X-GitHub-Delivery"]
    gh.wait_for_deliveries()
    newest, oldest = api.get(f"{base}/deliveries").json  # newest first, as on GitHub
    assert (newest["status"], newest["status_code"], newest["redelivery"], newest["guid"]) == (
        "OK", 200, True, delivery["guid"])
    assert oldest["id"] == delivery["id"] and newest["id"] > oldest["id"]
    assert api.get(base).json["last_response"] == {"code": 200, "status": "active", "message": "OK"}
    detail = api.get(f"{base}/deliveries/{delivery['id']}").json
    assert detail["response"]["payload"] == "boom" and detail["response"]["headers"]["X-Receiver"] == "test"
    assert detail["request"]["payload"] == failed.payload and detail["url"] == receiver.url


def test_unreachable_receiver_is_recorded_not_retried(gh: LocalGitHub, deliverer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    hook = gh.create_hook("alice", "app", f"http://127.0.0.1:{port}/gone")
    gh.wait_for_deliveries()
    [delivery] = gh.hook_deliveries("alice", "app", hook["id"])
    assert (delivery["status"], delivery["status_code"]) == ("failed to connect to host", 0)
    time.sleep(0.15)  # a few poll intervals: GitHub does not retry by itself, nor do we
    assert len(gh.hook_deliveries("alice", "app", hook["id"])) == 1


def test_wait_for_deliveries_times_out_without_a_deliverer(gh: LocalGitHub) -> None:
    gh.create_hook("alice", "app", "http://127.0.0.1:9/hook")
    with pytest.raises(TimeoutError):
        gh.wait_for_deliveries(timeout=0.05)


# -- the secret ----------------------------------------------------------------------------------------


def test_the_secret_never_appears_in_answers_or_records(api: Api, gh: LocalGitHub, data_dir: Path,
                                                        receiver: Receiver) -> None:
    hook = api.post("/repos/alice/app/hooks", {"config": {"url": receiver.url, "content_type": "json",
                                                          "secret": SECRET}, "events": ["*"]}).json
    base = f"/repos/alice/app/hooks/{hook['id']}"
    open_feature_pr(gh)
    receiver.wait_for(2)
    gh.wait_for_deliveries()
    replies = [api.get("/repos/alice/app/hooks"), api.get(base), api.get(f"{base}/config"),
               api.patch(base, {"add_events": ["push"], "config": {"url": receiver.url}}),
               api.get(f"{base}/deliveries")]
    replies += [api.get(f"{base}/deliveries/{d['id']}") for d in replies[-1].json]
    for reply in replies:
        assert reply.status == 200 and SECRET.encode() not in reply.raw and b"hook-s3cret" not in reply.raw
    assert replies[3].json["config"]["secret"] == "********"  # an omitted secret is kept
    python_side = json.dumps([gh.hooks("alice", "app"), gh.hook_deliveries("alice", "app", hook["id"])])
    assert "hook-s3cret" not in python_side
    for delivery in gh.hook_deliveries("alice", "app", hook["id"]):
        headers = delivery["request"]["headers"]
        assert set(headers) >= {"X-Hub-Signature", "X-Hub-Signature-256"}
        assert "hook-s3cret" not in json.dumps(headers)
    # Deliveries still verify after the PATCH that left the secret out.
    api.post(f"{base}/pings")
    ping = receiver.wait_for(3)[2]
    assert ping.headers["X-Hub-Signature-256"] == signed(ping.body)[1]


# -- REST: shapes, permissions, errors ------------------------------------------------------------------


def test_hooks_rest_crud_pagination_and_delivery_shapes(api: Api, gh: LocalGitHub, receiver: Receiver) -> None:
    ids = [api.post("/repos/alice/app/hooks", {"config": {"url": f"{receiver.url}&n={n}"}}).json["id"]
           for n in range(3)]
    listed = api.get("/repos/alice/app/hooks?per_page=2")
    assert [h["id"] for h in listed.json] == ids[:2] and 'rel="next"' in listed.headers["Link"]
    first = api.get(f"/repos/alice/app/hooks/{ids[0]}").json
    # GitHub's REST defaults: form-encoded push hooks, no secret.
    assert first["events"] == ["push"] and first["config"] == {
        "content_type": "form", "insecure_ssl": "0", "url": f"{receiver.url}&n=0"}
    patched = api.patch(f"/repos/alice/app/hooks/{ids[0]}", {"events": ["pull_request"], "add_events": ["issues"],
                                                             "remove_events": ["pull_request"], "active": False,
                                                             "config": {"content_type": "json", "secret": "x"}})
    assert patched.status == 200
    assert (patched.json["events"], patched.json["active"], patched.json["config"]["content_type"],
            patched.json["config"]["secret"]) == (["issues"], False, "json", "********")
    config = api.patch(f"/repos/alice/app/hooks/{ids[0]}/config", {"secret": ""}).json
    assert "secret" not in config and config["content_type"] == "json"

    receiver.wait_for(3)  # the three creation pings, sent by the server's own deliverer
    assert api.post(f"/repos/alice/app/hooks/{ids[1]}/pings").status == 204
    assert api.post(f"/repos/alice/app/hooks/{ids[1]}/tests").status == 204
    receiver.wait_for(4)
    gh.wait_for_deliveries()
    deliveries = api.get(f"/repos/alice/app/hooks/{ids[1]}/deliveries").json
    assert [d["event"] for d in deliveries] == ["ping", "ping"]
    summary = deliveries[0]
    assert set(summary) == {"id", "guid", "delivered_at", "redelivery", "duration", "status", "status_code", "event",
                            "action", "installation_id", "repository_id", "throttled_at"}
    assert summary["installation_id"] is None and summary["repository_id"] == gh.get_repo("alice", "app")["id"]
    assert summary["action"] is None and isinstance(summary["duration"], float) and summary["delivered_at"]
    detail = api.get(f"/repos/alice/app/hooks/{ids[1]}/deliveries/{summary['id']}").json
    assert {k: v for k, v in detail.items() if k in summary} == summary
    assert detail["request"]["headers"]["X-GitHub-Event"] == "ping" and "X-Hub-Signature" not in detail["request"]["headers"]
    assert detail["request"]["payload"]["hook_id"] == ids[1] and detail["response"]["payload"] == "thanks"

    assert api.delete(f"/repos/alice/app/hooks/{ids[1]}").status == 204
    assert api.get(f"/repos/alice/app/hooks/{ids[1]}").status == 404
    assert api.get(f"/repos/alice/app/hooks/{ids[1]}/deliveries/{summary['id']}").status == 404
    assert [h["id"] for h in api.get("/repos/alice/app/hooks").json] == [ids[0], ids[2]]


def test_hooks_are_hidden_from_non_admins_and_bad_input_is_422(api: Api, gh: LocalGitHub, base_url: str) -> None:
    hook_id = api.post("/repos/alice/app/hooks", {"config": {"url": "http://127.0.0.1:9/x"}}).json["id"]
    bob = Api(base_url, OTHER_TOKEN)
    anonymous = Api(base_url, token=None)
    gh.add_collaborator("alice", "app", "bob", "write")
    for client in (bob, anonymous):
        for path in ("/repos/alice/app/hooks", f"/repos/alice/app/hooks/{hook_id}",
                     f"/repos/alice/app/hooks/{hook_id}/deliveries"):
            reply = client.get(path)
            assert (reply.status, reply.json["message"]) == (404, "Not Found")
    assert bob.post("/repos/alice/app/hooks", {"config": {"url": "http://127.0.0.1:9/y"}}).status == 404
    assert bob.delete(f"/repos/alice/app/hooks/{hook_id}").status == 404
    gh.add_collaborator("alice", "app", "bob", "admin")
    assert bob.get(f"/repos/alice/app/hooks/{hook_id}").status == 200
    assert api.get("/repos/alice/nope/hooks").status == 404
    assert api.get("/repos/alice/app/hooks/123").status == 404
    assert api.post("/repos/alice/app/hooks/123/pings").status == 404
    assert api.post(f"/repos/alice/app/hooks/{hook_id}/deliveries/1/attempts").status == 404

    def error(body: dict) -> dict:
        reply = api.post("/repos/alice/app/hooks", body)
        assert reply.status == 422, reply.json
        assert reply.json["message"] == "Validation Failed" and reply.json["documentation_url"]
        return reply.json["errors"][0]

    assert error({"config": {}}) == {"resource": "Hook", "code": "custom",
                                     "message": "Config must contain URL for webhooks"}
    for url in ("ftp://example.com/x", "not a url", "http://", "http://host:port/x", "http://a b/"):
        assert error({"config": {"url": url}})["message"].startswith("The URL you've entered is not valid")
    assert "content_type" in error({"config": {"url": "http://127.0.0.1:9/z", "content_type": "xml"}})["message"]
    assert error({"name": "travis", "config": {"url": "http://127.0.0.1:9/z"}})["field"] == "name"
    assert error({"config": {"url": "http://127.0.0.1:9/z"}, "events": "push"})["field"] == "events"
    assert error({"config": {"url": "http://127.0.0.1:9/x"}})["message"] == "Hook already exists on this repository"
    bad_patch = api.patch(f"/repos/alice/app/hooks/{hook_id}", {"config": {"url": "nope"}})
    assert bad_patch.status == 422
    assert api.get(f"/repos/alice/app/hooks/{hook_id}").json["config"]["url"] == "http://127.0.0.1:9/x"


def test_python_api_validates_and_cli_creates_hooks(gh: LocalGitHub, data_dir: Path) -> None:
    with pytest.raises(GitHubError) as raised:
        gh.create_hook("alice", "app", "http://127.0.0.1:9/x", content_type="xml")
    assert raised.value.status == 422
    result = CliRunner().invoke(local_github, ["--data", str(data_dir), "create-hook", "alice/app", "--url",
                                               "http://127.0.0.1:9/cli", "--event", "pull_request", "--event",
                                               "issues"], env={"AITHER_LOCAL_GITHUB_HOOK_SECRET": SECRET},
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["events"] == ["pull_request", "issues"] and printed["config"]["secret"] == "********"
    assert "hook-s3cret" not in result.output
    [delivery] = gh.hook_deliveries("alice", "app", printed["id"])
    assert (delivery["event"], delivery["status"]) == ("ping", "pending")  # a running server would deliver it
    gh.delete_hook("alice", "app", printed["id"])
    assert gh.hooks("alice", "app") == []


def test_comments_on_a_pr_deliver_issue_comment_events(gh: LocalGitHub, receiver: Receiver, deliverer) -> None:
    gh.create_hook("alice", "app", receiver.url, secret=SECRET, events=["issue_comment"])
    number = open_feature_pr(gh)
    comment = gh.create_comment("alice", "app", number, "/approve ring-0 <b>", user="bob")
    gh.edit_comment("alice", "app", comment["id"], "/approve ring-1")
    gh.wait_for_deliveries()
    assert receiver.events() == [("ping", None), ("issue_comment", "created"), ("issue_comment", "edited")]
    created, edited = (r.payload for r in receiver.received[1:])
    assert created["comment"]["body"] == "/approve ring-0 <b>" and created["comment"]["user"]["login"] == "bob"
    assert created["issue"]["number"] == number and "pull_request" in created["issue"]
    assert created["sender"]["login"] == "bob" and created["repository"]["full_name"] == "alice/app"
    assert edited["changes"] == {"body": {"from": "/approve ring-0 <b>"}} and edited["comment"]["id"] == comment["id"]
