"""WarmRunLauncher against a real instance: runs start from the forkserver, finish, fail, cancel."""

import os
import sys
import time
from pathlib import Path

import pytest
from dagster import DagsterRunStatus
from dagster._core.test_utils import (
    create_run_for_test,
    in_process_test_workspace,
    instance_for_test,
    poll_for_finished_run,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

from aither_assets.run_launcher import WORKER_TAG, WarmRunLauncher, live_worker_pid, process_start_ticks, worker_tag

LAUNCHER = {"module": "aither_assets.run_launcher", "class": "WarmRunLauncher"}


@pytest.fixture(scope="module")
def instance():
    with instance_for_test(overrides={"run_launcher": LAUNCHER}) as instance:
        yield instance


@pytest.fixture(scope="module")
def workspace(instance):
    origin = LoadableTargetOrigin(executable_path=sys.executable, module_name="aither_assets_tests.launcher_location",
                                  working_directory=str(Path(__file__).parent.parent))
    with in_process_test_workspace(instance, origin) as workspace:
        yield workspace


def remote_job(workspace, name):
    location = workspace.get_code_location(next(iter(workspace.get_code_location_entries())))
    return next(iter(location.get_repositories().values())).get_full_job(name)


def launch(instance, workspace, name, run_config=None, *, executable=None):
    job = remote_job(workspace, name)
    code_origin = job.get_python_origin()
    if executable:
        code_origin = code_origin._replace(
            repository_origin=code_origin.repository_origin._replace(executable_path=executable))
    run = create_run_for_test(instance, job_name=name, run_config=run_config or {}, job_snapshot=job.job_snapshot,
                              remote_job_origin=job.get_remote_origin(), job_code_origin=code_origin)
    instance.launch_run(run.run_id, workspace)
    return run.run_id


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_the_instance_uses_the_warm_launcher(instance):
    assert isinstance(instance.run_launcher, WarmRunLauncher)


def test_a_run_is_forked_from_the_forkserver_and_succeeds(instance, workspace, tmp_path):
    out = tmp_path / "pid"
    run_id = launch(instance, workspace, "pid_job", {"ops": {"write_pid": {"config": {"out": str(out)}}}})
    run = poll_for_finished_run(instance, run_id, timeout=60)
    assert run.status == DagsterRunStatus.SUCCESS
    worker_pid, parent_pid = map(int, out.read_text().split())
    # the job's op runs in its own step process (multiprocess executor) whose parent is the run worker
    assert run.tags[WORKER_TAG].startswith(f"{parent_pid}:")
    # the worker is not our child: the forkserver started it
    assert parent_pid != os.getpid() and worker_pid != os.getpid()
    assert wait_for(lambda: live_worker_pid(run.tags[WORKER_TAG]) is None, 10)  # it exits after the run ends
    assert instance.run_launcher.check_run_worker_health(run).status.value == "FAILED"


def test_a_failing_run_is_reported_failed(instance, workspace):
    run = poll_for_finished_run(instance, launch(instance, workspace, "failing_job"), timeout=60)
    assert run.status == DagsterRunStatus.FAILURE
    messages = [e.message for e in instance.all_logs(run.run_id)]
    assert any("this run fails on purpose" in (m or "") for m in messages) or any(
        "this run fails on purpose" in str(e.dagster_event.event_specific_data)
        for e in instance.all_logs(run.run_id) if e.dagster_event)


def test_terminate_cancels_a_running_run_from_any_launcher_instance(instance, workspace, tmp_path):
    started = tmp_path / "started"
    run_id = launch(instance, workspace, "long_job",
                    {"execution": {"config": {"in_process": {}}},
                     "ops": {"wait_for_cancel": {"config": {"out": str(started)}}}})
    assert wait_for(started.exists, 60), "the long run never started its op"
    run = instance.get_run_by_id(run_id)
    pid = live_worker_pid(run.tags[WORKER_TAG])
    assert pid is not None
    assert instance.run_launcher.check_run_worker_health(run).status.value == "RUNNING"
    # A second launcher (as in the webserver or a sensor's process) finds the worker by its tag.
    other = WarmRunLauncher()
    other.register_instance(instance)
    assert other.terminate(run_id) is True
    run = poll_for_finished_run(instance, run_id, timeout=60)
    assert run.status == DagsterRunStatus.CANCELED
    assert wait_for(lambda: live_worker_pid(run.tags[WORKER_TAG]) is None, 10)
    assert other.terminate(run_id) is False  # finished: nothing to do


def test_a_code_location_on_another_interpreter_goes_to_the_default_launcher(instance, workspace):
    # The default launcher needs a gRPC code location; the in-process test workspace has none,
    # so its refusal shows the run was handed to it.
    with pytest.raises(Exception, match="GRPC server"):
        launch(instance, workspace, "pid_job", executable="/usr/bin/python3-other")


def test_worker_tags_name_one_process_not_a_recycled_pid():
    tag = worker_tag(os.getpid())
    assert live_worker_pid(tag) == os.getpid()
    ticks = process_start_ticks(os.getpid())
    assert live_worker_pid(f"{os.getpid()}:{ticks + 1}") is None
    for bad in (None, "", "12", "x:1", "1:y", f"{2**22 + 7}:1"):
        assert live_worker_pid(bad) is None
