"""PooledSqliteStorage: Dagster's SQLite files, read and written through kept-open connections."""

import os

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from aither_assets.runtime.sqlite_storage import MAX_RUN_ENGINES, PooledSqliteStorage, storage_config


def pooled(base_dir, **config):
    return {"storage": storage_config(base_dir, **config)}


def messages(instance, run_id):
    """The engine events' messages of a run, in order."""
    events = [e.dagster_event for e in instance.all_logs(run_id) if e.dagster_event is not None]
    return [e.message for e in events if e.event_type_value == "ENGINE_EVENT"]


def test_events_written_through_the_pool_are_what_plain_sqlite_storage_reads(tmp_path):
    with dg.instance_for_test(overrides=pooled(tmp_path / "storage")) as instance:
        run = create_run_for_test(instance, job_name="j")
        for i in range(5):
            instance.report_engine_event(f"m{i}", run)
        instance.report_runless_asset_event(dg.AssetMaterialization("a", metadata={"n": 1}))
        run_id = run.run_id
    # the same folder opened by Dagster's own storage (as before this class, or after removing it)
    with dg.instance_for_test(overrides={"storage": {"sqlite": {"base_dir": str(tmp_path / "storage")}}}) as plain:
        assert messages(plain, run_id) == [f"m{i}" for i in range(5)]
        assert plain.get_latest_materialization_event(dg.AssetKey("a")).asset_materialization.metadata["n"].value == 1
        plain.report_engine_event("m5", plain.get_run_by_id(run_id))
    with dg.instance_for_test(overrides=pooled(tmp_path / "storage")) as again:
        assert messages(again, run_id) == [f"m{i}" for i in range(6)]


def test_commits_use_the_configured_synchronous_mode(tmp_path):
    for mode, value in (("NORMAL", 1), ("FULL", 2)):
        with dg.instance_for_test(overrides=pooled(tmp_path / mode, synchronous=mode)) as instance:
            run = create_run_for_test(instance, job_name="j")
            with instance.event_log_storage.run_connection(run.run_id) as conn:
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == value


def test_a_bad_synchronous_mode_is_named(tmp_path):
    with pytest.raises(ValueError, match="synchronous must be one of OFF, NORMAL, FULL, EXTRA, got 'fast'"):
        PooledSqliteStorage(str(tmp_path), synchronous="fast")


def test_open_connections_are_bounded_however_many_runs_are_read(tmp_path):
    with dg.instance_for_test(overrides=pooled(tmp_path / "storage")) as instance:
        runs = [create_run_for_test(instance, job_name="j") for _ in range(MAX_RUN_ENGINES + 5)]
        for run in runs:
            instance.report_engine_event("m", run)
        for run in runs:
            assert messages(instance, run.run_id) == ["m"]
        open_now = instance.event_log_storage.open_engines()
        assert len([name for name in open_now if name != "index"]) == MAX_RUN_ENGINES
        assert runs[-1].run_id in open_now and runs[0].run_id not in open_now  # least recently used went


def test_a_forked_child_writes_through_its_own_connections(tmp_path):
    with dg.instance_for_test(overrides=pooled(tmp_path / "storage")) as instance:
        run = create_run_for_test(instance, job_name="j")
        instance.report_engine_event("m-parent", run)
        pid = os.fork()
        if pid == 0:  # the child: what a run worker forked from a warm process does
            try:
                assert instance.event_log_storage.open_engines() == []
                instance.report_engine_event("m-child", run)
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        instance.report_engine_event("m-parent-again", run)
        assert messages(instance, run.run_id) == ["m-parent", "m-child", "m-parent-again"]


def test_base_dir_defaults_to_dagster_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    storage = PooledSqliteStorage.from_config_value(None, {})
    assert storage.base_dir == str(tmp_path / "storage")
    storage.dispose()
    monkeypatch.delenv("DAGSTER_HOME")
    with pytest.raises(ValueError, match=r"default is \$DAGSTER_HOME/storage"):
        PooledSqliteStorage.from_config_value(None, {})
