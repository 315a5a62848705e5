"""An executor that runs a run's ready steps side by side, on threads of the run worker.

Why: a PR's stages are independent after pr_context (validation, package, linters, test suites,
image build) and spend their time in subprocesses and the Docker engine, not in Python. Dagster's
multiprocess executor pays a process per step (about 1 s here, 2 cores) and the in-process
executor runs one step at a time. This is the in-process executor (one process, resources built
once, logs captured once for the run) with the step loop of the multiprocess executor: every
step whose inputs are ready starts at once, up to ``max_concurrent`` (default: half the cores,
see default_max_concurrent); events go through a queue
to the main thread, which alone drives Dagster's plan state (ActiveExecution), so skips, blocking
checks, retries and hooks behave as with the built-in executors.

Cancellation: SIGINT reaches the main thread only; it stops starting steps, tells the running
ones through aither_assets.runtime.cancellation (our subprocess waits check it) and waits for them,
then raises the interruption like the multiprocess executor does.

Built on Dagster's internal execution API (pinned version, see pyproject.toml); the tests in
aither_assets_tests/runtime/test_threaded_executor.py run it against a real instance.
"""

from __future__ import annotations

import os
import queue
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass

import dagster as dg
from dagster._core.definitions.executor_definition import get_retries_config, get_step_dependency_config_field
from dagster._core.errors import DagsterExecutionInterruptedError
from dagster._core.events import DagsterEvent, EngineEventData
from dagster._core.execution.api import ExecuteRunWithPlanIterable
from dagster._core.execution.compute_logs import create_compute_log_file_key
from dagster._core.execution.context.system import PlanExecutionContext, PlanOrchestrationContext
from dagster._core.execution.context_creation_job import PlanExecutionContextManager
from dagster._core.execution.plan.execute_plan import (
    _handle_compute_log_setup_error,
    _handle_compute_log_teardown_error,
    _trigger_hook,
    dagster_event_sequence_for_step,
)
from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext
from dagster._core.execution.plan.plan import ExecutionPlan
from dagster._core.execution.retries import RetryMode
from dagster._core.execution.step_dependency_config import StepDependencyConfig
from dagster._core.executor.base import Executor

from aither_assets.runtime import cancellation

MAX_CONCURRENT_ENV = "AITHER_MAX_CONCURRENT_STEPS"  # like Dagster's DAGSTER_MULTIPROCESS_EXECUTOR_MAX_CONCURRENT


