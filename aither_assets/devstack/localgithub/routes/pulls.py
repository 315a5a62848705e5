"""Pull requests: list/get/create/edit, files, commits, reviews, merge."""

from __future__ import annotations

from ..context import Context, Response
from ..db import Row
from ..errors import Forbidden, NotFound, ValidationFailed, require_choice
from ..pagination import paginate

SORTS = ("created", "updated", "popularity", "long-running")


def list_pulls(ctx: Context, owner: str, repo: str) -> Response:
    row = ctx.repo(owner, repo)
    ctx.store.refresh_open_prs(row)
    args = ctx.request
    state = require_choice(args.arg("state", "open"), ("open", "closed", "all"), "PullRequest", "state")
    prs = [pr for pr in ctx.store.pr_rows(row, state) if _matches(ctx, pr, args.arg("head"), args.arg("base"))]
    sort = require_choice(args.arg("sort", "created"), SORTS, "PullRequest", "sort")
    # GitHub: desc by default for `created` (or no sort), asc for the others.
    default_direction = "desc" if sort == "created" else "asc"
    direction = require_choice(args.arg("direction", default_direction), ("asc", "desc"), "PullRequest", "direction")
    prs.sort(key=_sort_key(ctx, sort), reverse=direction == "desc")
    return paginate(ctx.request, prs, lambda pr: ctx.view.pull(row, pr))


def _matches(ctx: Context, pr: Row, head: str | None, base: str | None) -> bool:
    if base is not None and pr["base_ref"] != base:
        return False
    if head is not None:
        owner, _, branch = head.rpartition(":")
        head_repo = ctx.view.repo_row(pr["head_repo_id"])
        if pr["head_ref"] != branch or (owner and owner.lower() != head_repo["owner"].lower()):
            return False
    return True


def _sort_key(ctx: Context, sort: str):
    if sort == "updated":
        return lambda pr: pr["updated_key"]
    if sort == "popularity":
        return lambda pr: (ctx.store.db.scalar("SELECT COUNT(*) FROM comments WHERE issue_id=?", pr["issue_id"]),
                           pr["created_key"])
    if sort == "long-running":  # age of open PRs: the oldest are the longest running
        return lambda pr: -pr["created_key"]
    return lambda pr: pr["created_key"]


def _pr(ctx: Context, owner: str, repo: str, number: int, need: str = "read") -> tuple[Row, Row]:
    row = ctx.repo(owner, repo, need)
    return row, ctx.store.fresh_pr(row, number)


def get_pull(ctx: Context, owner: str, repo: str, number: int) -> Response:
    row, pr = _pr(ctx, owner, repo, number)
    return Response(200, ctx.view.pull(row, pr, full=True))


def create_pull(ctx: Context, owner: str, repo: str) -> Response:
    row = ctx.repo(owner, repo)
    data = ctx.body()
    for field in ("head", "base"):
        if not isinstance(data.get(field), str):
            raise ValidationFailed("PullRequest", field, "missing_field")
    number = ctx.store.open_pr(owner, repo, data["head"], data["base"], data.get("title"), data.get("body") or "",
                               user=ctx.actor()["login"], draft=bool(data.get("draft", False)))
    return Response(201, ctx.view.pull(row, ctx.store.pr_row(row, number), full=True))


def update_pull(ctx: Context, owner: str, repo: str, number: int) -> Response:
    row, pr = _pr(ctx, owner, repo, number)
    actor = ctx.actor()
    if actor["id"] != pr["user_id"] and ctx.permission(row) not in ("write", "maintain", "admin"):
        raise Forbidden("Must have push access to repository")
    data = ctx.body()
    ctx.store.edit_pr(owner, repo, pr["number"], title=data.get("title"), body=data.get("body"),
                      base=data.get("base"), state=data.get("state"), actor=actor["login"])
    return Response(200, ctx.view.pull(row, ctx.store.pr_row(row, pr["number"]), full=True))


def list_files(ctx: Context, owner: str, repo: str, number: int) -> Response:
    row, pr = _pr(ctx, owner, repo, number)
    files = ctx.store.pr_files(owner, repo, pr["number"])
    return paginate(ctx.request, files, lambda entry: ctx.view.file(row, entry, pr["head_sha"]))


def list_commits(ctx: Context, owner: str, repo: str, number: int) -> Response:
    row, pr = _pr(ctx, owner, repo, number)
    commits = ctx.store.pr_commits(owner, repo, pr["number"])
    return paginate(ctx.request, commits, lambda commit: ctx.view.commit(row, commit))


def list_reviews(ctx: Context, owner: str, repo: str, number: int) -> Response:
    row, pr = _pr(ctx, owner, repo, number)
    return paginate(ctx.request, ctx.store.reviews_of(pr["id"]), lambda review: ctx.view.review(row, pr, review))


def create_review(ctx: Context, owner: str, repo: str, number: int) -> Response:
    row, pr = _pr(ctx, owner, repo, number)
    data = ctx.body()
    review = ctx.store.add_review(owner, repo, pr["number"], ctx.actor()["login"], data.get("event") or "PENDING",
                                  data.get("body") or "", data.get("commit_id"))
    return Response(200, ctx.view.review(row, pr, review))


def check_merged(ctx: Context, owner: str, repo: str, number: int) -> Response:
    _, pr = _pr(ctx, owner, repo, number)
    if not pr["merged"]:
        raise NotFound()
    return Response(204)


def merge_pull(ctx: Context, owner: str, repo: str, number: int) -> Response:
    _, pr = _pr(ctx, owner, repo, number, need="write")
    data = ctx.body()
    sha = ctx.store.merge_pr(owner, repo, pr["number"], actor=ctx.actor()["login"],
                             method=data.get("merge_method") or "merge", commit_title=data.get("commit_title"),
                             commit_message=data.get("commit_message"), sha=data.get("sha"))
    return Response(200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"})


ROUTES = [
    ("GET", "/repos/{owner}/{repo}/pulls", list_pulls),
    ("POST", "/repos/{owner}/{repo}/pulls", create_pull),
    ("GET", "/repos/{owner}/{repo}/pulls/{number:int}", get_pull),
    ("PATCH", "/repos/{owner}/{repo}/pulls/{number:int}", update_pull),
    ("GET", "/repos/{owner}/{repo}/pulls/{number:int}/files", list_files),
    ("GET", "/repos/{owner}/{repo}/pulls/{number:int}/commits", list_commits),
    ("GET", "/repos/{owner}/{repo}/pulls/{number:int}/reviews", list_reviews),
    ("POST", "/repos/{owner}/{repo}/pulls/{number:int}/reviews", create_review),
    ("GET", "/repos/{owner}/{repo}/pulls/{number:int}/merge", check_merged),
    ("PUT", "/repos/{owner}/{repo}/pulls/{number:int}/merge", merge_pull),
]
