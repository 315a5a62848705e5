"""Small SQLite files that several processes share (port allocations, head claims).

Every call opens its own connection, so the files can be used from forked processes and threads;
writes run in ``BEGIN IMMEDIATE`` transactions (the database's write lock), so two processes never
both read-then-write the same rows. WAL + ``synchronous=NORMAL``: commits are atomic and survive a
crashed process; only a power loss could drop the last ones.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path


def create(path: Path, schema: str, busy_timeout: float) -> None:
    """The file (and its folder) with ``schema`` applied, in WAL mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with connect(path, busy_timeout) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(schema)


@contextlib.contextmanager
def connect(path: Path, busy_timeout: float) -> Iterator[sqlite3.Connection]:
    # isolation_level=None: transactions are begun and committed explicitly (write_transaction).
    conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        conn.execute("PRAGMA synchronous=NORMAL")
        yield conn
    finally:
        conn.close()


@contextlib.contextmanager
def write_transaction(path: Path, busy_timeout: float) -> Iterator[sqlite3.Connection]:
    """An immediate (write-locked) transaction: committed on success, rolled back on error."""
    with connect(path, busy_timeout) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
