"""A tiny code location for aither_assets_tests/test_run_launcher.py: jobs that show where they ran."""

import os
import time

import dagster as dg


@dg.op(config_schema={"out": str})
def write_pid(context: dg.OpExecutionContext) -> None:
    with open(context.op_config["out"], "w", encoding="utf-8") as out:
        out.write(f"{os.getpid()} {os.getppid()}")


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
def long_job():
    wait_for_cancel()


@dg.job
def failing_job():
    fail()


defs = dg.Definitions(jobs=[pid_job, long_job, failing_job])
