"""SQLite storage shared by every process that touches one data dir.

WAL mode plus a busy timeout lets the server, a test and a CLI subcommand
write concurrently; each thread gets its own connection because sqlite3
connections must not cross threads.  Writes run in `BEGIN IMMEDIATE`
transactions so two writers never deadlock upgrading a read lock.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS users(
    id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE COLLATE NOCASE,
    type TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens(
    hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL, kind TEXT NOT NULL,
    installation_id INTEGER, expires_at REAL);
CREATE TABLE IF NOT EXISTS repos(
    id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL, name TEXT NOT NULL COLLATE NOCASE,
    private INTEGER NOT NULL, fork INTEGER NOT NULL, parent_id INTEGER, source_id INTEGER,
    default_branch TEXT NOT NULL, description TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, pushed_at TEXT NOT NULL,
    UNIQUE(owner_id, name));
CREATE TABLE IF NOT EXISTS collaborators(
    repo_id INTEGER NOT NULL, user_id INTEGER NOT NULL, permission TEXT NOT NULL,
    PRIMARY KEY(repo_id, user_id));
CREATE TABLE IF NOT EXISTS apps(
    id INTEGER PRIMARY KEY, slug TEXT NOT NULL, name TEXT NOT NULL, owner_id INTEGER,
    bot_user_id INTEGER NOT NULL, public_key TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS installations(
    id INTEGER PRIMARY KEY, app_id INTEGER NOT NULL, account_id INTEGER NOT NULL,
    created_at TEXT NOT NULL, UNIQUE(app_id, account_id));
CREATE TABLE IF NOT EXISTS installation_repos(
    installation_id INTEGER NOT NULL, repo_id INTEGER NOT NULL,
    PRIMARY KEY(installation_id, repo_id));
CREATE TABLE IF NOT EXISTS issues(
    id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL, number INTEGER NOT NULL,
    title TEXT NOT NULL, body TEXT, user_id INTEGER NOT NULL, state TEXT NOT NULL,
    created_at TEXT NOT NULL, created_key INTEGER NOT NULL,
    updated_at TEXT NOT NULL, updated_key INTEGER NOT NULL, closed_at TEXT,
    UNIQUE(repo_id, number));
CREATE TABLE IF NOT EXISTS pulls(
    id INTEGER PRIMARY KEY, issue_id INTEGER NOT NULL UNIQUE,
    head_repo_id INTEGER NOT NULL, head_ref TEXT NOT NULL, head_sha TEXT NOT NULL,
    base_ref TEXT NOT NULL, draft INTEGER NOT NULL DEFAULT 0,
    merged INTEGER NOT NULL DEFAULT 0, merged_at TEXT, merge_commit_sha TEXT,
    merged_by_id INTEGER, frozen_base_sha TEXT);
CREATE TABLE IF NOT EXISTS labels(
    id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL, name TEXT NOT NULL COLLATE NOCASE,
    color TEXT NOT NULL, description TEXT, UNIQUE(repo_id, name));
CREATE TABLE IF NOT EXISTS issue_labels(
    issue_id INTEGER NOT NULL, label_id INTEGER NOT NULL, PRIMARY KEY(issue_id, label_id));
CREATE TABLE IF NOT EXISTS issue_events(
    id INTEGER PRIMARY KEY, issue_id INTEGER NOT NULL, event TEXT NOT NULL,
    actor_id INTEGER NOT NULL, created_at TEXT NOT NULL, data TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS comments(
    id INTEGER PRIMARY KEY, issue_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
    body TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reviews(
    id INTEGER PRIMARY KEY, pull_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
    state TEXT NOT NULL, body TEXT NOT NULL, commit_id TEXT NOT NULL, submitted_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS statuses(
    id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL, sha TEXT NOT NULL, state TEXT NOT NULL,
    target_url TEXT, description TEXT, context TEXT NOT NULL, creator_id INTEGER NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS statuses_sha ON statuses(repo_id, sha);
CREATE TABLE IF NOT EXISTS check_runs(
    id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL, head_sha TEXT NOT NULL, name TEXT NOT NULL,
    status TEXT NOT NULL, conclusion TEXT, details_url TEXT, external_id TEXT,
    started_at TEXT, completed_at TEXT, output TEXT NOT NULL DEFAULT '{}',
    app_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS deployments(
    id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL, ref TEXT NOT NULL, sha TEXT NOT NULL,
    task TEXT NOT NULL, environment TEXT NOT NULL, original_environment TEXT NOT NULL,
    transient INTEGER NOT NULL, production INTEGER NOT NULL, payload TEXT NOT NULL,
    description TEXT, creator_id INTEGER NOT NULL, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deployment_statuses(
    id INTEGER PRIMARY KEY, deployment_id INTEGER NOT NULL, state TEXT NOT NULL,
    description TEXT NOT NULL, environment TEXT NOT NULL, environment_url TEXT NOT NULL,
    log_url TEXT NOT NULL, target_url TEXT NOT NULL, creator_id INTEGER NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS faults(
    kind TEXT PRIMARY KEY, remaining INTEGER NOT NULL, status INTEGER,
    retry_after INTEGER, path TEXT, path_regex TEXT);
CREATE TABLE IF NOT EXISTS rate_windows(
    key TEXT PRIMARY KEY, window_start REAL NOT NULL, used INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS requests(
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
    query TEXT NOT NULL, status INTEGER NOT NULL, counted INTEGER NOT NULL,
    login TEXT, token_hash TEXT);
CREATE TABLE IF NOT EXISTS hooks(
    id INTEGER PRIMARY KEY, repo_id INTEGER NOT NULL, name TEXT NOT NULL, active INTEGER NOT NULL,
    events TEXT NOT NULL, url TEXT NOT NULL, content_type TEXT NOT NULL, secret TEXT,
    insecure_ssl TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    last_response TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS hooks_repo ON hooks(repo_id);
CREATE TABLE IF NOT EXISTS hook_deliveries(
    id INTEGER PRIMARY KEY, guid TEXT NOT NULL, hook_id INTEGER NOT NULL, repo_id INTEGER NOT NULL,
    event TEXT NOT NULL, action TEXT, payload TEXT NOT NULL, redelivery INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL, status_code INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL, claimed_at REAL, delivered_at TEXT, duration REAL, url TEXT,
    request_headers TEXT, response_headers TEXT, response_body TEXT);
CREATE INDEX IF NOT EXISTS hook_deliveries_status ON hook_deliveries(status, id);
CREATE INDEX IF NOT EXISTS hook_deliveries_hook ON hook_deliveries(hook_id, id);
"""

