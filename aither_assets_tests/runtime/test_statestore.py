"""The shared tables' two backends: one SQL text, the same guarantees on SQLite and on PostgreSQL."""

import multiprocessing
import threading

import pytest

from aither_assets.runtime.statestore import PostgresStore, SqliteStore, state_store

SCHEMA = "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        return SqliteStore(tmp_path / "counters.sqlite3")
    return PostgresStore(request.getfixturevalue("postgres_url"), "counters")


def _bump(store, times: int) -> None:
    for _ in range(times):
        with store.write() as cur:
            row = cur.execute("SELECT value FROM counters WHERE name = ?", ("n",)).fetchone()
            cur.execute("INSERT INTO counters VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                        ("n", (row[0] if row else 0) + 1))


def test_read_then_write_transactions_never_interleave_across_processes(store):
    # A read-modify-write without the store's write lock would lose increments under this race.
    store.create(SCHEMA)
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_bump, args=(store, 40)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    with store.read() as cur:
        assert cur.execute("SELECT value FROM counters WHERE name = ?", ("n",)).fetchone() == (120,)


def test_a_failed_transaction_leaves_nothing(store):
    store.create(SCHEMA)
    with pytest.raises(RuntimeError):
        with store.write() as cur:
            cur.execute("INSERT INTO counters VALUES (?, ?)", ("lost", 1))
            raise RuntimeError("after the insert")
    with store.read() as cur:
        assert cur.execute("SELECT count(*) FROM counters").fetchone() == (0,)


def test_create_is_idempotent_and_safe_from_many_threads(store):
    threads = [threading.Thread(target=store.create, args=(SCHEMA,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.create(SCHEMA)
    with store.read() as cur:
        assert cur.execute("SELECT count(*) FROM counters").fetchone() == (0,)


def test_the_url_and_its_password_never_show(postgres_url):
    store = PostgresStore(postgres_url.replace("postgres@", "postgres:s3cret@"), "ports")
    assert "s3cret" not in repr(store) and "127.0.0.1" not in repr(store)


def test_store_names_are_checked(postgres_url):
    with pytest.raises(ValueError, match="state store name"):
        PostgresStore(postgres_url, "ports; DROP TABLE x")


def test_the_profile_picks_the_backend(tmp_path, postgres_url):
    assert isinstance(state_store("head-claims", tmp_path, None), SqliteStore)
    assert state_store("head-claims", tmp_path, None).path == tmp_path / "head-claims.sqlite3"
    pg = state_store("head-claims", tmp_path, postgres_url)
    assert isinstance(pg, PostgresStore) and pg.name == "head_claims"
