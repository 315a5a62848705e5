"""Publishing rendered pages: to a local folder, and as a commit on the repository's ``gh-pages`` branch.

Both replace only the paths they are given (``pr-<N>/index.html``, ``index.html``, ``rings/<ring>.html``);
other PRs' pages stay. Git runs with argv lists only; a token travels only in the environment of the
git process (``GIT_CONFIG_*`` http.extraHeader, see :func:`aither_assets.runtime.gitcmd.auth_env`), never in a
URL, a config file or the commit.

``publish_gh_pages`` does not check anything out: it fetches the branch into a bare cache repository,
writes the new files as blobs into a temporary index built from the branch's tree, commits that tree with
the branch head as parent (or as a root commit when the branch does not exist yet) and pushes it. A push
rejected as non-fast-forward (someone else published meanwhile) is retried once on top of the new head.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path, PurePosixPath

from aither_assets.runtime.gitcmd import auth_env, locked_bare_repo, run_git

_SHA = re.compile(r"^[0-9a-f]{40}$")
_BRANCH = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/-]{1,200}(?<![./])$")
_REJECTED = ("non-fast-forward", "fetch first", "[rejected]", "stale info", "failed to update ref")


class PublishError(RuntimeError):
    pass


def check_path(relative: str) -> str:
    """A relative page path with forward slashes: no absolute path, no ``..``, no ``.git``, no empty part."""
    if not isinstance(relative, str) or not relative or "\\" in relative or "\x00" in relative:
        raise PublishError(f"not a page path: {relative!r}")
    path = PurePosixPath(relative)
    if path.is_absolute() or any(part in ("", ".", "..") for part in relative.split("/")):
        raise PublishError(f"not a relative page path: {relative!r}")
    if any(part.lower() == ".git" for part in path.parts):
        raise PublishError(f"page path inside .git: {relative!r}")
    return str(path)


# ---------------------------------------------------------------- local folder

def publish_local(pages_dir: Path, files: dict[str, str]) -> list[Path]:
    """Write each file under ``pages_dir`` atomically (temp file in the same folder, then ``os.replace``)."""
    pages_dir = Path(pages_dir)
    checked = {check_path(rel): text for rel, text in files.items()}
    written = []
    for rel, text in sorted(checked.items()):
        target = pages_dir.joinpath(*rel.split("/"))
        if target.parent.resolve() != pages_dir.resolve().joinpath(*rel.split("/")[:-1]):
            raise PublishError(f"{rel!r} leads out of {pages_dir} (a link on the way?)")
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(text.encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, 0o644)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        written.append(target)
    return written


# ---------------------------------------------------------------- gh-pages

def _git(args: list[str], cwd: Path, *, token: str | None = None, env: dict[str, str] | None = None,
         input: bytes | None = None, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    return run_git(args, cwd, env={**auth_env(token), **(env or {})}, input=input, check=check, timeout=timeout,
                   error=PublishError)


def _cache(workdir: Path):
    # One publisher per cache at a time.
    return locked_bare_repo(workdir / "gh-pages.git", workdir / "gh-pages.lock", error=PublishError)


def _remote_head(bare: Path, clone_url: str, branch: str, token: str | None) -> str | None:
    """The branch's commit on the server, fetched into the cache; None when the branch does not exist."""
    listing = _git(["ls-remote", "--heads", "--", clone_url, f"refs/heads/{branch}"], cwd=bare, token=token)
    lines = [line.split("\t") for line in listing.stdout.decode().splitlines() if "\t" in line]
    sha = next((sha for sha, ref in lines if ref == f"refs/heads/{branch}"), None)
    if sha is None:
        return None
    _git(["fetch", "--quiet", "--no-tags", "--", clone_url, f"+refs/heads/{branch}:refs/remotes/pages/{branch}"],
         cwd=bare, token=token)
    proc = _git(["rev-parse", "--verify", f"refs/remotes/pages/{branch}^{{commit}}"], cwd=bare)
    fetched = proc.stdout.decode().strip()
    if not _SHA.match(fetched):
        raise PublishError(f"unexpected commit id after fetch: {fetched!r}")
    return fetched


def _commit(bare: Path, parent: str | None, files: dict[str, str], author: tuple[str, str], message: str) -> str:
    """A commit of ``parent``'s tree with ``files`` replaced (root commit when no parent); the parent itself
    when nothing changes."""
    with tempfile.TemporaryDirectory(dir=bare) as scratch:
        index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        if parent:
            _git(["read-tree", parent], cwd=bare, env=index)
        else:
            _git(["read-tree", "--empty"], cwd=bare, env=index)
        entries = []
        for rel, text in sorted(files.items()):
            blob = _git(["hash-object", "-w", "--stdin"], cwd=bare, input=text.encode("utf-8")).stdout.decode().strip()
            entries.append(f"100644 {blob}\t{rel}")
        if not parent:
            blob = _git(["hash-object", "-w", "--stdin"], cwd=bare, input=b"").stdout.decode().strip()
            entries.append(f"100644 {blob}\t.nojekyll")  # serve the files as they are
        _git(["update-index", "--add", "-z", "--index-info"], cwd=bare, env=index,
             input=b"".join(entry.encode("utf-8") + b"\x00" for entry in entries))
        tree = _git(["write-tree"], cwd=bare, env=index).stdout.decode().strip()
    if parent:
        parent_tree = _git(["rev-parse", f"{parent}^{{tree}}"], cwd=bare).stdout.decode().strip()
        if parent_tree == tree:
            return parent
    name, email = author
    identity = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
                "GIT_COMMITTER_EMAIL": email}
    args = ["commit-tree", tree, *(["-p", parent] if parent else []), "-F", "-"]
    return _git(args, cwd=bare, env=identity, input=message.encode("utf-8")).stdout.decode().strip()


def _push(bare: Path, clone_url: str, branch: str, commit: str, token: str | None) -> subprocess.CompletedProcess:
    """Push ``commit`` to the branch; never forced, so someone else's newer pages are not overwritten."""
    return _git(["push", "--quiet", "--porcelain", "--", clone_url, f"{commit}:refs/heads/{branch}"], cwd=bare,
                token=token, check=False)


def publish_gh_pages(clone_url: str, files: dict[str, str], *, branch: str = "gh-pages", token: str | None,
                     author: tuple[str, str] = ("aither", "aither@localhost"), message: str, workdir: Path) -> str:
    """Commit ``files`` on ``branch`` of ``clone_url`` (an orphan branch if it does not exist) and push.

    Returns the sha of the commit the branch points to afterwards.
    """
    if not _BRANCH.match(branch) or branch.endswith(".lock"):
        raise PublishError(f"not a branch name: {branch!r}")
    checked = {check_path(rel): text for rel, text in files.items()}
    if not checked:
        raise PublishError("nothing to publish")
    with _cache(Path(workdir)) as bare:
        for attempt in (1, 2):
            parent = _remote_head(bare, clone_url, branch, token)
            commit = _commit(bare, parent, checked, author, message)
            if commit == parent:
                return commit  # the branch already holds exactly these files
            proc = _push(bare, clone_url, branch, commit, token)
            if proc.returncode == 0:
                return commit
            output = (proc.stdout + proc.stderr).decode(errors="replace")
            if attempt == 1 and any(marker in output for marker in _REJECTED):
                continue  # someone published meanwhile: redo on top of their commit
            raise PublishError(f"git push to {branch} failed ({proc.returncode}): {output[-800:]}")
    raise AssertionError("unreachable")