# Distinct id ranges per table, so a client that confuses e.g. a PR id with
# an issue id or a PR number gets a visibly wrong answer instead of a lucky hit.
ID_BASES = {
    "users": 1000,
    "repos": 200000,
    "issues": 3000000,
    "pulls": 4000000,
    "labels": 5000000,
    "comments": 6000000,
    "issue_events": 7000000,
    "reviews": 8000000,
    "statuses": 9000000,
    "check_runs": 10000000,
    "deployments": 11000000,
    "deployment_statuses": 12000000,
    "installations": 13000000,
    "hooks": 14000000,
    "hook_deliveries": 15000000,
}

Row = dict[str, Any]


def iso(epoch: float) -> str:
    """GitHub's timestamp format: UTC, whole seconds, `Z` suffix."""
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dict_factory(cursor: sqlite3.Cursor, row: tuple) -> Row:
    return {col[0]: value for col, value in zip(cursor.description, row, strict=True)}


class Database:
    """Per-thread sqlite connections onto `DIR/state.sqlite3`."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time):
        self.path = path
        self.clock = clock
        self._local = threading.local()
        # Every statement is idempotent, so concurrent first openings are safe.
        self.conn().executescript(SCHEMA)

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.row_factory = _dict_factory
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def close_thread_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; nested use joins the outer one."""
        conn = self.conn()
        if conn.in_transaction:
            yield conn
            return
        self._local.after_commit = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            self._local.after_commit = []
            raise
        conn.execute("COMMIT")
        callbacks, self._local.after_commit = self._local.after_commit, []
        for callback in callbacks:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the current transaction commits (now if none is open).

        Waking another thread before the commit would let it look too early.
        """
        if self.conn().in_transaction:
            self._local.after_commit.append(callback)
        else:
            callback()

    def one(self, sql: str, *args: Any) -> Row | None:
        return self.conn().execute(sql, args).fetchone()

    def all(self, sql: str, *args: Any) -> list[Row]:
        return self.conn().execute(sql, args).fetchall()

    def scalar(self, sql: str, *args: Any) -> Any:
        row = self.conn().execute(sql, args).fetchone()
        return None if row is None else next(iter(row.values()))

    def insert(self, table: str, values: Row) -> int:
        """Insert a row with the next id of the table's range; returns the id."""
        with self.tx() as c:
            base = ID_BASES.get(table, 0)
            new_id = c.execute(f"SELECT COALESCE(MAX(id), ?) + 1 AS n FROM {table}", (base,)).fetchone()["n"]
            cols = ["id", *values]
            marks = ",".join("?" for _ in cols)
            c.execute(f"INSERT INTO {table}({','.join(cols)}) VALUES({marks})", (new_id, *values.values()))
            return new_id

    def update(self, table: str, row_id: int, values: Row) -> None:
        sets = ",".join(f"{k}=?" for k in values)
        with self.tx() as c:
            c.execute(f"UPDATE {table} SET {sets} WHERE id=?", (*values.values(), row_id))

    def tick(self) -> tuple[str, int]:
        """Now as (ISO timestamp, strictly increasing sort key in microseconds).

        GitHub timestamps have one-second resolution, so two changes within a
        second would tie; the hidden key keeps `sort=updated` exact.
        """
        with self.tx() as c:
            row = c.execute("SELECT value FROM meta WHERE key='clock'").fetchone()
            last = int(row["value"]) if row else 0
            key = max(int(self.clock() * 1_000_000), last + 1)
            c.execute("INSERT OR REPLACE INTO meta(key, value) VALUES('clock', ?)", (str(key),))
        return iso(key / 1_000_000), key

    def now_iso(self) -> str:
        return iso(self.clock())
