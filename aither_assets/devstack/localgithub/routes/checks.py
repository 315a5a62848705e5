"""Commit statuses and check runs."""

from __future__ import annotations

from ..context import Context, Response
from ..db import Row
from ..errors import Forbidden
from ..pagination import paginate

CHECK_RUN_FIELDS = ("status", "conclusion", "details_url", "external_id", "started_at", "completed_at", "output")


def create_status(ctx: Context, owner: str, repo: str, sha: str) -> Response:
    row = ctx.repo(owner, repo, need="write")
    data = ctx.body()
    status = ctx.store.create_status(owner, repo, sha, data.get("state"), data.get("target_url"),
                                     data.get("description"), data.get("context") or "default",
                                     creator=ctx.actor()["login"])
    return Response(201, ctx.view.status(row, status))


def list_statuses(ctx: Context, owner: str, repo: str, ref: str) -> Response:
    row = ctx.repo(owner, repo)
    return paginate(ctx.request, ctx.store.list_statuses(row, ref), lambda status: ctx.view.status(row, status))


def combined_status(ctx: Context, owner: str, repo: str, ref: str) -> Response:
    row = ctx.repo(owner, repo)
    sha, state, latest = ctx.store.combined_status(row, ref)
    return Response(200, ctx.view.combined_status(row, sha, state, latest))


def _app_repo(ctx: Context, owner: str, repo: str) -> Row:
    """Only a GitHub App (installation token) may write check runs."""
    if ctx.identity.kind != "installation":
        ctx.actor()
        raise Forbidden("Resource not accessible by personal access token")
    return ctx.repo(owner, repo, need="write")


def _app_id(ctx: Context) -> int:
    return ctx.store.installation_row(ctx.identity.installation_id)["app_id"]


def create_check_run(ctx: Context, owner: str, repo: str) -> Response:
    row = _app_repo(ctx, owner, repo)
    data = ctx.body()
    fields = {key: data[key] for key in CHECK_RUN_FIELDS if key in data}
    run = ctx.store.create_check_run(owner, repo, _app_id(ctx), data.get("name"), data.get("head_sha"), **fields)
    return Response(201, ctx.view.check_run(row, run))


def update_check_run(ctx: Context, owner: str, repo: str, run_id: int) -> Response:
    row = _app_repo(ctx, owner, repo)
    run = _check_run(ctx, row, run_id)
    if run["app_id"] != _app_id(ctx):
        raise Forbidden(f"Invalid app_id `{_app_id(ctx)}` - check run can only be modified by the GitHub App "
                        "that created it.")
    data = ctx.body()
    fields = {key: data[key] for key in (*CHECK_RUN_FIELDS, "name") if key in data}
    return Response(200, ctx.view.check_run(row, ctx.store.update_check_run(owner, repo, run["id"], **fields)))


def _check_run(ctx: Context, row: Row, run_id: int) -> Row:
    return ctx.store.check_run(row, run_id)


def get_check_run(ctx: Context, owner: str, repo: str, run_id: int) -> Response:
    row = ctx.repo(owner, repo)
    return Response(200, ctx.view.check_run(row, _check_run(ctx, row, run_id)))


def list_check_runs(ctx: Context, owner: str, repo: str, ref: str) -> Response:
    row = ctx.repo(owner, repo)
    args = ctx.request
    runs = ctx.store.list_check_runs(row, ref, check_name=args.arg("check_name"), status=args.arg("status"),
                                     latest_only=args.arg("filter", "latest") != "all")
    return paginate(ctx.request, runs, lambda run: ctx.view.check_run(row, run),
                    wrap=lambda page, total: {"total_count": total, "check_runs": page})


ROUTES = [
    ("POST", "/repos/{owner}/{repo}/statuses/{sha}", create_status),
    ("GET", "/repos/{owner}/{repo}/statuses/{ref}", list_statuses),
    ("GET", "/repos/{owner}/{repo}/commits/{ref*}/statuses", list_statuses),
    ("GET", "/repos/{owner}/{repo}/commits/{ref*}/status", combined_status),
    ("GET", "/repos/{owner}/{repo}/commits/{ref*}/check-runs", list_check_runs),
    ("POST", "/repos/{owner}/{repo}/check-runs", create_check_run),
    ("GET", "/repos/{owner}/{repo}/check-runs/{run_id:int}", get_check_run),
    ("PATCH", "/repos/{owner}/{repo}/check-runs/{run_id:int}", update_check_run),
]
