"""Where the control plane's own small shared tables live (head claims, preview ports).

Two backends behind one interface, chosen by the operator config:

- **SQLite** (embedded profile): a file under the storage root, one write lock per file
  (``BEGIN IMMEDIATE``, see sqlitefile.py). Right for one machine.
- **PostgreSQL** (production profile): tables in a database every process and machine reaches.
  A write transaction first takes a transaction-scoped advisory lock named after the store, so
  writers of one store queue exactly as SQLite's write lock makes them, on any number of machines.

Callers write one SQL text for both: ``?`` placeholders, ``INSERT ... ON CONFLICT``, and column
types both understand (INTEGER, TEXT, DOUBLE PRECISION).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from aither_assets.runtime import sqlitefile


class Cursor(Protocol):
    """What a transaction hands its caller: run one statement, read its rows."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> "Cursor": ...
    def fetchone(self) -> tuple | None: ...
    def fetchall(self) -> list[tuple]: ...
    @property
    def rowcount(self) -> int: ...


class StateStore(Protocol):
    """A named set of tables shared by every process of the deployment."""

    name: str

    def create(self, schema: str) -> None:
        """Apply ``schema`` (``CREATE TABLE IF NOT EXISTS`` statements, ``;``-separated)."""

    def read(self) -> contextlib.AbstractContextManager[Cursor]:
        """A read-only look at the committed rows."""

    def write(self) -> contextlib.AbstractContextManager[Cursor]:
        """A transaction no other writer of this store runs beside: committed on success, rolled back on error."""


class SqliteStore:
    """The embedded profile: one SQLite file per store."""

    def __init__(self, path: str | Path, busy_timeout: float = 30.0):
        self.path, self.name, self._busy_timeout = Path(path), Path(path).stem, busy_timeout

    def create(self, schema: str) -> None:
        sqlitefile.create(self.path, schema, self._busy_timeout)

    @contextlib.contextmanager
    def read(self) -> Iterator[Cursor]:
        with sqlitefile.connect(self.path, self._busy_timeout) as conn:
            yield conn.cursor()

    @contextlib.contextmanager
    def write(self) -> Iterator[Cursor]:
        with sqlitefile.write_transaction(self.path, self._busy_timeout) as conn:
            yield conn.cursor()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"


class _PgCursor:
    """psycopg2's cursor speaking the ``?`` placeholders the SQLite side uses."""

    _PLACEHOLDER = re.compile(r"\?")

    def __init__(self, cursor):
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> "_PgCursor":
        # No SQL of ours has a literal "?" or "%": the translation is a plain substitution.
        self._cursor.execute(self._PLACEHOLDER.sub("%s", sql), tuple(params))
        return self

    def fetchone(self):
        return self._cursor.fetchone()

    def fetchall(self):
        return self._cursor.fetchall()

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


def libpq_url(url: str) -> str:
    """``url`` as libpq reads it: the deployment's one URL is SQLAlchemy's ``postgresql+psycopg2://...``
    (Dagster's storage reads it too, and SQLAlchemy 2.1 would otherwise pick the psycopg 3 driver)."""
    return re.sub(r"^postgres(?:ql)?\+[a-z0-9]+://", "postgresql://", url)


def sqlalchemy_url(url: str) -> str:
    """``url`` with the psycopg2 driver named, for Dagster's Postgres storage (see :func:`libpq_url`)."""
    return re.sub(r"^postgres(?:ql)?(?:\+[a-z0-9]+)?://", "postgresql+psycopg2://", url)


class PostgresStore:
    """The production profile: the store's tables in a PostgreSQL database (``url``: a libpq or
    ``postgresql+psycopg2://`` URL)."""

    def __init__(self, url: str, name: str, connect_timeout: int = 10):
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", name):
            raise ValueError(f"state store name must be 1-41 of a-z 0-9 _ starting with a letter, got {name!r}")
        self.url, self.name, self._connect_timeout = url, name, connect_timeout
        # One 64-bit advisory lock key per store: writers of different stores never wait for each other.
        self._lock_key = int.from_bytes(hashlib.sha256(f"aither/{name}".encode()).digest()[:8], "big", signed=True)

    @contextlib.contextmanager
    def _connection(self):
        import psycopg2  # production profile only: the embedded stack never needs the driver

        conn = psycopg2.connect(libpq_url(self.url), connect_timeout=self._connect_timeout)
        try:
            yield conn
        finally:
            conn.close()

    def create(self, schema: str) -> None:
        with self.write() as cur:
            for statement in (s.strip() for s in schema.split(";")):
                if statement:
                    cur.execute(statement)

    @contextlib.contextmanager
    def read(self) -> Iterator[Cursor]:
        with self._connection() as conn:
            conn.set_session(readonly=True, autocommit=True)
            with conn.cursor() as cur:
                yield _PgCursor(cur)

    @contextlib.contextmanager
    def write(self) -> Iterator[Cursor]:
        with self._connection() as conn:
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
                    yield _PgCursor(cur)
                conn.commit()
            except BaseException:
                conn.rollback()
                raise

    def __repr__(self) -> str:
        # The URL may carry a password: never shown.
        return f"PostgresStore(name={self.name!r})"


def state_store(name: str, storage_root: Path, postgres_url: str | None) -> StateStore:
    """The store ``name``: Postgres tables when the deployment names a database, else a file under the storage root."""
    if postgres_url:
        return PostgresStore(postgres_url, name.replace("-", "_"))
    return SqliteStore(storage_root / f"{name}.sqlite3")