def default_max_concurrent() -> int:
    """Half the cores, at least one step.

    The test step already runs a suite per core; other steps beside it only help when cores are
    spare. Measured on 2 vCPUs (benchmarks/e2e.py, README "Benchmarks"): one step at a time
    brought a run to its dashboard in 0.91 of the plain script's time, every ready step at once
    in 1.02 (the suites slowed from 5.2 s to 7.9 s sharing the cores with validation and the
    image build).
    """
    return max(1, (os.cpu_count() or 1) // 2)

_WAIT_SECONDS = 0.05  # how long the main thread waits for an event before it checks for interrupts


@dataclass
class _StepDone:
    exc_info: tuple | None = None  # an error Dagster's step wrapper let through (a framework error)


def _run_step(key: str, step_context, events: queue.SimpleQueue) -> None:
    try:
        for event in dagster_event_sequence_for_step(step_context):
            events.put((key, event))
    except BaseException:  # noqa: BLE001 - handed to the main thread, which raises it
        events.put((key, _StepDone(sys.exc_info())))
        return
    events.put((key, _StepDone()))


def threaded_plan_iterator(job_context: PlanExecutionContext, execution_plan: ExecutionPlan,
                           max_concurrent: int) -> Iterator[DagsterEvent]:
    """inner_plan_execution_iterator (dagster/_core/execution/plan/execute_plan.py) with threads."""
    cancellation.reset()
    compute_log_manager = job_context.instance.compute_log_manager
    step_keys = [step.key for step in execution_plan.get_steps_to_execute_in_topo_order()]
    with ExitStack() as stack:
        concurrency = stack.enter_context(InstanceConcurrencyContext(job_context.instance, job_context.dagster_run))
        active = stack.enter_context(execution_plan.start(
            retry_mode=job_context.retry_mode,
            instance_concurrency_context=concurrency,
            step_dependency_config=job_context.step_dependency_config,
        ))
        with ExitStack() as capture_stack:
            log_key = compute_log_manager.build_log_key_for_run(job_context.run_id, create_compute_log_file_key())
            try:
                log_context = capture_stack.enter_context(compute_log_manager.capture_logs(log_key))
                yield DagsterEvent.capture_logs(job_context, step_keys, log_key, log_context)
            except Exception:
                yield from _handle_compute_log_setup_error(job_context, sys.exc_info())

            events: queue.SimpleQueue = queue.SimpleQueue()
            running: dict[str, tuple] = {}  # step key -> (step context, its events so far)
            interrupted = False
            pool = ThreadPoolExecutor(max_workers=max_concurrent, thread_name_prefix="dagster-step")
            try:
                while running or (not interrupted and not active.is_complete):
                    if not interrupted and active.check_for_interrupts():
                        interrupted = True
                        active.mark_interrupted()
                        cancellation.request()
                        yield DagsterEvent.engine_event(
                            job_context, "Threaded executor: received termination signal - cancelling the "
                            f"running steps {sorted(running)}", EngineEventData.interrupted(sorted(running)))
                    if not interrupted:
                        steps = active.get_steps_to_execute(limit=max_concurrent - len(running))
                        yield from active.concurrency_event_iterator(job_context)
                        for step in steps:
                            step_context = job_context.for_step(step, active.get_known_state())
                            running[step.key] = (step_context, [])
                            pool.submit(_run_step, step.key, step_context, events)
                    # Skips and abandons on every turn, as the multiprocess executor does. (The in-process
                    # executor only does it right after a step ends, and a step that becomes skippable
                    # later is left waiting: how Dagster 1.13 hung on a skipped plus an abandoned input.)
                    yield from active.plan_events_iterator(job_context)
                    if not running:
                        if not active.is_complete and not interrupted:
                            active.sleep_til_ready()
                            time.sleep(0.01)  # nothing to wait on but retries or concurrency slots
                        continue
                    try:
                        key, item = events.get(timeout=_WAIT_SECONDS)
                    except queue.Empty:
                        continue
                    step_context, step_events = running[key]
                    if isinstance(item, DagsterEvent):
                        step_events.append(item)
                        yield item
                        active.handle_event(item)
                        continue
                    del running[key]
                    if item.exc_info is not None:
                        raise item.exc_info[1].with_traceback(item.exc_info[2])
                    active.verify_complete(job_context, key)
                    for event in active.plan_events_iterator(job_context):
                        step_events.append(event)
                        yield event
                    yield from _trigger_hook(step_context, step_events)
            finally:
                if running:  # leaving on an error: the other steps are told to stop, then awaited
                    cancellation.request()
                pool.shutdown(wait=True)
                cancellation.reset()  # process-wide: it must not outlive this run's steps

            try:
                capture_stack.close()
            except Exception:
                yield from _handle_compute_log_teardown_error(job_context, sys.exc_info())

        if interrupted:
            raise DagsterExecutionInterruptedError()


class ThreadedExecutor(Executor):
    def __init__(self, retries: RetryMode, max_concurrent: int, step_dependency_config: StepDependencyConfig):
        self._retries = retries
        self._max_concurrent = max_concurrent
        self._step_dependency_config = step_dependency_config

    @property
    def retries(self) -> RetryMode:
        return self._retries

    @property
    def step_dependency_config(self) -> StepDependencyConfig:
        return self._step_dependency_config

    def execute(self, plan_context: PlanOrchestrationContext, execution_plan: ExecutionPlan) -> Iterator[DagsterEvent]:
        pid = os.getpid()
        yield DagsterEvent.engine_event(
            plan_context, f"Executing steps on up to {self._max_concurrent} threads in process (pid: {pid})",
            event_specific_data=EngineEventData.in_process(pid, execution_plan.step_keys_to_execute))
        max_concurrent = self._max_concurrent
        yield from iter(ExecuteRunWithPlanIterable(
            execution_plan=plan_context.execution_plan,
            iterator=lambda job_context, execution_plan: threaded_plan_iterator(
                job_context, execution_plan, max_concurrent),
            execution_context_manager=PlanExecutionContextManager(
                job=plan_context.job,
                retry_mode=plan_context.retry_mode,
                execution_plan=plan_context.execution_plan,
                run_config=plan_context.run_config,
                dagster_run=plan_context.dagster_run,
                instance=plan_context.instance,
                raise_on_error=plan_context.raise_on_error,
                output_capture=plan_context.output_capture,
                step_dependency_config=self.step_dependency_config,
            ),
        ))
        yield DagsterEvent.engine_event(
            plan_context, f"Finished steps in process (pid: {pid})",
            event_specific_data=EngineEventData.in_process(pid, execution_plan.step_keys_to_execute))


@dg.executor(
    name="threaded",
    config_schema={
        "retries": get_retries_config(),
        "max_concurrent": dg.Field(
            int, is_required=False,
            description=f"Steps running at once (default: ${MAX_CONCURRENT_ENV}, else half the cores, at "
                        "least 1). 1 runs one step at a time, like the in-process executor."),
        "step_dependency_config": get_step_dependency_config_field(),
    },
)
def threaded_executor(init_context) -> ThreadedExecutor:
    """Runs every ready step of a run at once on threads of one process (see the module docstring)."""
    config = init_context.executor_config
    return ThreadedExecutor(
        retries=RetryMode.from_config(config["retries"]),
        max_concurrent=max(1, config.get("max_concurrent") or int(os.environ.get(MAX_CONCURRENT_ENV) or 0)
                           or default_max_concurrent()),
        step_dependency_config=StepDependencyConfig.from_config(config.get("step_dependency_config")),
    )

