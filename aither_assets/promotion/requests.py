"""Who asked and who approved, read from GitHub: PR comments and the collaborator-permission API.

GitHub stays the source of truth: approvals are not copied anywhere, they are read again from the
PR's comments at every gate evaluation (an edited or deleted comment counts as it stands now, and a
permission taken away counts at once). A promotion request is a ``/promote`` comment whose author
GitHub names; a run that claims a requester proves it by the comment's id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aither_assets.github.client import GitHubClient, GitHubError
from aither_assets.github.models import Comment
from aither_assets.promotion.commands import Command, parse_comment
from aither_assets.promotion.gates import UNAUTHENTICATED, Approval
from aither_assets.release_policy.permissions import permission_at_least

REPLY_MARKER = "<!-- aither:reply-to:{id} -->"
ACTED_ON = ("promote", "rollback", "hold", "unhold")  # /approve needs no action: the gates read approvals


def epoch(stamp: str) -> float:
    """GitHub's ISO time (``2026-01-01T10:00:00Z``) as epoch seconds."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


class Permissions:
    """Collaborator permission lookups, once per login per use."""

    def __init__(self, client: GitHubClient):
        self.client, self._cache = client, {}

    def __call__(self, login: str) -> str:
        if login not in self._cache:
            self._cache[login] = self.client.permission_level(login)
        return self._cache[login]


def approvals(client: GitHubClient, number: int, ladder: tuple[str, ...], ignore: set[str],
              permissions: Permissions | None = None) -> tuple[Approval, ...]:
    """Every ``/approve`` comment on the PR, with its author's permission as GitHub says now.

    ``ignore``: logins whose comments are never commands (the control plane's own account)."""
    permissions = permissions or Permissions(client)
    out = []
    for comment in client.comments(number):
        if comment.author in ignore:
            continue
        parsed = parse_comment(comment.body, ladder)
        if parsed.command is None or parsed.command.verb != "approve":
            continue
        out.append(Approval(comment.author, parsed.command.ring, epoch(comment.updated_at or comment.created_at),
                            permissions(comment.author), parsed.command.digest, comment.id))
    return tuple(out)


@dataclass(frozen=True)
class Requester:
    login: str  # or UNAUTHENTICATED
    reason: str
    comment_id: int | None = None
    note: str = ""  # why a claimed identity was not accepted
    permission: str | None = None  # the login's role on the repository as GitHub reports it (None: nobody proven)
    break_glass: bool = False  # the comment itself asked for break-glass (/promote <ring> --break-glass ...)
    to_pr: int | None = None  # /rollback <ring> #PR: the PR the comment named


def verify_requester(client: GitHubClient, comment_id: str | None, number: int, ring: str,
                     ladder: tuple[str, ...], required: str = "write", verb: str = "promote") -> Requester:
    """The requester a run claims, proven by its comment: a writer's ``/promote`` of this ring on the PR, or
    a writer's ``/rollback`` of this ring (on any PR of the repository: the run checks its target itself;
    when the comment names a PR, it must be this one).

    Anything else (no comment, another PR or ring, a reader, an edited comment that no longer asks)
    is a request nobody authenticated: it may still go ahead, its gates apply as for the UI."""
    if not comment_id or not comment_id.isdigit():
        return Requester(UNAUTHENTICATED, "")
    try:
        comment = client.comment(int(comment_id))
    except GitHubError as exc:
        return Requester(UNAUTHENTICATED, "", note=f"comment {comment_id}: {exc.message or exc.status}")
    command = parse_comment(comment.body, ladder).command
    if command is None or command.verb != verb or command.ring != ring:
        return Requester(UNAUTHENTICATED, "", note=f"comment {comment_id} does not ask to {verb} #{number} in {ring}")
    if verb == "rollback" and command.to_pr not in (None, number):
        return Requester(UNAUTHENTICATED, "", note=f"comment {comment_id} asks for a rollback to #{command.to_pr}")
    if verb != "rollback" and comment.issue_number != number:
        return Requester(UNAUTHENTICATED, "", note=f"comment {comment_id} does not ask to {verb} #{number} in {ring}")
    level = client.permission_level(comment.author)
    if not permission_at_least(level, required):
        return Requester(UNAUTHENTICATED, "", note=f"{comment.author} has {level} permission, not {required}")
    return Requester(comment.author, command.reason, comment.id, permission=level, break_glass=command.break_glass,
                     to_pr=command.to_pr)


@dataclass(frozen=True)
class CommentDecision:
    """What to do about one comment: nothing, reply (and why), or act on it (launch a promotion or a
    rollback, record a hold or an unhold)."""

    comment: Comment
    command: Command | None = None
    reply: str | None = None
    launch: bool = False  # act on the command


def decide_comment(comment: Comment, ladder: tuple[str, ...], permission: Permissions, bot: str,
                   is_pull: bool, required: str = "write") -> CommentDecision:
    """The control plane's answer to a comment (pure apart from the permission lookup)."""
    if comment.author == bot or comment.issue_number is None:
        return CommentDecision(comment)
    parsed = parse_comment(comment.body, ladder)
    if not parsed.mentions_command:
        return CommentDecision(comment)
    who = f"@{comment.author}"
    if not is_pull:
        return CommentDecision(comment, parsed.command, f"{who}: ring commands work on pull requests only.")
    if parsed.problems and parsed.command is None:
        return CommentDecision(comment, None, f"{who}: ignored: {parsed.problems[0]}")
    level = permission(comment.author)
    if not permission_at_least(level, required):
        return CommentDecision(comment, parsed.command,
                               f"{who}: `{parsed.command.label}` ignored: it needs {required} "
                               f"permission on the repository, you have {level}.")
    if parsed.command.verb in ACTED_ON:
        return CommentDecision(comment, parsed.command, None, launch=True)
    return CommentDecision(comment, parsed.command)


def reply_body(comment_id: int, text: str) -> str:
    """A reply, marked with the comment it answers so it is posted once. ``text`` holds only validated
    parts of the comment (verb, a ladder ring, a GitHub login), never its free text."""
    return f"{REPLY_MARKER.format(id=int(comment_id))}\n{text}"


def already_replied(client: GitHubClient, number: int, comment_id: int, bot: str) -> bool:
    marker = REPLY_MARKER.format(id=int(comment_id))
    return any(c.author == bot and c.body.startswith(marker) for c in client.comments(number))
