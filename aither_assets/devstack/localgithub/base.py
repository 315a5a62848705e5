"""Shared plumbing of the store: data dir layout, lookups and permissions."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from aither_assets.runtime.gitcmd import file_lock

from .db import Database, Row
from .errors import NotFound, ValidationFailed
from .gitops import BareRepo

# GitHub's rules: logins are alphanumerics and single hyphens (bots end in
# "[bot]"); repository names are [A-Za-z0-9._-].  Enforcing them keeps paths
# on disk and in URLs safe.
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?")
_REPO_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")

PERMISSION_ORDER = ("none", "read", "triage", "write", "maintain", "admin")


def permission_at_least(have: str, need: str) -> bool:
    return PERMISSION_ORDER.index(have) >= PERMISSION_ORDER.index(need)


class StoreBase:
    """Data dir, database and the lookups every part of the store needs."""

    def __init__(self, data_dir: str | Path, clock: Callable[[], float] = time.time):
        self.data_dir = Path(data_dir).resolve()
        (self.data_dir / "repos").mkdir(parents=True, exist_ok=True)
        self.db = Database(self.data_dir / "state.sqlite3", clock)

    def close(self) -> None:
        """Close this thread's database connection (a new one opens on demand)."""
        self.db.close_thread_connection()

    @contextmanager
    def git_lock(self) -> Iterator[None]:
        with file_lock(self.data_dir / "git.lock"):
            yield

    # -- users -------------------------------------------------------------------

    def user_row(self, login: str) -> Row:
        row = self.db.one("SELECT * FROM users WHERE login=?", login)
        if row is None:
            raise NotFound()
        return row

    def user_by_id(self, user_id: int) -> Row:
        row = self.db.one("SELECT * FROM users WHERE id=?", user_id)
        if row is None:
            raise NotFound()
        return row

    def ensure_user(self, login: str, type: str = "User") -> Row:
        """The user `login`, created on first mention (seeding convenience)."""
        if not isinstance(login, str) or not _LOGIN.fullmatch(login):
            raise ValidationFailed("User", "login", "invalid", f"invalid login: {login!r}")
        with self.db.tx() as c:
            row = c.execute("SELECT * FROM users WHERE login=?", (login,)).fetchone()
            if row is None:
                self.db.insert("users", {"login": login, "type": type, "created_at": self.db.now_iso()})
                row = c.execute("SELECT * FROM users WHERE login=?", (login,)).fetchone()
        return row

    # -- repositories ----------------------------------------------------------------

    _REPO_SELECT = ("SELECT r.*, u.login AS owner, u.login || '/' || r.name AS full_name "
                    "FROM repos r JOIN users u ON u.id = r.owner_id ")

    def repo_row(self, owner: str, name: str) -> Row:
        row = self.db.one(self._REPO_SELECT + "WHERE u.login=? AND r.name=?", owner, name)
        if row is None:
            raise NotFound()
        return self._with_paths(row)

    def repo_by_id(self, repo_id: int) -> Row:
        row = self.db.one(self._REPO_SELECT + "WHERE r.id=?", repo_id)
        if row is None:
            raise NotFound()
        return self._with_paths(row)

    def _with_paths(self, row: Row) -> Row:
        row["path"] = self.repo_path(row["owner"], row["name"])
        row["clone_url"] = row["path"].as_uri()
        return row

    def repo_path(self, owner: str, name: str) -> Path:
        return self.data_dir / "repos" / owner / f"{name}.git"

    def bare(self, repo: Row) -> BareRepo:
        return BareRepo(repo["path"])

    @staticmethod
    def check_repo_name(name: str) -> None:
        if not isinstance(name, str) or not _REPO_NAME.fullmatch(name) or name in (".", ".."):
            raise ValidationFailed("Repository", "name", "invalid", f"invalid repository name: {name!r}")

    # -- permissions -------------------------------------------------------------------

    def permission(self, repo: Row, user: Row | None) -> str:
        """The user's role on the repo: admin/maintain/write/triage/read/none."""
        if user is not None:
            if user["id"] == repo["owner_id"]:
                return "admin"
            row = self.db.one("SELECT permission FROM collaborators WHERE repo_id=? AND user_id=?",
                              repo["id"], user["id"])
            if row:
                return row["permission"]
        return "none" if repo["private"] else "read"

    def installation_covers(self, installation_id: int, repo_id: int) -> bool:
        return self.db.one("SELECT 1 AS x FROM installation_repos WHERE installation_id=? AND repo_id=?",
                           installation_id, repo_id) is not None
