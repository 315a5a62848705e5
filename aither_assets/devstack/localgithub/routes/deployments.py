"""Deployments and their statuses."""

from __future__ import annotations

from ..context import Context, Response
from ..errors import ValidationFailed
from ..pagination import paginate


def create_deployment(ctx: Context, owner: str, repo: str) -> Response:
    row = ctx.repo(owner, repo, need="write")
    data = ctx.body()
    if not isinstance(data.get("ref"), str):
        raise ValidationFailed("Deployment", "ref", "missing_field")
    required = data.get("required_contexts")
    if required is not None and not (isinstance(required, list) and all(isinstance(c, str) for c in required)):
        raise ValidationFailed("Deployment", "required_contexts", "invalid")
    deployment = ctx.store.create_deployment(
        owner, repo, data["ref"], creator=ctx.actor()["login"], task=data.get("task") or "deploy",
        environment=data.get("environment") or "production", payload=data.get("payload"),
        description=data.get("description"), transient_environment=bool(data.get("transient_environment", False)),
        production_environment=data.get("production_environment"), required_contexts=required)
    return Response(201, ctx.view.deployment(row, deployment))


def list_deployments(ctx: Context, owner: str, repo: str) -> Response:
    row = ctx.repo(owner, repo)
    args = ctx.request
    rows = ctx.store.list_deployments(row, sha=args.arg("sha"), ref=args.arg("ref"), task=args.arg("task"),
                                      environment=args.arg("environment"))
    return paginate(ctx.request, rows, lambda deployment: ctx.view.deployment(row, deployment))


def get_deployment(ctx: Context, owner: str, repo: str, deployment_id: int) -> Response:
    row = ctx.repo(owner, repo)
    return Response(200, ctx.view.deployment(row, ctx.store.deployment(row, deployment_id)))


def delete_deployment(ctx: Context, owner: str, repo: str, deployment_id: int) -> Response:
    row = ctx.repo(owner, repo, need="write")
    ctx.store.delete_deployment(row, deployment_id)
    return Response(204)


def create_status(ctx: Context, owner: str, repo: str, deployment_id: int) -> Response:
    row = ctx.repo(owner, repo, need="write")
    data = ctx.body()
    status = ctx.store.create_deployment_status(
        owner, repo, deployment_id, data.get("state"), creator=ctx.actor()["login"],
        description=data.get("description") or "", environment_url=data.get("environment_url") or "",
        log_url=data.get("log_url") or "", target_url=data.get("target_url") or "",
        environment=data.get("environment"), auto_inactive=data.get("auto_inactive", True) is not False)
    return Response(201, ctx.view.deployment_status(row, status))


def list_statuses(ctx: Context, owner: str, repo: str, deployment_id: int) -> Response:
    row = ctx.repo(owner, repo)
    rows = ctx.store.list_deployment_statuses(row, deployment_id)
    return paginate(ctx.request, rows, lambda status: ctx.view.deployment_status(row, status))


def get_status(ctx: Context, owner: str, repo: str, deployment_id: int, status_id: int) -> Response:
    row = ctx.repo(owner, repo)
    status = ctx.store.deployment_status(row, deployment_id, status_id)
    return Response(200, ctx.view.deployment_status(row, status))


ROUTES = [
    ("GET", "/repos/{owner}/{repo}/deployments", list_deployments),
    ("POST", "/repos/{owner}/{repo}/deployments", create_deployment),
    ("GET", "/repos/{owner}/{repo}/deployments/{deployment_id:int}", get_deployment),
    ("DELETE", "/repos/{owner}/{repo}/deployments/{deployment_id:int}", delete_deployment),
    ("GET", "/repos/{owner}/{repo}/deployments/{deployment_id:int}/statuses", list_statuses),
    ("POST", "/repos/{owner}/{repo}/deployments/{deployment_id:int}/statuses", create_status),
    ("GET", "/repos/{owner}/{repo}/deployments/{deployment_id:int}/statuses/{status_id:int}", get_status),
]
