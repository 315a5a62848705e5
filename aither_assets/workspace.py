"""Checkouts of exactly one PR head: a cached bare clone per repository, an export per run.

The export is ``git archive`` of the head SHA, unpacked with tarfile's "data"
filter: no ``.git`` folder (PR code cannot read the cache's config or other
PRs' objects), no absolute paths, no links out of the tree. Credentials for
fetching go through the environment of the fetch alone, never into a config
file or a URL that PR code could see.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from aither_assets.runtime.gitcmd import auth_env, locked_bare_repo, run_git

_SHA = re.compile(r"^[0-9a-f]{40}$")


class WorkspaceError(RuntimeError):
    pass


def safe_name(text: str, limit: int = 60) -> str:
    """A PR-controlled string as one safe path component (with a hash when anything was changed)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip(".-")[:limit]
    if cleaned == text and cleaned:
        return cleaned
    return f"{cleaned or 'x'}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


@dataclass(frozen=True)
class Commit:
    sha: str
    message: str
    author: str
    date: str  # ISO 8601, committer date
    timestamp: int  # committer time, seconds since the epoch (reproducible archives use it)


def _git(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300,
         stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    return run_git(args, cwd, env=env, stdout=stdout, timeout=timeout, error=WorkspaceError)


class RepoCache:
    """One bare repository per GitHub repository, shared by all runs and fetched incrementally."""

    def __init__(self, root: Path):
        self.root = root

    def bare_path(self, repository: str) -> Path:
        return self.root / "git" / f"{safe_name(repository.replace('/', '__'))}.git"

    def _locked(self, repository: str):
        # One fetch per repository at a time.
        bare = self.bare_path(repository)
        return locked_bare_repo(bare, bare.with_suffix(".lock"), error=WorkspaceError)

    def fetch_pr(self, repository: str, clone_url: str, number: int, sha: str, token: str | None = None) -> None:
        """Make sure ``sha`` (the head of PR ``number``) is in the cache."""
        if not _SHA.match(sha):
            raise WorkspaceError(f"not a full commit SHA: {sha!r}")
        with self._locked(repository) as bare:
            if self._has(bare, sha):
                return
            refspec = f"+refs/pull/{int(number)}/head:refs/aither/pull/{int(number)}"
            _git(["fetch", "--quiet", "--no-tags", clone_url, refspec], cwd=bare, env=auth_env(token))
            if not self._has(bare, sha):
                # The PR moved on since the run was requested; its old head may still be on the server.
                try:
                    _git(["fetch", "--quiet", "--no-tags", clone_url, sha], cwd=bare, env=auth_env(token))
                except WorkspaceError:
                    pass
            if not self._has(bare, sha):
                raise WorkspaceError(f"commit {sha} of PR #{number} is not on the server any more (force-pushed away?)")

    @staticmethod
    def _has(bare: Path, sha: str) -> bool:
        return subprocess.run(["git", "cat-file", "-e", f"{sha}^{{commit}}"], cwd=bare,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0

    def commit(self, repository: str, sha: str) -> Commit:
        fmt = "%H%x00%an <%ae>%x00%cI%x00%ct%x00%B"
        out = _git(["log", "-1", f"--format={fmt}", sha],
                   cwd=self.bare_path(repository)).stdout.decode("utf-8", "replace")
        full, author, date, stamp, message = out.split("\x00", 4)
        return Commit(sha=full, message=message.strip(), author=author, date=date, timestamp=int(stamp))

    def export(self, repository: str, sha: str, dest: Path) -> Path:
        """Unpack the tree of ``sha`` into ``dest`` (which must not exist)."""
        dest.mkdir(parents=True)
        with tempfile.TemporaryFile() as archive:
            _git(["archive", "--format=tar", sha], cwd=self.bare_path(repository), stdout=archive)
            archive.seek(0)
            with tarfile.open(fileobj=archive) as tar:
                if hasattr(tarfile, "data_filter"):
                    tar.extractall(dest, filter="data")
                else:
                    extract_checked(tar, dest)
        return dest


def extract_checked(tar: tarfile.TarFile, dest: Path) -> None:
    """What the "data" filter does, for Pythons without it (Debian 12's 3.11.2; it came in 3.11.4).

    One member at a time, so the links already written are resolved when the next one is checked:
    only files, folders and links, no path or link target outside ``dest``, no setuid or
    group/other-writable modes, owned by whoever unpacks.
    """
    root = Path(dest).resolve()

    def inside(path: str) -> bool:
        real = Path(path)
        real = real.resolve() if real.is_absolute() else (root / real).resolve()
        return real == root or root in real.parents

    for member in tar.getmembers():
        if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
            raise WorkspaceError(f"{member.name!r} is not a file, folder or link")
        if Path(member.name).is_absolute() or not inside(member.name):
            raise WorkspaceError(f"{member.name!r} would be written outside the tree")
        if member.issym():
            if Path(member.linkname).is_absolute() or not inside(str(Path(member.name).parent / member.linkname)):
                raise WorkspaceError(f"link {member.name!r} -> {member.linkname!r} points outside the tree")
        elif member.islnk() and (Path(member.linkname).is_absolute() or not inside(member.linkname)):
            raise WorkspaceError(f"hard link {member.name!r} -> {member.linkname!r} points outside the tree")
        if member.isfile() or member.isdir():
            member.mode = (member.mode & 0o755) | (0o755 if member.isdir() else 0o644)
        member.uid, member.gid, member.uname, member.gname = os.getuid(), os.getgid(), "", ""
        tar.extract(member, root, numeric_owner=True)


@contextmanager
def checkout(cache: RepoCache, workspaces: Path, repository: str, clone_url: str, number: int, sha: str,
             run_id: str, token: str | None = None) -> Iterator[Path]:
    """An isolated tree of exactly ``sha`` for one run, removed afterwards whatever happens."""
    cache.fetch_pr(repository, clone_url, number, sha, token)
    dest = workspaces / f"pr-{int(number)}-{sha[:12]}-{safe_name(run_id)[:12]}"
    if dest.exists():
        shutil.rmtree(dest)
    try:
        yield cache.export(repository, sha, dest)
    finally:
        shutil.rmtree(dest, ignore_errors=True)
