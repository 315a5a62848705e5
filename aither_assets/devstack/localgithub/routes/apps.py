"""GitHub App endpoints (JWT-authenticated) and installation repositories."""

from __future__ import annotations

from ..context import Context, Response
from ..db import Row
from ..errors import Forbidden, NotFound, Unauthorized
from ..pagination import paginate


def _app(ctx: Context) -> Row:
    """The app authenticating with its JWT; any other credential is refused as GitHub does."""
    if ctx.identity.kind != "app":
        raise Unauthorized("A JSON web token could not be decoded")
    return ctx.identity.app


def _own_installation(ctx: Context, installation_id: int) -> Row:
    app = _app(ctx)
    installation = ctx.store.installation_row(installation_id)
    if installation["app_id"] != app["id"]:
        raise NotFound()
    return installation


def get_app(ctx: Context) -> Response:
    return Response(200, ctx.view.app(_app(ctx)))


def list_installations(ctx: Context) -> Response:
    app = _app(ctx)
    rows = ctx.store.db.all("SELECT * FROM installations WHERE app_id=? ORDER BY id", app["id"])
    return paginate(ctx.request, rows, ctx.view.installation)


def get_installation(ctx: Context, installation_id: int) -> Response:
    return Response(200, ctx.view.installation(_own_installation(ctx, installation_id)))


def create_access_token(ctx: Context, installation_id: int) -> Response:
    installation = _own_installation(ctx, installation_id)
    token = ctx.store.issue_installation_token(installation["app_id"], installation["id"])
    return Response(201, token)


def get_repo_installation(ctx: Context, owner: str, repo: str) -> Response:
    app = _app(ctx)
    row = ctx.store.repo_row(owner, repo)
    return Response(200, ctx.view.installation(ctx.store.installation_for_repo(app["id"], row)))


def list_installation_repos(ctx: Context) -> Response:
    if ctx.identity.kind != "installation":
        raise Forbidden("This endpoint requires an installation access token")
    repo_ids = ctx.store.installation_repo_ids(ctx.identity.installation_id)
    repos = [ctx.store.repo_by_id(repo_id) for repo_id in repo_ids]
    return paginate(ctx.request, repos, ctx.view.repo,
                    wrap=lambda page, total: {"total_count": total, "repository_selection": "selected",
                                              "repositories": page})


ROUTES = [
    ("GET", "/app", get_app),
    ("GET", "/app/installations", list_installations),
    ("GET", "/app/installations/{installation_id:int}", get_installation),
    ("POST", "/app/installations/{installation_id:int}/access_tokens", create_access_token),
    ("GET", "/repos/{owner}/{repo}/installation", get_repo_installation),
    ("GET", "/installation/repositories", list_installation_repos),
]
