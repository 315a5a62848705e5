"""Users, repositories, forks, branches and pushes."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from .base import StoreBase
from .db import Row
from .errors import NotFound, ValidationFailed
from .gitops import BareRepo, identity_env, valid_branch_name
from .tokens import hash_token, new_token

ROLES = ("admin", "maintain", "write", "triage", "read")
# GitHub's collaborator API also speaks the older pull/push vocabulary.
_ROLE_ALIASES = {"pull": "read", "push": "write"}


def public_repo(row: Row) -> dict:
    """The repo as a plain JSON-able dict for Python/CLI callers."""
    return {
        "id": row["id"], "owner": row["owner"], "name": row["name"], "full_name": row["full_name"],
        "private": bool(row["private"]), "fork": bool(row["fork"]), "default_branch": row["default_branch"],
        "clone_url": row["clone_url"], "path": str(row["path"]),
        "parent_id": row["parent_id"], "source_id": row["source_id"],
    }


class ReposMixin(StoreBase):
    # -- users ---------------------------------------------------------------

    def create_user(self, login: str, token: str | None = None, type: str = "User") -> str:
        """Create `login` if needed and register a token for it; returns the token."""
        user = self.ensure_user(login, type)
        token = token or new_token("ghp_")
        with self.db.tx() as c:
            c.execute("INSERT OR REPLACE INTO tokens(hash, user_id, kind) VALUES(?, ?, 'pat')",
                      (hash_token(token), user["id"]))
        return token

    def user(self, login: str) -> dict:
        row = self.user_row(login)
        return {"id": row["id"], "login": row["login"], "type": row["type"]}

    # -- repositories ----------------------------------------------------------

    def create_repo(self, owner: str, name: str, source_dir: str | Path | None = None,
                    default_branch: str = "main", private: bool = False, description: str | None = None,
                    author: str | tuple[str, str] | None = None, message: str = "Initial commit") -> dict:
        """A new bare repo; the files of `source_dir` become its first commit."""
        self.check_repo_name(name)
        if not valid_branch_name(default_branch):
            raise ValidationFailed("Repository", "default_branch", "invalid")
        owner_row = self.ensure_user(owner)
        self._reserve_repo(owner_row, name, private, default_branch, description)
        repo = self.repo_row(owner, name)
        try:
            with self.git_lock():
                bare = self.bare(repo)
                bare.init(default_branch)
                if source_dir is not None:
                    env = identity_env(author, self.db.clock())
                    bare.commit_directory(Path(source_dir).resolve(), default_branch, message, env)
        except BaseException:
            self._forget_repo(repo)
            raise
        return public_repo(repo)

    def _forget_repo(self, repo: Row) -> None:
        with self.db.tx() as c:
            c.execute("DELETE FROM repos WHERE id=?", (repo["id"],))
        shutil.rmtree(repo["path"], ignore_errors=True)

    def _reserve_repo(self, owner: Row, name: str, private: bool, default_branch: str,
                      description: str | None, parent: Row | None = None) -> int:
        now = self.db.now_iso()
        with self.db.tx() as c:
            if c.execute("SELECT 1 FROM repos WHERE owner_id=? AND name=?", (owner["id"], name)).fetchone():
                raise ValidationFailed("Repository", "name", "custom", "name already exists on this account")
            if self.repo_path(owner["login"], name).exists():
                # A leftover directory from an interrupted creation must not be adopted silently.
                shutil.rmtree(self.repo_path(owner["login"], name))
            return self.db.insert("repos", {
                "owner_id": owner["id"], "name": name, "private": int(private), "fork": int(parent is not None),
                "parent_id": parent and parent["id"],
                "source_id": parent and (parent["source_id"] or parent["id"]),
                "default_branch": default_branch, "description": description,
                "created_at": now, "updated_at": now, "pushed_at": now})

    def fork_repo(self, owner: str, name: str, new_owner: str, new_name: str | None = None) -> dict:
        """A real clone of owner/name under new_owner, marked as a fork."""
        parent = self.repo_row(owner, name)
        new_name = new_name or parent["name"]
        self.check_repo_name(new_name)
        owner_row = self.ensure_user(new_owner)
        self._reserve_repo(owner_row, new_name, bool(parent["private"]), parent["default_branch"],
                           parent["description"], parent)
        fork = self.repo_row(new_owner, new_name)
        try:
            with self.git_lock():
                self.bare(fork).clone_from(self.bare(parent))
        except BaseException:
            self._forget_repo(fork)
            raise
        return public_repo(fork)

    def get_repo(self, owner: str, name: str) -> dict:
        return public_repo(self.repo_row(owner, name))

    def add_collaborator(self, owner: str, name: str, login: str, permission: str = "write") -> None:
        permission = _ROLE_ALIASES.get(permission, permission)
        if permission not in ROLES:
            raise ValidationFailed("Collaborator", "permission", "invalid")
        repo = self.repo_row(owner, name)
        user = self.ensure_user(login)
        with self.db.tx() as c:
            c.execute("INSERT OR REPLACE INTO collaborators(repo_id, user_id, permission) VALUES(?, ?, ?)",
                      (repo["id"], user["id"], permission))

    def collaborator_permission(self, owner: str, name: str, login: str) -> str:
        return self.permission(self.repo_row(owner, name), self.user_row(login))

    # -- branches and pushes ------------------------------------------------------

    def branch_sha(self, owner: str, name: str, branch: str) -> str:
        sha = self.bare(self.repo_row(owner, name)).branch_sha(branch) if valid_branch_name(branch) else None
        if sha is None:
            raise NotFound("Branch not found")
        return sha

    def create_branch(self, owner: str, name: str, branch: str, from_ref: str | None = None) -> str:
        """Create `branch` at `from_ref` (default: the default branch); returns its SHA."""
        repo = self.repo_row(owner, name)
        bare = self.bare(repo)
        if not valid_branch_name(branch):
            raise ValidationFailed("Reference", "ref", "invalid", f"invalid branch name: {branch!r}")
        sha = bare.resolve(from_ref or repo["default_branch"])
        if sha is None:
            raise ValidationFailed("Reference", "sha", "invalid", "Object does not exist")
        with self.git_lock():
            if bare.branch_sha(branch):
                raise ValidationFailed("Reference", "ref", "already_exists", "Reference already exists")
            bare.update_ref(f"refs/heads/{branch}", sha)
        return sha

    def commit_files(self, owner: str, name: str, branch: str, files: Mapping[str, str | bytes | None],
                     message: str = "Update files", author: str | tuple[str, str] | None = None,
                     base: str | None = None) -> str:
        """Push one commit writing (or, for None, deleting) `files` onto `branch`.

        A missing branch starts from `base` (404 naming it when that is missing too), by default
        from the default branch.  Open PRs whose head is this branch follow the new commit.
        """
        repo = self.repo_row(owner, name)
        if not valid_branch_name(branch):
            raise ValidationFailed("Reference", "ref", "invalid", f"invalid branch name: {branch!r}")
        bare = self.bare(repo)
        if base is not None and not bare.branch_sha(branch) and not (valid_branch_name(base) and bare.branch_sha(base)):
            raise NotFound(f"Branch not found: {base}")
        env = identity_env(author, self.db.clock())
        try:
            with self.git_lock():
                sha = bare.commit_files(branch, files, message, env, start_branch=base or repo["default_branch"])
        except ValueError as error:
            raise ValidationFailed("Commit", "path", "invalid", str(error)) from None
        self.after_push(repo, branch, sha)
        return sha

    def after_push(self, repo: Row, branch: str, tip: str) -> None:
        """Record a push of `tip` to `branch` of `repo`: pushed_at and the PRs it heads."""
        self.db.update("repos", repo["id"], {"pushed_at": self.db.now_iso()})
        self.sync_prs_for_branch(repo, branch, tip)

    def sync_prs_for_branch(self, repo: Row, branch: str, tip: str) -> None:  # implemented by PullsMixin
        raise NotImplementedError

    def repo_bare(self, owner: str, name: str) -> BareRepo:
        return self.bare(self.repo_row(owner, name))
