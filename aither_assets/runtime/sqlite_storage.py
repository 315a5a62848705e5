"""Dagster's SQLite storage with the event log's connections kept open (set in dagster.yaml).

Dagster's SqliteEventLogStorage builds a SQLAlchemy engine, opens a connection, commits with a
full fsync and closes it again for every event it writes: about 6 ms per event here, 15 ms per
materialization (which also goes to the index database). A run writes some 130 events, most of
them between its steps, so on the embedded stack that was 0.2-0.3 s per step (a run of 9 trivial
steps: 2.8-3.3 s before, 0.8-1.1 s after). This class writes the same files with the same schema
through one pooled engine per database, and commits with ``PRAGMA synchronous=NORMAL``: in WAL mode
a commit is still atomic and survives a crashed process; only a power loss may drop the last ones.

Engines are per process (a forked run worker opens its own) and a bounded number of per-run
databases keep theirs (least recently used go), so a webserver reading thousands of runs never
holds thousands of files open. Production deployments use Postgres (dagster-postgres) instead.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster import Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from dagster._serdes import ConfigurableClassData
from dagster._utils import mkdir_p
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
MAX_RUN_ENGINES = 8  # per-run databases that keep an open connection (plus the index's)


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None, synchronous: str = "NORMAL"):
        if synchronous not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}, got {synchronous!r}")
        self._synchronous = synchronous
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_pid = os.getpid()
        super().__init__(base_dir, inst_data)

    def _engine(self, shard: str) -> Engine:
        if self._engines_pid != os.getpid():  # a forked child never uses its parent's connections
            self._engines, self._engines_pid = OrderedDict(), os.getpid()
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        engine = create_engine(
            # One connection kept, used by whichever thread holds self._db_lock; Dagster's schema set-up
            # of a new database opens a second one for a moment (overflow, closed when returned).
            self.conn_string_for_shard(shard), poolclass=QueuePool, pool_size=1, max_overflow=2,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        synchronous = self._synchronous

        @event.listens_for(engine, "connect")
        def _set_synchronous(dbapi_connection, _record) -> None:
            dbapi_connection.execute(f"PRAGMA synchronous={synchronous}")

        self._engines[shard] = engine
        run_shards = [name for name in self._engines if name != INDEX_SHARD_NAME]
        for name in run_shards[:-MAX_RUN_ENGINES]:
            self._engines.pop(name).dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Any]:
        with self._db_lock:  # as the base class: one connection in use at a time per storage
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn

    def open_engines(self) -> list[str]:
        """The databases this process holds a connection to (tests, diagnostics)."""
        return list(self._engines) if self._engines_pid == os.getpid() else []

    def dispose(self) -> None:
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()
        super().dispose()


class PooledSqliteStorage(DagsterSqliteStorage):
    """``storage: sqlite``'s files and layout, with :class:`PooledSqliteEventLogStorage`.

    ``base_dir`` defaults to ``$DAGSTER_HOME/storage``, where ``storage: sqlite`` keeps them; name it
    (:func:`storage_config`) wherever an instance may be opened without DAGSTER_HOME.
    """

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None, synchronous: str = "NORMAL"):
        self.base_dir = base_dir
        self._synchronous = synchronous
        self._run_storage = SqliteRunStorage.from_local(_runs_directory(base_dir))
        self._event_log_storage = PooledSqliteEventLogStorage(_event_logs_directory(base_dir), synchronous=synchronous)
        self._schedule_storage = SqliteScheduleStorage.from_local(_schedule_directory(base_dir))
        self._inst_data = inst_data
        super(DagsterSqliteStorage, self).__init__()

    @classmethod
    def config_type(cls):
        return {
            "base_dir": Field(StringSource, is_required=False),
            "synchronous": Field(str, is_required=False, default_value="NORMAL"),
        }

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: dict) -> "PooledSqliteStorage":
        base_dir = config_value.get("base_dir")
        if not base_dir:
            home = os.environ.get("DAGSTER_HOME")
            if not home:
                raise ValueError("PooledSqliteStorage: set storage.custom.config.base_dir in dagster.yaml, "
                                 "or DAGSTER_HOME (the default is $DAGSTER_HOME/storage)")
            base_dir = os.path.join(home, "storage")
        mkdir_p(base_dir)
        return cls(base_dir, inst_data=inst_data, synchronous=config_value.get("synchronous", "NORMAL"))


def storage_config(base_dir: Path | str, synchronous: str = "NORMAL") -> dict:
    """The ``storage:`` block of a dagster.yaml that uses :class:`PooledSqliteStorage` in ``base_dir``."""
    return {"custom": {"module": __name__, "class": PooledSqliteStorage.__name__,
                       "config": {"base_dir": str(base_dir), "synchronous": synchronous}}}
