"""`aither local-github`: run the local GitHub server or change its state.

Without a subcommand it serves in the foreground until SIGINT/SIGTERM.
Subcommands act on the data dir directly (the server need not run; a running
one sees the changes at once) and print JSON.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .errors import GitHubError, NotFound
from .serializers import public_data
from .server import serve
from .store import LocalGitHub

DEFAULT_DATA = ".aither/local-github"


def _print(data: Any) -> None:
    click.echo(json.dumps(public_data(data), indent=2, ensure_ascii=False))


def _data_dir(ctx: click.Context, data: str | None) -> str:
    """The subcommand's --data, else the `local-github` group's (which may sit under `aither`)."""
    if data:
        return data
    while ctx.parent is not None and ctx.command is not local_github:
        ctx = ctx.parent
    return ctx.params.get("data_dir") or DEFAULT_DATA


def _store(ctx: click.Context, data: str | None, create: bool = False) -> LocalGitHub:
    """The store in the data dir; only commands that create state may start an empty one."""
    folder = _data_dir(ctx, data)
    if not create and not (Path(folder) / "state.sqlite3").is_file():
        raise click.ClickException(f"no local GitHub data in {folder} (no state.sqlite3); give --data DIR "
                                   "(the demo's is .aither-demo/github)")
    return LocalGitHub(folder)


def _split_repo(full_name: str) -> tuple[str, str]:
    owner, slash, name = full_name.partition("/")
    if not slash or not owner or not name:
        raise click.BadParameter(f"expected OWNER/NAME, got {full_name!r}")
    return owner, name


def _repo(store: LocalGitHub, full_name: str) -> tuple[str, str]:
    """OWNER, NAME of a repository that exists (else a one-line error naming it)."""
    owner, name = _split_repo(full_name)
    try:
        store.repo_row(owner, name)
    except NotFound:
        raise click.ClickException(f"repository {full_name} not found in {store.data_dir}") from None
    return owner, name


def _pr(store: LocalGitHub, full_name: str, number: int) -> tuple[str, str]:
    """OWNER, NAME of a repository that has PR/issue `number` (else a one-line error naming both)."""
    owner, name = _repo(store, full_name)
    try:
        store.issue_row(store.repo_row(owner, name), number)
    except NotFound:
        raise click.ClickException(f"pull request #{number} not found in {full_name}") from None
    return owner, name


def _has_branch(store: LocalGitHub, owner: str, name: str, branch: str) -> bool:
    try:
        store.branch_sha(owner, name, branch)
    except NotFound:
        return False
    return True


def data_option(func: Callable) -> Callable:
    return click.option("--data", "data", type=click.Path(file_okay=False), default=None,
                        help="Data dir (defaults to the group's --data).")(func)


#: Parameters that name what a command acts on, for error lines.
_SUBJECTS = (("full_name", "repository {}"), ("branch", "branch {!r}"), ("number", "#{}"), ("head", "head {!r}"),
             ("base", "base {!r}"), ("login", "user {}"), ("new_owner", "new owner {}"))


class StoreCommand(click.Command):
    """Turns GitHub-shaped errors into one line on stderr (naming what the command acted on) and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GitHubError as error:
            subjects = ", ".join(form.format(ctx.params[key]) for key, form in _SUBJECTS
                                 if ctx.params.get(key) is not None)
            details = "; ".join(_detail(e) for e in error.errors or [])
            raise click.ClickException(f"{ctx.info_name} ({subjects}): {error.message} ({error.status})"
                                       + (f": {details}" if details else "")) from None


def _detail(error: Any) -> str:
    if isinstance(error, dict):
        where = ".".join(str(error[k]) for k in ("resource", "field") if error.get(k))
        return " ".join(part for part in (where, str(error.get("code", "")), str(error.get("message", ""))) if part)
    return str(error)


