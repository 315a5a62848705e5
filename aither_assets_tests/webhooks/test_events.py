"""Signature and delivery parsing: GitHub's headers and payloads, and what a forged or odd one gets."""

import json

import pytest

from aither_assets.webhooks.events import DeliveryError, ignore_reason, parse_delivery
from aither_assets.webhooks.signature import sign, verify

SHA = "a" * 40


def headers(event="pull_request", guid="72d3162e-cc78-11e3-81ab-4c9367dc0958", content_type="application/json"):
    return {"X-GitHub-Event": event, "X-GitHub-Delivery": guid, "Content-Type": content_type}


def body(action="synchronize", number=7, sha=SHA, repo="acme/web", **extra) -> bytes:
    return json.dumps({"action": action, "number": number, "pull_request": {"head": {"sha": sha}},
                       "repository": {"full_name": repo}, **extra}).encode()


def test_signature_is_hmac_sha256_of_the_exact_body():
    # GitHub's documented example: secret "It's a Secret to Everybody", payload "Hello, World!"
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert sign(b"It's a Secret to Everybody", b"Hello, World!") == expected
    assert verify(b"It's a Secret to Everybody", b"Hello, World!", expected)


@pytest.mark.parametrize("secret, payload, header", [
    (b"other secret", b"Hello, World!", None),  # no header
    (b"It's a Secret to Everybody", b"Hello, World! ", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
    (b"wrong", b"Hello, World!", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
    (b"x", b"y", "sha1=" + "0" * 40),  # the legacy SHA-1 header is not accepted
    (b"", b"y", sign(b"", b"y")),  # no secret configured: nothing verifies
])
def test_signature_rejects_forgeries(secret, payload, header):
    assert not verify(secret, payload, header)


def test_pull_request_delivery_is_parsed():
    delivery = parse_delivery(headers(), body())
    assert (delivery.event, delivery.action, delivery.pr_number, delivery.head_sha, delivery.repository) == (
        "pull_request", "synchronize", 7, SHA, "acme/web")
    assert ignore_reason(delivery, "ACME/web") is None  # GitHub names are case-insensitive


@pytest.mark.parametrize("hdrs, payload, status, message", [
    (headers(event=""), body(), 400, "X-GitHub-Event"),
    (headers(event="pull_request; rm -rf /"), body(), 400, "X-GitHub-Event"),
    (headers(guid="../../etc/passwd"), body(), 400, "X-GitHub-Delivery"),
    (headers(content_type="application/x-www-form-urlencoded"), b"payload=%7B%7D", 415, "content type"),
    (headers(), b"{not json", 400, "not JSON"),
    (headers(), b"[1, 2]", 400, "not a JSON object"),
    (headers(), body(number="7"), 422, "field number"),
    (headers(), body(number=True), 422, "field number"),
    (headers(), body(sha="$(reboot)"), 422, "pull_request.head.sha"),
    (headers(), json.dumps({"action": "opened", "number": 1}).encode(), 422, "repository.full_name"),
])
def test_malformed_deliveries_name_what_is_wrong(hdrs, payload, status, message):
    with pytest.raises(DeliveryError) as raised:
        parse_delivery(hdrs, payload)
    assert raised.value.status == status and message in str(raised.value)


@pytest.mark.parametrize("event, action, repo, reason", [
    ("ping", "", "acme/web", "ping"),
    ("push", "", "acme/web", "event 'push' is not handled"),
    ("pull_request", "closed", "acme/web", "action 'closed' starts no run"),
    ("pull_request", "synchronize", "evil/web", "repository 'evil/web' is not the one served"),
])
def test_deliveries_that_start_nothing_say_why(event, action, repo, reason):
    payload = body(action=action, repo=repo) if event == "pull_request" else json.dumps(
        {"zen": "Keep it simple.", "repository": {"full_name": repo}}).encode()
    delivery = parse_delivery(headers(event=event), payload)
    assert reason in ignore_reason(delivery, "acme/web")


def test_issue_comment_delivery_names_the_comment_and_is_handled_when_created_or_edited():
    raw = json.dumps({"action": "created", "issue": {"number": 3}, "comment": {"id": 99, "body": "/promote dev"},
                      "repository": {"full_name": "acme/web"}}).encode()
    delivery = parse_delivery(headers("issue_comment"), raw)
    assert (delivery.event, delivery.pr_number, delivery.comment_id) == ("issue_comment", 3, 99)
    assert ignore_reason(delivery, "acme/web") is None
    deleted = parse_delivery(headers("issue_comment"), raw.replace(b'"created"', b'"deleted"'))
    assert ignore_reason(deleted, "acme/web") == "comment action 'deleted' asks nothing"
    with pytest.raises(DeliveryError, match="comment.id"):
        parse_delivery(headers("issue_comment"), raw.replace(b'"id": 99', b'"id": "99"'))
