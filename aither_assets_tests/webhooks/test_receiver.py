"""The receiver over real HTTP: what it answers, what it queues, and that the worker survives errors."""

import json
import threading
import urllib.error
import urllib.request

import pytest

from aither_assets.webhooks.receiver import WebhookReceiver
from aither_assets.webhooks.signature import sign

SECRET = b"s3cret-value"
SHA = "b" * 40


def post(url: str, payload: bytes, *, secret: bytes = SECRET, event: str = "pull_request", guid: str = "d-1",
         content_type: str = "application/json") -> tuple[int, dict]:
    request = urllib.request.Request(url, data=payload, method="POST", headers={
        "X-GitHub-Event": event, "X-GitHub-Delivery": guid, "Content-Type": content_type,
        "X-Hub-Signature-256": sign(secret, payload), "User-Agent": "GitHub-Hookshot/test"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def pr_body(number: int, action: str = "synchronize") -> bytes:
    return json.dumps({"action": action, "number": number, "pull_request": {"head": {"sha": SHA}},
                       "repository": {"full_name": "acme/web"}}).encode()


@pytest.fixture
def handled():
    return []


@pytest.fixture
def receiver(handled):
    def handle(delivery):
        if delivery.pr_number == 13:
            raise RuntimeError("GitHub is down")
        handled.append((delivery.guid, delivery.pr_number))
        return f"handled #{delivery.pr_number}"

    with WebhookReceiver(SECRET, "acme/web", handle) as server:
        yield server


def test_signed_pull_request_is_accepted_and_handled_in_order(receiver, handled):
    answers = [post(receiver.url, pr_body(n), guid=f"d-{n}") for n in (1, 2, 3)]
    assert [status for status, _ in answers] == [202, 202, 202]
    receiver.wait_idle()
    assert handled == [("d-1", 1), ("d-2", 2), ("d-3", 3)]
    assert [r["outcome"] for r in receiver.records()] == ["handled #1", "handled #2", "handled #3"]


def test_unsigned_or_wrongly_signed_delivery_is_refused_and_never_handled(receiver, handled):
    status, body = post(receiver.url, pr_body(1), secret=b"guess")
    assert status == 401 and "X-Hub-Signature-256" in body["message"]
    request = urllib.request.Request(receiver.url, data=pr_body(1), method="POST",
                                     headers={"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "d-9",
                                              "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    assert raised.value.code == 401
    receiver.wait_idle()
    assert handled == [] and receiver.records() == []


def test_ping_and_other_events_are_answered_without_work(receiver, handled):
    ping = json.dumps({"zen": "Design for failure.", "hook_id": 1, "repository": {"full_name": "acme/web"}}).encode()
    assert post(receiver.url, ping, event="ping") == (200, {"message": "pong"})
    status, body = post(receiver.url, pr_body(4, action="closed"), guid="d-4")
    assert status == 200 and "action 'closed' starts no run" in body["message"]
    receiver.wait_idle()
    assert handled == []


def test_a_failing_delivery_is_recorded_and_the_next_one_still_runs(receiver, handled):
    post(receiver.url, pr_body(13), guid="d-13")
    post(receiver.url, pr_body(14), guid="d-14")
    receiver.wait_idle()
    outcomes = {r["pr_number"]: r["outcome"] for r in receiver.records()}
    assert outcomes[13] == "error: RuntimeError: GitHub is down"
    assert outcomes[14] == "handled #14" and handled == [("d-14", 14)]


def test_bad_requests_get_clear_statuses(receiver):
    assert post(receiver.url, pr_body(1), content_type="application/x-www-form-urlencoded")[0] == 415
    assert post(receiver.url.replace("/webhooks/github", "/other"), pr_body(1))[0] == 404
    with urllib.request.urlopen(receiver.url.replace("/webhooks/github", "/healthz"), timeout=5) as response:
        assert json.loads(response.read()) == {"status": "ok"}


def test_the_secret_is_never_in_an_answer_or_a_record(receiver):
    answers = [post(receiver.url, pr_body(1), secret=b"guess"), post(receiver.url, pr_body(2), guid="d-2")]
    receiver.wait_idle()
    with urllib.request.urlopen(receiver.url.replace("/webhooks/github", "/deliveries"), timeout=5) as response:
        listing = response.read()
    assert SECRET not in listing and all(SECRET.decode() not in json.dumps(body) for _, body in answers)


def test_answers_do_not_wait_for_the_work(handled):
    release = threading.Event()

    def slow(delivery):
        release.wait(10)
        return "done"

    with WebhookReceiver(SECRET, "acme/web", slow) as server:
        assert post(server.url, pr_body(1))[0] == 202  # answered while the worker is still busy
        release.set()
        server.wait_idle()
        assert server.records()[0]["outcome"] == "done"


def test_a_receiver_without_secret_does_not_start():
    with pytest.raises(ValueError, match="secret is required"):
        WebhookReceiver(b"", "acme/web", lambda d: "")
