"""A run launcher that starts run workers from a warm interpreter (configured in dagster.yaml).

Dagster's DefaultRunLauncher asks the code server to start each run, and the code server spawns a
fresh interpreter that imports Dagster and the libraries again: about 3 s on this kind of machine,
on the path from a push to its dashboard (benchmarks/). This launcher keeps a multiprocessing
forkserver that has imported Dagster, the heavy third-party libraries and our code location's
modules once (runtime/warm_code.py), and forks each run worker from it. A run must never run stale
code: before each launch the launcher compares the package's source files (path, mtime, size) with
those the forkserver imported, and restarts the forkserver when any was edited, added or removed, so
an edited code location runs its new code, as with the default launcher.

The worker is the same function the code server runs (dagster._grpc.impl.start_run_in_subprocess),
so events, logs and run status work the same. Termination sends the worker SIGINT, which is what
the code server's termination thread does too. The worker's pid and start time are recorded on the
run, so any process (daemon, webserver, a sensor) can terminate it or check that it is alive, and a
recycled pid is never signalled.

Runs of a code location that uses another Python interpreter go to the DefaultRunLauncher.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from dagster import _check as check
from dagster._core.launcher import CheckRunHealthResult, LaunchRunContext, WorkerStatus
from dagster._core.launcher.default_run_launcher import DefaultRunLauncher
from dagster._core.storage.dagster_run import DagsterRun
from dagster._serdes import ConfigurableClassData, serialize_value

from aither_assets.runtime.procstat import START_TICKS, is_dead, stat_fields

# Imported once by the forkserver; each forked worker starts with them in memory. What a run worker
# imports besides the code location itself (listed from sys.modules after a run's start): Dagster's
# execution, storage and defs-folder loading, and the libraries our package uses.
DEFAULT_PRELOAD = (
    "dagster",
    "dagster._grpc.impl",
    "dagster._core.execution.api",
    "dagster._core.instance.factory",
    "dagster._core.storage.event_log",
    "dagster._core.storage.runs",
    "dagster._core.storage.sqlite_storage",
    "dagster._core.storage.migration",
    "dagster._core.storage.root",
    "dagster._core.secrets.env_file",
    "dagster._core.utility_ops",
    "dagster._core.workspace.autodiscovery",
    "dagster._core.definitions.external_asset",
    "dagster._daemon.run_coordinator",
    "dagster._utils.test.definitions",
    "dagster.components",
    "dagster.components.core.snapshot",
    "alembic",
    "sqlalchemy",
    "docker",
    "github",
    "jinja2",
    "junitparser",
    "pydantic",
    "requests",
    "yaml",
)
#: Imported by the forkserver after DEFAULT_PRELOAD: our code location's modules (about 0.35 s of each
#: run's start when a worker imports them itself).
WARM_CODE_MODULE = "aither_assets.runtime.warm_code"
#: The source tree WARM_CODE_MODULE imports from; an edit there restarts the forkserver.
CODE_ROOT = Path(__file__).resolve().parents[1]
WORKER_TAG = "aither/run-worker"  # "<pid>:<start time in clock ticks>"
START_TIMEOUT_SECONDS = 60.0


def source_fingerprint(root: Path) -> int:
    """Changes when any .py file under ``root`` is edited, added or removed (about 1 ms for our package)."""
    entries = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        for name in files:
            if name.endswith(".py"):
                stat = os.stat(os.path.join(folder, name))
                entries.append((folder, name, stat.st_mtime_ns, stat.st_size))
    return hash(tuple(sorted(entries)))


# The forkserver is one per process (multiprocessing's), whichever launcher instance uses it.
_FORKSERVER_LOCK = threading.Lock()
_forkserver_code: dict[str, int | None] = {"fingerprint": None}


def _stop_forkserver() -> None:
    """Stop multiprocessing's forkserver; the next start spawns a fresh one with the preload list.

    Workers already forked keep running: they are the forkserver's children, not its threads.
    """
    from multiprocessing import forkserver

    forkserver._forkserver._stop()  # the stdlib's own way to stop it (used by CPython's tests)


def process_start_ticks(pid: int) -> int | None:
    """The process's start time (clock ticks since boot), or None if it is gone."""
    fields = stat_fields(pid)
    return None if fields is None else int(fields[START_TICKS])


def worker_tag(pid: int) -> str:
    return f"{pid}:{process_start_ticks(pid)}"


def live_worker_pid(tag: str | None) -> int | None:
    """The pid in a WORKER_TAG value if that very process still runs (not a recycled pid)."""
    if not tag or ":" not in tag:
        return None
    pid_text, _, ticks_text = tag.partition(":")
    if not pid_text.isdigit() or not ticks_text.isdigit():
        return None
    pid = int(pid_text)
    fields = stat_fields(pid)  # one read: the same process's start time and state
    if is_dead(fields) or int(fields[START_TICKS]) != int(ticks_text):
        return None
    return pid


class StatusPipe:
    """Where start_run_in_subprocess reports (it calls .put): the write end of a pipe.

    The launcher listens only until the run has started; later messages are dropped.
    """

    def __init__(self, connection) -> None:
        self._connection = connection

    def put(self, message) -> None:
        try:
            self._connection.send(message)
        except OSError:
            pass


