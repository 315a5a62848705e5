"""Issues: the issue itself, labels, events and comments."""

from __future__ import annotations

from typing import Any

from ..context import Context, Response
from ..db import Row
from ..errors import Forbidden, GitHubError, ValidationFailed
from ..pagination import paginate


def _issue(ctx: Context, owner: str, repo: str, number: int, need: str = "read") -> tuple[Row, Row]:
    row = ctx.repo(owner, repo, need)
    return row, ctx.store.issue_row(row, number)


def get_issue(ctx: Context, owner: str, repo: str, number: int) -> Response:
    row, issue = _issue(ctx, owner, repo, number)
    return Response(200, ctx.view.issue(row, issue))


def create_issue(ctx: Context, owner: str, repo: str) -> Response:
    row = ctx.repo(owner, repo)
    data = ctx.body()
    number = ctx.store.open_issue(owner, repo, data.get("title"), data.get("body") or "", ctx.actor()["login"])
    return Response(201, ctx.view.issue(row, ctx.store.issue_row(row, number)))


# -- labels ---------------------------------------------------------------------------


def _label_names(payload: Any) -> list[str]:
    """GitHub accepts `{"labels": [...]}` or a bare list, of names or `{"name": ...}`."""
    items = payload.get("labels") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise ValidationFailed("Label", "labels", "invalid")
    names = [item.get("name") if isinstance(item, dict) else item for item in items]
    if not all(isinstance(name, str) and name.strip() for name in names):
        raise ValidationFailed("Label", "name", "invalid")
    return names


def list_labels(ctx: Context, owner: str, repo: str, number: int) -> Response:
    row, issue = _issue(ctx, owner, repo, number)
    return paginate(ctx.request, ctx.store.labels_of(issue["id"]), lambda label: ctx.view.label(row, label))


def add_labels(ctx: Context, owner: str, repo: str, number: int) -> Response:
    row, issue = _issue(ctx, owner, repo, number, need="triage")
    labels = ctx.store.add_labels(owner, repo, issue["number"], _label_names(ctx.request.json()),
                                  actor=ctx.actor()["login"])
    return Response(200, [ctx.view.label(row, label) for label in labels])


def set_labels(ctx: Context, owner: str, repo: str, number: int) -> Response:
    row, issue = _issue(ctx, owner, repo, number, need="triage")
    labels = ctx.store.set_labels(owner, repo, issue["number"], _label_names(ctx.request.json()),
                                  actor=ctx.actor()["login"])
    return Response(200, [ctx.view.label(row, label) for label in labels])


def clear_labels(ctx: Context, owner: str, repo: str, number: int) -> Response:
    _, issue = _issue(ctx, owner, repo, number, need="triage")
    ctx.store.set_labels(owner, repo, issue["number"], [], actor=ctx.actor()["login"])
    return Response(204)


def remove_label(ctx: Context, owner: str, repo: str, number: int, name: str) -> Response:
    row, issue = _issue(ctx, owner, repo, number, need="triage")
    labels = ctx.store.remove_label(owner, repo, issue["number"], name, actor=ctx.actor()["login"])
    return Response(200, [ctx.view.label(row, label) for label in labels])


def list_events(ctx: Context, owner: str, repo: str, number: int) -> Response:
    row, issue = _issue(ctx, owner, repo, number)
    return paginate(ctx.request, ctx.store.issue_events(issue["id"]), lambda event: ctx.view.event(row, event))


# -- comments ---------------------------------------------------------------------------


def list_comments(ctx: Context, owner: str, repo: str, number: int) -> Response:
    row, issue = _issue(ctx, owner, repo, number)
    comments = ctx.store.list_comments(owner, repo, issue["number"], since=ctx.request.arg("since"))
    return paginate(ctx.request, comments, lambda comment: ctx.view.comment(row, comment))


def list_repo_comments(ctx: Context, owner: str, repo: str) -> Response:
    row = ctx.repo(owner, repo)
    direction = ctx.request.arg("direction") or "asc"
    if direction not in ("asc", "desc"):
        raise ValidationFailed("IssueComment", "direction", "invalid")
    comments = ctx.store.list_repo_comments(owner, repo, since=ctx.request.arg("since"), direction=direction)
    return paginate(ctx.request, comments, lambda comment: ctx.view.comment(row, comment))


def create_comment(ctx: Context, owner: str, repo: str, number: int) -> Response:
    row, issue = _issue(ctx, owner, repo, number)
    body = ctx.body().get("body")
    comment = ctx.store.create_comment(owner, repo, issue["number"], body, user=ctx.actor()["login"])
    return Response(201, ctx.view.comment(row, comment))


def _comment(ctx: Context, owner: str, repo: str, comment_id: int, modify: bool = False) -> tuple[Row, Row]:
    row = ctx.repo(owner, repo)
    comment = ctx.store.comment_row(row, comment_id)
    if modify and ctx.actor()["id"] != comment["user_id"] and ctx.permission(row) not in ("write", "maintain", "admin"):
        raise Forbidden("Must have push access to repository")
    return row, comment


def get_comment(ctx: Context, owner: str, repo: str, comment_id: int) -> Response:
    row, comment = _comment(ctx, owner, repo, comment_id)
    return Response(200, ctx.view.comment(row, comment))


def edit_comment(ctx: Context, owner: str, repo: str, comment_id: int) -> Response:
    row, comment = _comment(ctx, owner, repo, comment_id, modify=True)
    body = ctx.body().get("body")
    if not isinstance(body, str):
        raise GitHubError("Invalid request.\n\n\"body\" wasn't supplied.", status=422)
    return Response(200, ctx.view.comment(row, ctx.store.edit_comment(owner, repo, comment["id"], body)))


def delete_comment(ctx: Context, owner: str, repo: str, comment_id: int) -> Response:
    _, comment = _comment(ctx, owner, repo, comment_id, modify=True)
    ctx.store.delete_comment(owner, repo, comment["id"])
    return Response(204)


ROUTES = [
    ("POST", "/repos/{owner}/{repo}/issues", create_issue),
    ("GET", "/repos/{owner}/{repo}/issues/comments", list_repo_comments),
    ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id:int}", get_comment),
    ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id:int}", edit_comment),
    ("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id:int}", delete_comment),
    ("GET", "/repos/{owner}/{repo}/issues/{number:int}", get_issue),
    ("GET", "/repos/{owner}/{repo}/issues/{number:int}/labels", list_labels),
    ("POST", "/repos/{owner}/{repo}/issues/{number:int}/labels", add_labels),
    ("PUT", "/repos/{owner}/{repo}/issues/{number:int}/labels", set_labels),
    ("DELETE", "/repos/{owner}/{repo}/issues/{number:int}/labels", clear_labels),
    ("DELETE", "/repos/{owner}/{repo}/issues/{number:int}/labels/{name}", remove_label),
    ("GET", "/repos/{owner}/{repo}/issues/{number:int}/events", list_events),
    ("GET", "/repos/{owner}/{repo}/issues/{number:int}/comments", list_comments),
    ("POST", "/repos/{owner}/{repo}/issues/{number:int}/comments", create_comment),
]