@click.group(invoke_without_command=True)
@click.option("--data", "data_dir", type=click.Path(file_okay=False), envvar="AITHER_LOCAL_GITHUB_DATA",
              default=DEFAULT_DATA, show_default=True, help="Data dir: state.sqlite3 and repos/.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=0, show_default=True, help="0 picks a free port.")
@click.option("--verbose", is_flag=True, help="Log each request line to stderr.")
@click.pass_context
def local_github(ctx: click.Context, data_dir: str, host: str, port: int, verbose: bool) -> None:
    """A local GitHub (REST API v3 subset) backed by sqlite and bare git repos."""
    if ctx.invoked_subcommand is None:
        run_foreground(data_dir, host, port, verbose)


def run_foreground(data_dir: str, host: str, port: int, verbose: bool) -> None:
    server, base_url = serve(data_dir, host, port, verbose)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="localgithub",
                              daemon=True)
    thread.start()
    click.echo(f"Local GitHub at {base_url}")
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    click.echo("Local GitHub stopped")


@local_github.command("create-user", cls=StoreCommand)
@click.argument("login")
@click.option("--token", default=None, help="Use this token instead of generating one.")
@click.option("--type", "user_type", type=click.Choice(["User", "Organization"]), default="User")
@data_option
@click.pass_context
def create_user(ctx: click.Context, login: str, token: str | None, user_type: str, data: str | None) -> None:
    """Create a user and print a token for it."""
    store = _store(ctx, data, create=True)
    token = store.create_user(login, token, user_type)
    _print({**store.user(login), "token": token})


@local_github.command("create-repo", cls=StoreCommand)
@click.argument("full_name")
@click.option("--from", "source", type=click.Path(exists=True, file_okay=False), default=None,
              help="Folder whose files become the initial commit.")
@click.option("--default-branch", default="main", show_default=True)
@click.option("--private", is_flag=True)
@data_option
@click.pass_context
def create_repo(ctx: click.Context, full_name: str, source: str | None, default_branch: str, private: bool,
                data: str | None) -> None:
    """Create OWNER/NAME (optionally from a folder)."""
    owner, name = _split_repo(full_name)
    _print(_store(ctx, data, create=True).create_repo(owner, name, source, default_branch, private))


@local_github.command("fork", cls=StoreCommand)
@click.argument("full_name")
@click.argument("new_owner")
@data_option
@click.pass_context
def fork(ctx: click.Context, full_name: str, new_owner: str, data: str | None) -> None:
    """Fork OWNER/NAME to NEW_OWNER."""
    store = _store(ctx, data)
    _print(store.fork_repo(*_repo(store, full_name), new_owner))


@local_github.command("open-pr", cls=StoreCommand)
@click.argument("full_name")
@click.option("--head", required=True, help="Head branch (or FORK_OWNER:branch).")
@click.option("--base", default="main", show_default=True)
@click.option("--title", required=True)
@click.option("--body", default="")
@click.option("--user", default=None, help="Author login (default: head repo owner).")
@click.option("--draft", is_flag=True)
@click.option("--head-owner", default=None, help="Owner of the fork the head branch lives in.")
@data_option
@click.pass_context
def open_pr(ctx: click.Context, full_name: str, head: str, base: str, title: str, body: str, user: str | None,
            draft: bool, head_owner: str | None, data: str | None) -> None:
    """Open a pull request on OWNER/NAME from HEAD into BASE."""
    store = _store(ctx, data)
    owner, name = _repo(store, full_name)
    if not _has_branch(store, owner, name, base):
        raise click.ClickException(f"base branch {base!r} not found in {full_name}")
    if head_owner is None and ":" not in head and not _has_branch(store, owner, name, head):
        raise click.ClickException(f"head branch {head!r} not found in {full_name}: push to it first "
                                   f"(aither local-github push {full_name} {head} --base {base} --file PATH=@FILE)")
    number = store.open_pr(owner, name, head, base, title, body, user, draft, head_owner)
    _print(store.get_pr(owner, name, number))


