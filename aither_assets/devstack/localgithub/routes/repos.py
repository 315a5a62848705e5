"""Users, repositories, branches, refs, commits and collaborators."""

from __future__ import annotations

from ..context import Context, Response
from ..errors import Forbidden, NotFound
from ..gitops import valid_branch_name
from ..pulls import EMPTY_TREE


def get_authenticated_user(ctx: Context) -> Response:
    if ctx.identity.kind in ("installation", "app"):
        raise Forbidden("Resource not accessible by integration")
    return Response(200, ctx.view.full_user(ctx.actor()))


def get_user(ctx: Context, login: str) -> Response:
    return Response(200, ctx.view.full_user(ctx.store.user_row(login)))


def get_rate_limit(ctx: Context) -> Response:
    # The pipeline fills in the caller's numbers; GitHub does not charge this call.
    return Response(200, {}, counted=False)


def get_repo(ctx: Context, owner: str, repo: str) -> Response:
    return Response(200, ctx.view.repo(ctx.repo(owner, repo), full=True))


def get_branch(ctx: Context, owner: str, repo: str, branch: str) -> Response:
    row = ctx.repo(owner, repo)
    sha = ctx.store.bare(row).branch_sha(branch) if valid_branch_name(branch) else None
    if sha is None:
        raise NotFound("Branch not found")
    return Response(200, ctx.view.branch(row, branch, sha))


def get_git_ref(ctx: Context, owner: str, repo: str, ref: str) -> Response:
    row = ctx.repo(owner, repo)
    kind, _, name = ref.partition("/")
    sha = None
    if kind in ("heads", "tags") and valid_branch_name(name):
        sha = ctx.store.bare(row).ref_sha(f"refs/{ref}")
    if sha is None:
        raise NotFound()
    return Response(200, ctx.view.ref(row, f"refs/{ref}", sha))


def get_commit(ctx: Context, owner: str, repo: str, ref: str) -> Response:
    row = ctx.repo(owner, repo)
    bare = ctx.store.bare(row)
    sha = ctx.store.commit_for(row, ref)
    commit = bare.read_commit(sha)
    files = bare.diff_files(commit["parents"][0] if commit["parents"] else EMPTY_TREE, sha)
    return Response(200, ctx.view.commit(row, commit, files))


def get_permission(ctx: Context, owner: str, repo: str, login: str) -> Response:
    row = ctx.repo(owner, repo)
    return Response(200, ctx.view.permission(row, ctx.store.user_row(login)))


def put_collaborator(ctx: Context, owner: str, repo: str, login: str) -> Response:
    ctx.repo(owner, repo, need="admin")
    ctx.store.add_collaborator(owner, repo, login, ctx.body().get("permission", "write"))
    return Response(204)


ROUTES = [
    ("GET", "/user", get_authenticated_user),
    ("GET", "/users/{login}", get_user),
    ("GET", "/rate_limit", get_rate_limit),
    ("GET", "/repos/{owner}/{repo}", get_repo),
    ("GET", "/repos/{owner}/{repo}/branches/{branch*}", get_branch),
    ("GET", "/repos/{owner}/{repo}/git/ref/{ref*}", get_git_ref),
    ("GET", "/repos/{owner}/{repo}/git/refs/{ref*}", get_git_ref),
    ("GET", "/repos/{owner}/{repo}/collaborators/{login}/permission", get_permission),
    ("PUT", "/repos/{owner}/{repo}/collaborators/{login}", put_collaborator),
    ("GET", "/repos/{owner}/{repo}/commits/{ref*}", get_commit),
]
