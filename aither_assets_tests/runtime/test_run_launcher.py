"""WarmRunLauncher against a real instance: runs start from the forkserver, finish, fail, cancel."""

import json
import os

import pytest
from dagster import DagsterRunStatus
from dagster._core.test_utils import poll_for_finished_run

from aither_assets.runtime import run_launcher
from aither_assets.runtime.run_launcher import (
    WORKER_TAG,
    WarmRunLauncher,
    live_worker_pid,
    process_start_ticks,
    source_fingerprint,
    worker_tag,
)
from aither_assets_tests.runtime.support import launch, launcher_instance, runtime_workspace, wait_for


@pytest.fixture(scope="module")
def instance():
    with launcher_instance() as instance:
        yield instance


@pytest.fixture(scope="module")
def workspace(instance):
    with runtime_workspace(instance) as workspace:
        yield workspace


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


def run_in_worker(instance, workspace, out) -> dict:
    """Run process_job in the worker process itself; what its op saw there."""
    run_id = launch(instance, workspace, "process_job", {"execution": {"config": {"in_process": {}}},
                                                         "ops": {"write_process": {"config": {"out": str(out)}}}})
    assert poll_for_finished_run(instance, run_id, timeout=60).status == DagsterRunStatus.SUCCESS
    return json.loads(out.read_text())


def test_workers_start_with_the_code_location_loaded_and_a_code_edit_restarts_the_forkserver(
        instance, workspace, tmp_path, monkeypatch):
    code = tmp_path / "code"
    code.mkdir()
    (code / "module.py").write_text("VALUE = 1\n")
    monkeypatch.setattr(run_launcher, "CODE_ROOT", code)

    first = run_in_worker(instance, workspace, tmp_path / "1.json")
    # the forkserver imported aither_assets' definitions once; the worker found them in memory
    assert "aither_assets.defs.prs.assets" in first["preloaded"]
    same = run_in_worker(instance, workspace, tmp_path / "2.json")
    assert same["parent"] == first["parent"] and same["pid"] != first["pid"]  # same forkserver, new worker

    (code / "module.py").write_text("VALUE = 22\n")  # an edit: the next run must not use the old server
    edited = run_in_worker(instance, workspace, tmp_path / "3.json")
    assert edited["parent"] != first["parent"]
    assert "aither_assets.defs.prs.assets" in edited["preloaded"]
    (code / "new.py").write_text("")  # a new file too
    added = run_in_worker(instance, workspace, tmp_path / "4.json")
    assert added["parent"] != edited["parent"]


def test_the_source_fingerprint_changes_with_any_edit_addition_or_removal(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("A = 1\n")
    (tmp_path / "b.py").write_text("")
    before = source_fingerprint(tmp_path)
    assert source_fingerprint(tmp_path) == before
    (tmp_path / "notes.txt").write_text("not code")
    assert source_fingerprint(tmp_path) == before
    (tmp_path / "pkg" / "a.py").write_text("A = 12\n")  # a different size
    edited = source_fingerprint(tmp_path)
    assert edited != before
    os.utime(tmp_path / "pkg" / "a.py", ns=(1, 1))  # same size, another mtime
    assert source_fingerprint(tmp_path) != edited
    touched = source_fingerprint(tmp_path)
    (tmp_path / "b.py").unlink()
    assert source_fingerprint(tmp_path) != touched


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