def _collect_files(source: str | None, specs: tuple[str, ...], deletions: tuple[str, ...]) -> dict:
    files: dict[str, bytes | str | None] = {}
    if source:
        root = Path(source)
        for path in sorted(root.rglob("*")):
            if path.is_file() and ".git" not in path.relative_to(root).parts:
                files[path.relative_to(root).as_posix()] = path.read_bytes()
    for spec in specs:
        target, eq, value = spec.partition("=")
        if not eq or not target:
            raise click.BadParameter(f"expected path=@localfile or path=text, got {spec!r}")
        files[target] = Path(value[1:]).read_bytes() if value.startswith("@") else value
    for target in deletions:
        files[target] = None
    if not files:
        raise click.UsageError("nothing to push: give --from, --file or --delete")
    return files


@local_github.command("push", cls=StoreCommand)
@click.argument("full_name")
@click.argument("branch")
@click.option("--base", default=None,
              help="Create BRANCH from this branch when it does not exist yet (ignored when it does).")
@click.option("--from", "source", type=click.Path(exists=True, file_okay=False), default=None,
              help="Write every file of this folder.")
@click.option("--file", "file_specs", multiple=True, help="path=@localfile or path=text (repeatable).")
@click.option("--delete", "deletions", multiple=True, help="Path to delete (repeatable).")
@click.option("--message", "-m", default="Update files", show_default=True)
@click.option("--author", default=None, metavar="LOGIN",
              help='Commit author: a login (committed as LOGIN <LOGIN@localhost>) or "Name <email>".')
@data_option
@click.pass_context
def push(ctx: click.Context, full_name: str, branch: str, base: str | None, source: str | None,
         file_specs: tuple[str, ...], deletions: tuple[str, ...], message: str, author: str | None,
         data: str | None) -> None:
    """Commit files onto BRANCH of OWNER/NAME (open PRs on it follow); --base creates a new BRANCH."""
    files = _collect_files(source, file_specs, deletions)
    store = _store(ctx, data)
    owner, name = _repo(store, full_name)
    created = not _has_branch(store, owner, name, branch)
    empty = not store.repo_bare(owner, name).refs()
    if created and not (empty and base is None):  # the first push to an empty repository needs no base
        if base is None:
            raise click.ClickException(f"branch {branch!r} does not exist in {full_name}: add --base BRANCH "
                                       "to create it from that branch")
        if not _has_branch(store, owner, name, base):
            raise click.ClickException(f"base branch {base!r} not found in {full_name}")
    sha = store.commit_files(owner, name, branch, files, message, author, base=base)
    _print({"repo": full_name, "branch": branch, "sha": sha, "created": created})


@local_github.command("draft", cls=StoreCommand)
@click.argument("full_name")
@click.argument("number", type=int)
@click.option("--ready", is_flag=True, help="Mark ready for review instead.")
@data_option
@click.pass_context
def draft(ctx: click.Context, full_name: str, number: int, ready: bool, data: str | None) -> None:
    """Convert a PR to draft (or --ready)."""
    store = _store(ctx, data)
    owner, name = _pr(store, full_name, number)
    store.set_draft(owner, name, number, not ready)
    _print(store.get_pr(owner, name, number))


@local_github.command("label", cls=StoreCommand)
@click.argument("full_name")
@click.argument("number", type=int)
@click.argument("labels", nargs=-1, required=True)
@click.option("--remove", is_flag=True, help="Remove the labels instead.")
@click.option("--actor", default=None, help="Login recorded in the labeled events.")
@data_option
@click.pass_context
def label(ctx: click.Context, full_name: str, number: int, labels: tuple[str, ...], remove: bool,
          actor: str | None, data: str | None) -> None:
    """Add (or --remove) labels on a PR or issue."""
    store = _store(ctx, data)
    owner, name = _pr(store, full_name, number)
    if remove:
        for one in labels:
            store.remove_label(owner, name, number, one, actor)
    else:
        store.add_labels(owner, name, number, list(labels), actor)
    _print(store.get_pr(owner, name, number))


