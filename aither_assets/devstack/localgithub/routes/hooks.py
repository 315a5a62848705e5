"""Repository webhooks and their deliveries.

Only the repo's admins (its owner included) see hooks; anybody else gets
404, as on GitHub, so a hook's existence does not leak.
"""

from __future__ import annotations

from ..context import Context, Response
from ..db import Row
from ..errors import NotFound, ValidationFailed
from ..pagination import paginate

# What GitHub assumes when a REST caller leaves them out (the Python API
# defaults to json and pull_request instead, which is what tests want).
REST_DEFAULT_EVENTS = ["push"]
REST_DEFAULT_CONTENT_TYPE = "form"


def _admin_repo(ctx: Context, owner: str, repo: str) -> Row:
    row = ctx.store.repo_row(owner, repo)
    if ctx.permission(row) != "admin":
        raise NotFound()
    return row


def _config(data: dict) -> dict:
    config = data.get("config", {})
    if not isinstance(config, dict):
        raise ValidationFailed("Hook", "config", "invalid")
    return config


def list_hooks(ctx: Context, owner: str, repo: str) -> Response:
    row = _admin_repo(ctx, owner, repo)
    return paginate(ctx.request, ctx.store.hook_rows(row), lambda hook: ctx.view.hook(row, hook))


def create_hook(ctx: Context, owner: str, repo: str) -> Response:
    row = _admin_repo(ctx, owner, repo)
    data = ctx.body()
    if data.get("name", "web") != "web":
        raise ValidationFailed("Hook", "name", "invalid")
    config = _config(data)
    hook = ctx.store.create_hook(
        owner, repo, config.get("url"), secret=config.get("secret"), events=data.get("events", REST_DEFAULT_EVENTS),
        content_type=config.get("content_type", REST_DEFAULT_CONTENT_TYPE), active=data.get("active", True),
        actor=ctx.actor()["login"], insecure_ssl=config.get("insecure_ssl", "0"))
    return Response(201, ctx.view.hook(row, ctx.store.hook_row(row, hook["id"])))


def get_hook(ctx: Context, owner: str, repo: str, hook_id: int) -> Response:
    row = _admin_repo(ctx, owner, repo)
    return Response(200, ctx.view.hook(row, ctx.store.hook_row(row, hook_id)))


def update_hook(ctx: Context, owner: str, repo: str, hook_id: int) -> Response:
    row = _admin_repo(ctx, owner, repo)
    data = ctx.body()
    ctx.store.edit_hook(owner, repo, hook_id, config=_config(data) if "config" in data else None,
                        events=data.get("events"), add_events=data.get("add_events"),
                        remove_events=data.get("remove_events"), active=data.get("active"))
    return Response(200, ctx.view.hook(row, ctx.store.hook_row(row, hook_id)))


def delete_hook(ctx: Context, owner: str, repo: str, hook_id: int) -> Response:
    _admin_repo(ctx, owner, repo)
    ctx.store.delete_hook(owner, repo, hook_id)
    return Response(204)


def get_config(ctx: Context, owner: str, repo: str, hook_id: int) -> Response:
    row = _admin_repo(ctx, owner, repo)
    return Response(200, ctx.view.hook(row, ctx.store.hook_row(row, hook_id))["config"])


def update_config(ctx: Context, owner: str, repo: str, hook_id: int) -> Response:
    row = _admin_repo(ctx, owner, repo)
    ctx.store.edit_hook(owner, repo, hook_id, config=ctx.body())
    return Response(200, ctx.view.hook(row, ctx.store.hook_row(row, hook_id))["config"])


def ping_hook(ctx: Context, owner: str, repo: str, hook_id: int) -> Response:
    _admin_repo(ctx, owner, repo)
    ctx.store.ping_hook(owner, repo, hook_id, actor=ctx.actor()["login"])
    return Response(204)


def trigger_test(ctx: Context, owner: str, repo: str, hook_id: int) -> Response:
    """GitHub re-sends the latest `push` to hooks subscribed to it; no push events
    are recorded here, so, as GitHub does for other hooks, nothing is sent."""
    row = _admin_repo(ctx, owner, repo)
    ctx.store.hook_row(row, hook_id)
    return Response(204)


def list_deliveries(ctx: Context, owner: str, repo: str, hook_id: int) -> Response:
    row = _admin_repo(ctx, owner, repo)
    rows = ctx.store.delivery_rows(row, hook_id)[::-1]  # newest first, as on GitHub
    return paginate(ctx.request, rows, ctx.view.hook_delivery)


def get_delivery(ctx: Context, owner: str, repo: str, hook_id: int, delivery_id: int) -> Response:
    row = _admin_repo(ctx, owner, repo)
    return Response(200, ctx.view.hook_delivery(ctx.store.delivery_row(row, hook_id, delivery_id), full=True))


def redeliver(ctx: Context, owner: str, repo: str, hook_id: int, delivery_id: int) -> Response:
    _admin_repo(ctx, owner, repo)
    ctx.store.redeliver(owner, repo, hook_id, delivery_id)
    return Response(202, {})


ROUTES = [
    ("GET", "/repos/{owner}/{repo}/hooks", list_hooks),
    ("POST", "/repos/{owner}/{repo}/hooks", create_hook),
    ("GET", "/repos/{owner}/{repo}/hooks/{hook_id:int}", get_hook),
    ("PATCH", "/repos/{owner}/{repo}/hooks/{hook_id:int}", update_hook),
    ("DELETE", "/repos/{owner}/{repo}/hooks/{hook_id:int}", delete_hook),
    ("GET", "/repos/{owner}/{repo}/hooks/{hook_id:int}/config", get_config),
    ("PATCH", "/repos/{owner}/{repo}/hooks/{hook_id:int}/config", update_config),
    ("POST", "/repos/{owner}/{repo}/hooks/{hook_id:int}/pings", ping_hook),
    ("POST", "/repos/{owner}/{repo}/hooks/{hook_id:int}/tests", trigger_test),
    ("POST", "/repos/{owner}/{repo}/hooks/{hook_id:int}/test", trigger_test),
    ("GET", "/repos/{owner}/{repo}/hooks/{hook_id:int}/deliveries", list_deliveries),
    ("GET", "/repos/{owner}/{repo}/hooks/{hook_id:int}/deliveries/{delivery_id:int}", get_delivery),
    ("POST", "/repos/{owner}/{repo}/hooks/{hook_id:int}/deliveries/{delivery_id:int}/attempts", redeliver),
]
