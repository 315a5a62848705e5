"""A real instance with the WarmRunLauncher and the runtime_location workspace, for launching runs."""

import sys
import time
from pathlib import Path

import dagster as dg
from dagster._core.test_utils import create_run_for_test, in_process_test_workspace, instance_for_test
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

LAUNCHER = {"module": "aither_assets.runtime.run_launcher", "class": "WarmRunLauncher"}


def launcher_instance():
    return instance_for_test(overrides={"run_launcher": LAUNCHER})


def runtime_workspace(instance):
    origin = LoadableTargetOrigin(executable_path=sys.executable, module_name="aither_assets_tests.runtime.location",
                                  working_directory=str(Path(__file__).resolve().parents[2]))
    return in_process_test_workspace(instance, origin)


def launch(instance, workspace, name: str, run_config: dict | None = None, *, executable: str | None = None) -> str:
    """Create a run of job ``name`` and launch it through the instance's run launcher."""
    location = workspace.get_code_location(next(iter(workspace.get_code_location_entries())))
    job = next(iter(location.get_repositories().values())).get_full_job(name)
    code_origin = job.get_python_origin()
    if executable:
        code_origin = code_origin._replace(
            repository_origin=code_origin.repository_origin._replace(executable_path=executable))
    run = create_run_for_test(instance, job_name=name, run_config=run_config or {}, job_snapshot=job.job_snapshot,
                              remote_job_origin=job.get_remote_origin(), job_code_origin=code_origin)
    instance.launch_run(run.run_id, workspace)
    return run.run_id


def wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def queue_run(instance, number, sha, **tags):
    """A queued run as the daemon leaves it (QueuedRunCoordinator), with the origin it requires."""
    from dagster._core.remote_origin import InProcessCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
    from dagster._core.storage.dagster_run import DagsterRun
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    location = InProcessCodeLocationOrigin(LoadableTargetOrigin(module_name="aither_assets.definitions"))
    origin = RemoteJobOrigin(RemoteRepositoryOrigin(location, "__repository__"), "pr_pipeline")
    run = DagsterRun(job_name="pr_pipeline", run_id=f"run-{number}-{sha[:6]}-{len(tags)}",
                     status=dg.DagsterRunStatus.QUEUED, tags={"aither/pr": str(number), "aither/head-sha": sha, **tags}, remote_job_origin=origin)
    instance.add_run(run)
    return run.run_id
