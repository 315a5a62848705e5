"""The production dagster.yaml: loads as a real instance on PostgreSQL with the Docker run launcher."""

import uuid

import dagster as dg
import yaml
from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus

from aither_assets.config.operator import OperatorConfig
from aither_assets.runtime.production import (
    DEPLOYMENT_LABEL,
    EMBEDDED_INSTANCE_YAML,
    ProductionInstance,
    instance_settings,
    run_env_var_names,
    write_instance_yaml,
)
from aither_assets.runtime.statestore import libpq_url, sqlalchemy_url


def deployment(tmp_path, **overrides) -> ProductionInstance:
    values = dict(code_image="aither/code:0.1.0-abc", postgres_url_env="AITHER_TEST_PG_URL",
                  env_vars=("AITHER_CONFIG", "GITHUB_TOKEN", "AITHER_TEST_PG_URL"),
                  mounts=(tmp_path / "store", tmp_path / "home"), deployment="test")
    return ProductionInstance(**{**values, **overrides})


def test_queue_limits_are_the_embedded_ones(tmp_path):
    embedded = yaml.safe_load(EMBEDDED_INSTANCE_YAML.read_text())
    settings = instance_settings(deployment(tmp_path))
    assert settings["concurrency"] == embedded["concurrency"]
    assert settings["run_coordinator"] == embedded["run_coordinator"]
    assert settings["storage"] == {"postgres": {"postgres_url": {"env": "AITHER_TEST_PG_URL"}}}
    launcher = settings["run_launcher"]["config"]
    assert launcher["network"] == "host"
    assert launcher["container_kwargs"]["volumes"] == [
        "/var/run/docker.sock:/var/run/docker.sock", f"{tmp_path / 'store'}:{tmp_path / 'store'}",
        f"{tmp_path / 'home'}:{tmp_path / 'home'}"]
    assert launcher["container_kwargs"]["labels"] == {DEPLOYMENT_LABEL: "test"}
    assert settings["run_monitoring"]["enabled"] is True


def test_runs_get_the_config_token_and_database_but_never_the_webhook_secret():
    config = OperatorConfig.model_validate({
        "repository": "acme/app", "github": {"token_env": "TOKEN_X"},
        "registry": {"address": "127.0.0.1:5000", "username_env": "REG_U", "password_env": "REG_P"},
        "storage": {"root": "/srv/aither", "state_postgres_url_env": "PG_URL"}})
    names = run_env_var_names(config)
    assert names == ("AITHER_CONFIG", "TOKEN_X", "REG_U", "REG_P", "PG_URL")
    assert config.github.webhook_secret_env not in names


def test_production_yaml_is_a_real_instance_on_postgres(tmp_path, postgres_url, monkeypatch):
    from dagster_docker import DockerRunLauncher
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    monkeypatch.setenv("AITHER_TEST_PG_URL", sqlalchemy_url(postgres_url))
    home = tmp_path / "home"
    write_instance_yaml(home, deployment(tmp_path))
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert isinstance(instance.run_launcher, DockerRunLauncher)
        assert instance.run_launcher.image == "aither/code:0.1.0-abc"
        assert instance.run_launcher.networks == ["host"]
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert type(instance.run_coordinator).__name__ == "PromptQueuedRunCoordinator"
        assert instance.run_coordinator.dequeue_interval_seconds == 0.5
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 4

        run_id = str(uuid.uuid4())
        instance.add_run(DagsterRun(job_name="pr_pipeline", run_id=run_id, status=DagsterRunStatus.NOT_STARTED,
                                    tags={"aither/pr": "7"}))
    finally:
        instance.dispose()
    # A second instance (another process would do the same) reads the run back from Postgres.
    again = dg.DagsterInstance.from_config(str(home))
    try:
        record = again.get_run_by_id(run_id)
        assert record is not None and record.status == DagsterRunStatus.NOT_STARTED and record.tags["aither/pr"] == "7"
        assert again.get_runs(filters=dg.RunsFilter(tags={"aither/pr": "7"}))[0].run_id == run_id
    finally:
        again.dispose()


def test_one_url_serves_dagster_and_the_shared_tables():
    assert sqlalchemy_url("postgresql://u:p@h:5/db") == "postgresql+psycopg2://u:p@h:5/db"
    assert sqlalchemy_url("postgresql+psycopg2://u@h/db") == "postgresql+psycopg2://u@h/db"
    assert libpq_url("postgresql+psycopg2://u:p@h:5/db") == "postgresql://u:p@h:5/db"
    assert libpq_url("postgresql://u@h/db") == "postgresql://u@h/db"
