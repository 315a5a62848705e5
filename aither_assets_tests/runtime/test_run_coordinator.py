"""PromptQueuedRunCoordinator: the project's dagster.yaml gives a real instance a half-second run queue."""

import shutil

import dagster as dg
import pytest
import yaml
from dagster._core.test_utils import instance_for_test
from dagster._daemon.controller import create_daemon_of_type
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon

from aither_assets.runtime.production import EMBEDDED_INSTANCE_YAML
from aither_assets.runtime.run_coordinator import PromptQueuedRunCoordinator

COORDINATOR = yaml.safe_load(EMBEDDED_INSTANCE_YAML.read_text())["run_coordinator"]


@pytest.fixture
def project_instance(tmp_path):
    """An instance made from the project's dagster.yaml (its queue, limits and launcher)."""
    shutil.copy(EMBEDDED_INSTANCE_YAML, tmp_path / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    try:
        yield instance
    finally:
        instance.dispose()


def test_the_project_instance_queues_runs_and_looks_every_half_second(project_instance):
    coordinator = project_instance.run_coordinator
    assert isinstance(coordinator, PromptQueuedRunCoordinator)
    assert coordinator.dequeue_interval_seconds == 0.5
    # the `concurrency` block still sets the limits Dagster's daemon applies
    queue = project_instance.get_concurrency_config().run_queue_config
    assert queue.max_concurrent_runs == 4
    assert {limit["key"] for limit in queue.tag_concurrency_limits} == {"aither/pr", "aither/ring", "aither/report-pr"}
    # Dagster's own daemon factory takes the interval from the coordinator
    assert create_daemon_of_type(QueuedRunCoordinatorDaemon.daemon_type(), project_instance).interval_seconds == 0.5


@pytest.mark.parametrize("interval", [0, -1])
def test_an_interval_that_would_spin_the_daemon_is_refused(interval):
    config = {**COORDINATOR, "config": {"dequeue_interval_seconds": interval}}
    with pytest.raises(ValueError, match="dequeue_interval_seconds must be > 0"):
        with instance_for_test(overrides={"run_coordinator": config}) as instance:
            instance.run_coordinator  # noqa: B018 (built lazily)

