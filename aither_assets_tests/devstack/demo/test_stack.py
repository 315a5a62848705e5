"""The demo's Dagster instance folder: the project's settings plus pooled storage in that folder."""

import dagster as dg
import yaml

from aither_assets.devstack.demo.stack import PROJECT_ROOT, dagster_home
from aither_assets.runtime.sqlite_storage import PooledSqliteEventLogStorage


def test_dagster_home_uses_pooled_storage_in_its_own_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # the folder is named in the file, not taken from the env
    home = dagster_home(tmp_path)
    settings = yaml.safe_load((home / "dagster.yaml").read_text())
    project = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    assert {k: v for k, v in settings.items() if k != "storage"} == project
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        assert (home / "storage" / "history" / "runs.db").exists()
        assert instance.get_runs() == []
    finally:
        instance.dispose()