def wait_until_started(reader, run_id: str, error_cls) -> None:
    """Like the code server: return once the worker has loaded its run, raise if it could not."""
    from dagster._grpc.impl import IPCErrorMessage, StartRunInSubprocessSuccessful

    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not reader.poll(0.05):
            continue
        try:
            message = reader.recv()
        except EOFError:
            raise error_cls(f"run worker for {run_id} exited before starting") from None
        if isinstance(message, StartRunInSubprocessSuccessful):
            return
        if isinstance(message, IPCErrorMessage):
            raise error_cls(message.message, serializable_error_info=message.serializable_error_info)
    raise error_cls(f"run worker for {run_id} did not start within {START_TIMEOUT_SECONDS:.0f} s")


class WarmRunLauncher(DefaultRunLauncher):
    """Forks run workers from a forkserver with Dagster preloaded (see the module docstring)."""

    def __init__(self, inst_data: ConfigurableClassData | None = None, preload_modules: list[str] | None = None,
                 preload_code: bool = True):
        super().__init__(inst_data=inst_data)
        self._preload = list(DEFAULT_PRELOAD if preload_modules is None else preload_modules)
        self._preload_code = preload_code
        if preload_code:
            self._preload.append(WARM_CODE_MODULE)

    @classmethod
    def config_type(cls):
        from dagster import Array, Field

        return {
            "preload_modules": Field(Array(str), is_required=False),
            "preload_code": Field(bool, is_required=False, description="Import the code location in the forkserver."),
        }

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: dict[str, Any]):
        return cls(inst_data=inst_data, **config_value)

    def _refresh_forkserver(self) -> None:
        """Set the preload list, and restart the forkserver first if the code it imported has changed."""
        if self._preload_code:
            fingerprint = source_fingerprint(CODE_ROOT)
            previous = _forkserver_code["fingerprint"]
            if previous is not None and previous != fingerprint:
                _stop_forkserver()
            _forkserver_code["fingerprint"] = fingerprint  # taken before the (re)start imports the code
        multiprocessing.get_context("forkserver").set_forkserver_preload(self._preload)

    @staticmethod
    def _runs_here(run: DagsterRun) -> bool:
        origin = run.job_code_origin
        if origin is None or run.remote_job_origin is None:
            return False
        executable = origin.repository_origin.executable_path
        return bool(executable) and os.path.realpath(executable) == os.path.realpath(sys.executable)

    def launch_run(self, context: LaunchRunContext) -> None:
        from dagster._core.errors import DagsterLaunchFailedError
        from dagster._grpc.impl import start_run_in_subprocess
        from dagster._grpc.types import ExecuteExternalJobArgs
        from dagster._utils.hosted_user_process import recon_job_from_origin

        run = check.inst_param(context.dagster_run, "run", DagsterRun)
        if not self._runs_here(run):
            super().launch_run(context)
            return

        forkserver = multiprocessing.get_context("forkserver")
        reader, writer = forkserver.Pipe(duplex=False)
        # Held until the worker has unpickled it: a multiprocessing Event's semaphore is unlinked
        # when the parent's object is collected.
        termination_event = forkserver.Event()  # unused: termination sends SIGINT (see terminate)
        worker = forkserver.Process(
            target=start_run_in_subprocess,
            args=[
                serialize_value(
                    ExecuteExternalJobArgs(
                        job_origin=run.remote_job_origin,  # ty: ignore[invalid-argument-type]
                        run_id=run.run_id,
                        instance_ref=self._instance.get_ref(),
                    )
                ),
                recon_job_from_origin(run.job_code_origin),  # ty: ignore[invalid-argument-type]
                StatusPipe(writer),
                termination_event,
            ],
            name=f"dagster-run-{run.run_id[:8]}",
        )
        try:
            with _FORKSERVER_LOCK:  # no worker is forked from a server being restarted
                self._refresh_forkserver()
                worker.start()
            writer.close()
            self._instance.add_run_tags(run.run_id, {WORKER_TAG: worker_tag(worker.pid)})
            self._run_ids.add(run.run_id)
            wait_until_started(reader, run.run_id, DagsterLaunchFailedError)
        finally:
            reader.close()
            del termination_event

    def _worker_pid(self, run: DagsterRun) -> int | None:
        return live_worker_pid(run.tags.get(WORKER_TAG))

    def terminate(self, run_id: str) -> bool:
        run = self._instance.get_run_by_id(run_id) if self.has_instance else None
        if run is None or WORKER_TAG not in run.tags:
            return super().terminate(run_id)
        if run.is_finished:
            return False
        self._instance.report_run_canceling(run)
        pid = self._worker_pid(run)
        if pid is None:
            self._instance.report_engine_event(
                message="The run worker is gone; nothing to terminate.", dagster_run=run, cls=self.__class__
            )
            return False
        os.kill(pid, signal.SIGINT)  # the worker turns it into a graceful cancel of the run
        return True

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        if WORKER_TAG not in run.tags:
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "not started by this launcher")
        if self._worker_pid(run) is not None:
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker {run.tags[WORKER_TAG]} is no longer running")
