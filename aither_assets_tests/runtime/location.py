"""A small code location for the tests of the run launcher and the threaded executor.

aither_assets_tests/runtime/test_run_launcher.py and test_threaded_executor.py load it as a workspace
(or reconstruct its jobs by name), as the daemon and a run worker would.
"""

import json
import os
import sys
import time

import dagster as dg

from aither_assets.runtime.prcommand import run_argv
from aither_assets.runtime.threaded_executor import threaded_executor

# -- jobs for the run launcher ------------------------------------------------------------------


@dg.op(config_schema={"out": str})
def write_pid(context: dg.OpExecutionContext) -> None:
    with open(context.op_config["out"], "w", encoding="utf-8") as out:
        out.write(f"{os.getpid()} {os.getppid()}")


@dg.op(config_schema={"out": str})
def write_process(context: dg.OpExecutionContext) -> None:
    """Run in process: the worker's parent (the forkserver) and whether it had our code location loaded."""
    preloaded = sorted(name for name in sys.modules if name.startswith("aither_assets.defs."))
    with open(context.op_config["out"], "w", encoding="utf-8") as out:
        json.dump({"pid": os.getpid(), "parent": os.getppid(), "preloaded": preloaded}, out)


@dg.op(config_schema={"out": str})
def wait_for_cancel(context: dg.OpExecutionContext) -> None:
    with open(context.op_config["out"], "w", encoding="utf-8") as out:
        out.write("started")
    time.sleep(120)


@dg.op
def fail() -> None:
    raise RuntimeError("this run fails on purpose")


@dg.job
def pid_job():
    write_pid()


@dg.job
def process_job():
    write_process()


@dg.job
def long_job():
    wait_for_cancel()


@dg.job
def failing_job():
    fail()


# -- assets for the threaded executor --------------------------------------------------------------

SLEEP_SECONDS = 1.0


@dg.asset
def root() -> int:
    return 1


@dg.asset
def left(root: int) -> int:
    time.sleep(SLEEP_SECONDS)
    return root + 1


@dg.asset
def right(root: int) -> int:
    time.sleep(SLEEP_SECONDS)
    return root + 2


@dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="gated", blocking=True)])
def gated(left: int, right: int):
    value = -1 if os.environ.get("AITHER_TEST_GATE") == "fail" else left + right
    yield dg.Output(value)
    yield dg.AssetCheckResult(passed=value > 0, check_name="positive", asset_key="gated")


@dg.asset
def after_gate(gated: int) -> int:
    return gated * 10


@dg.asset
def broken(root: int) -> int:
    raise RuntimeError("broken on purpose")


@dg.asset
def after_broken(broken: int) -> int:
    return broken


@dg.asset(config_schema={"marker": str})
def slow_subprocess(context: dg.AssetExecutionContext, root: int) -> int:
    marker = context.op_config["marker"]
    code = f"open({marker!r}, 'w').write(str(__import__('os').getpid())); __import__('time').sleep(60)"
    return run_argv([sys.executable, "-c", code], cwd=os.getcwd(), timeout=120).exit_code or 0


@dg.asset(output_required=False)
def never_produced(root: int):
    """Skipped, like a stage the plan does not need."""
    if root < 0:
        yield dg.Output(root)


@dg.asset(deps=["after_broken"])
def joins_skip_and_abandon(never_produced: int) -> int:
    """One upstream skipped, one abandoned after a failure (Dagster 1.13's in-process executor hung on it)."""
    return never_produced


@dg.asset
def after_join(joins_skip_and_abandon: int) -> int:
    return joins_skip_and_abandon


ASSETS = [root, left, right, gated, after_gate, broken, after_broken, slow_subprocess, never_produced,
          joins_skip_and_abandon, after_join]


def _threaded(name: str, selection: list[str], max_concurrent: int = 4):
    return dg.define_asset_job(name, selection=selection,
                               executor_def=threaded_executor.configured({"max_concurrent": max_concurrent}))


GATED = ["root", "left", "right", "gated", "after_gate"]
THREADED_JOBS = [
    _threaded("parallel_job", GATED),
    _threaded("one_at_a_time_job", GATED, max_concurrent=1),
    _threaded("broken_job", ["root", "left", "broken", "after_broken"]),
    _threaded("cancellable_job", ["root", "slow_subprocess"]),
    _threaded("skip_and_abandon_job",
              ["root", "broken", "after_broken", "never_produced", "joins_skip_and_abandon", "after_join"]),
]

defs = dg.Definitions(assets=ASSETS, jobs=[pid_job, process_job, long_job, failing_job, *THREADED_JOBS])


def threaded_job(name: str) -> dg.JobDefinition:
    """One of THREADED_JOBS, resolved (dg.reconstructable needs a module-level function: see below)."""
    return defs.resolve_job_def(name)


def parallel_job() -> dg.JobDefinition:
    return threaded_job("parallel_job")


def one_at_a_time_job() -> dg.JobDefinition:
    return threaded_job("one_at_a_time_job")


def broken_job() -> dg.JobDefinition:
    return threaded_job("broken_job")