@local_github.command("close", cls=StoreCommand)
@click.argument("full_name")
@click.argument("number", type=int)
@data_option
@click.pass_context
def close(ctx: click.Context, full_name: str, number: int, data: str | None) -> None:
    """Close a PR without merging."""
    store = _store(ctx, data)
    owner, name = _pr(store, full_name, number)
    store.close_pr(owner, name, number)
    _print(store.get_pr(owner, name, number))


@local_github.command("merge", cls=StoreCommand)
@click.argument("full_name")
@click.argument("number", type=int)
@click.option("--method", type=click.Choice(["merge", "squash", "rebase"]), default="merge", show_default=True)
@data_option
@click.pass_context
def merge(ctx: click.Context, full_name: str, number: int, method: str, data: str | None) -> None:
    """Merge a PR into its base branch."""
    store = _store(ctx, data)
    owner, name = _pr(store, full_name, number)
    sha = store.merge_pr(owner, name, number, method=method)
    _print({**store.get_pr(owner, name, number), "merge_commit_sha": sha})


@local_github.command("create-hook", cls=StoreCommand)
@click.argument("full_name")
@click.option("--url", required=True, help="Where deliveries are POSTed.")
@click.option("--secret", default=None, envvar="AITHER_LOCAL_GITHUB_HOOK_SECRET",
              help="HMAC secret (or $AITHER_LOCAL_GITHUB_HOOK_SECRET, which keeps it out of `ps`).")
@click.option("--event", "events", multiple=True, default=("pull_request",), show_default=True,
              help="Event to subscribe to (repeatable; * for all).")
@click.option("--content-type", type=click.Choice(["json", "form"]), default="json", show_default=True)
@click.option("--inactive", is_flag=True, help="Create the hook disabled (no ping).")
@data_option
@click.pass_context
def create_hook(ctx: click.Context, full_name: str, url: str, secret: str | None, events: tuple[str, ...],
                content_type: str, inactive: bool, data: str | None) -> None:
    """Add a webhook to OWNER/NAME and queue its ping (a running server delivers it)."""
    store = _store(ctx, data)
    _print(store.create_hook(*_repo(store, full_name), url, secret, events, content_type, active=not inactive))


@local_github.command("faults", cls=StoreCommand)
@click.option("--server-errors", type=int, default=None, help="Next N requests answer 5xx.")
@click.option("--secondary", "secondary_rate_limits", type=int, default=None,
              help="Next N requests hit a secondary rate limit.")
@click.option("--primary", "primary_rate_limit", type=int, default=None,
              help="Next N requests hit the primary rate limit.")
@click.option("--status", type=int, default=None, help="Status for the faults armed here.")
@click.option("--retry-after", type=int, default=None, help="Retry-After for secondary limits.")
@click.option("--reset-in", type=int, default=None, help="Seconds until reset for the primary limit.")
@click.option("--latency-ms", type=int, default=None, help="Delay added to every answer.")
@click.option("--path", default=None, help="Only requests whose path contains this.")
@click.option("--path-regex", default=None, help="Only requests whose path matches this regex.")
@click.option("--clear", is_flag=True, help="Disarm all faults first.")
@data_option
@click.pass_context
def faults(ctx: click.Context, clear: bool, data: str | None, **settings: Any) -> None:
    """Arm (or --clear) fault switches; prints the armed faults."""
    store = _store(ctx, data)
    if clear:
        store.clear_faults()
    try:
        _print(store.set_faults(**settings))
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@local_github.command("requests", cls=StoreCommand)
@click.option("--login", default=None)
@data_option
@click.pass_context
def requests_log(ctx: click.Context, login: str | None, data: str | None) -> None:
    """Print the request log (method, path, status, counted)."""
    _print(_store(ctx, data).request_log(login=login))
