"""What a webhook delivery says, read defensively: the body is signed by GitHub, but the PR's
contents (titles, branch names) are still the PR author's, and nothing here trusts them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Mapping

# pull_request actions after which a PR's head may be due a run (a new head, or a filter that
# decides over it changed: draft state, labels, base branch). Closing is the sensor's (teardown).
RUN_ACTIONS = frozenset({"opened", "reopened", "synchronize", "ready_for_review", "labeled", "unlabeled", "edited"})

# issue_comment actions that may carry a command (/promote, /approve: runs/comments.py)
COMMENT_ACTIONS = frozenset({"created", "edited"})

_GUID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class DeliveryError(ValueError):
    """A delivery we refuse, with the HTTP status to answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Delivery:
    guid: str
    event: str
    action: str
    repository: str  # owner/name, as GitHub sent it
    pr_number: int | None = None
    head_sha: str | None = None
    comment_id: int | None = None  # issue_comment: the comment, read again from GitHub before acting


def parse_delivery(headers: Mapping[str, str], body: bytes) -> Delivery:
    """The delivery's event, action and PR; DeliveryError names the header or field that is wrong."""
    event = headers.get("X-GitHub-Event") or ""
    if not re.fullmatch(r"[a-z_]{1,64}", event):
        raise DeliveryError(400, "missing or malformed X-GitHub-Event header")
    guid = headers.get("X-GitHub-Delivery") or ""
    if not _GUID.fullmatch(guid):
        raise DeliveryError(400, "missing or malformed X-GitHub-Delivery header")
    content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise DeliveryError(415, f"content type {content_type or '(none)'!r}: set the hook's content type to json")
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DeliveryError(400, f"body is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise DeliveryError(400, "body is not a JSON object")
    repository = _field(payload, "repository", "full_name", str, required=event != "ping") or ""
    if event == "issue_comment":
        action = _field(payload, "action", None, str)
        number = _field(payload, "issue", "number", int)
        comment_id = _field(payload, "comment", "id", int)
        return Delivery(guid, event, action, repository, number, comment_id=comment_id)
    if event != "pull_request":
        return Delivery(guid, event, str(payload.get("action") or ""), repository)
    action = _field(payload, "action", None, str)
    number = _field(payload, "number", None, int)
    head_sha = _field(payload, "pull_request", "head", dict).get("sha")
    if not isinstance(head_sha, str) or not re.fullmatch(r"[0-9a-f]{40}", head_sha):
        raise DeliveryError(422, "field pull_request.head.sha is missing or not a commit SHA")
    return Delivery(guid, event, action, repository, number, head_sha)


def _field(payload: Mapping, key: str, sub: str | None, kind: type, required: bool = True):
    value = payload.get(key)
    if sub is not None:
        value = value.get(sub) if isinstance(value, dict) else None
    if kind is int and isinstance(value, bool):  # JSON true is not a PR number
        value = None
    if not isinstance(value, kind):
        if not required:
            return None
        name = key if sub is None else f"{key}.{sub}"
        raise DeliveryError(422, f"field {name} is missing or not a{'n' if kind is int else ''} {kind.__name__}")
    return value


def ignore_reason(delivery: Delivery, repository: str) -> str | None:
    """Why this delivery starts nothing (None: look at the PR)."""
    if delivery.event == "ping":
        return "ping"
    if delivery.event not in ("pull_request", "issue_comment"):
        return f"event {delivery.event!r} is not handled (subscribe the hook to pull_request and issue_comment)"
    if delivery.repository.lower() != repository.lower():
        return f"repository {delivery.repository!r} is not the one served ({repository})"
    if delivery.event == "issue_comment":
        return None if delivery.action in COMMENT_ACTIONS else f"comment action {delivery.action!r} asks nothing"
    if delivery.action not in RUN_ACTIONS:
        return f"action {delivery.action!r} starts no run (the PR sensor handles it)"
    return None
