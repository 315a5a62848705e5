"""Faults on the production profile: what happens to heads and runs when a part dies.

On ``aither demo``'s production stack (PostgreSQL, a code server container, one container per run),
after the seeded PRs' runs, three scenes, each on a fresh burst of PRs opened while the fault happens:

1. the daemon is killed (SIGKILL) while runs are in flight, and started again 15 s later;
2. the webhook receiver is killed before the PRs are opened (their ``opened`` deliveries fail): the
   PR sensor alone must find the heads;
3. PostgreSQL is restarted (fast shutdown, start) while runs are in flight.

After each: every head has exactly one pipeline run, no run is left QUEUED/STARTING/STARTED (run
monitoring fails a run whose container is gone), and what each run ended as. Findings are reported,
not asserted. Run it alone, under the demo lock:
``flock /tmp/aither-demo.lock python benchmarks/faults.py --json out.json``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import dagster as dg

from aither_assets.devstack.demo.run import _wait_for_runs, prepare, start, teardown_all
from aither_assets.devstack.demo.stack import TOKEN_ENV, Stack, environment, stop_on_sigterm
from aither_assets.runs.pipeline import PIPELINE_JOB_NAME
from aither_assets.runs.tags import HEAD_SHA_TAG, PR_TAG

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import machine  # noqa: E402
from load import Load, log  # noqa: E402

IN_FLIGHT = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
             dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def _proc(stack: Stack, name: str):
    return next(proc for n, proc in stack.procs if n == name)


def _kill(stack: Stack, name: str) -> None:
    proc = _proc(stack, name)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    stack.procs = [(n, p) for n, p in stack.procs if p is not proc]


def _wait_started(instance: dg.DagsterInstance, timeout: float = 300) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = instance.get_runs_count(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
        if started:
            return started
        time.sleep(0.5)
    return 0


def _heads(instance: dg.DagsterInstance, pulls) -> dict:
    runs_per_head, ends = {}, Counter()
    for pr in pulls:
        runs = instance.get_runs(filters=dg.RunsFilter(tags={PR_TAG: pr.partition_key, HEAD_SHA_TAG: pr.head_sha},
                                                      job_name=PIPELINE_JOB_NAME))
        runs_per_head[pr.number] = len(runs)
        ends.update(run.status.value for run in runs)
    return {"heads": len(pulls), "heads_with_one_run": sum(1 for c in runs_per_head.values() if c == 1),
            "heads_without_run": sum(1 for c in runs_per_head.values() if c == 0),
            "heads_with_several_runs": sum(1 for c in runs_per_head.values() if c > 1), "run_statuses": dict(ends)}


def scene(name: str, stack: Stack, instance, client, fault, timeout: float) -> dict:
    """``fault()`` opens the scene's PRs and does its damage; it returns {"numbers": [...], what it did}."""
    log(f"scene {name}")
    started = time.time()
    detail = fault()
    pulls = [client.pull(number) for number in detail.pop("numbers")]
    error = None
    try:
        _wait_for_runs(instance, pulls, time.monotonic() + timeout, stack)
    except (TimeoutError, RuntimeError) as exc:
        error = str(exc)
    # run monitoring polls every 30 s: give it a few rounds before looking for runs left in flight
    deadline = time.monotonic() + 120
    while instance.get_runs_count(filters=dg.RunsFilter(statuses=IN_FLIGHT)) and time.monotonic() < deadline:
        time.sleep(2)
    result = {"scene": name, **detail, **_heads(instance, pulls),
              "runs_left_in_flight": instance.get_runs_count(filters=dg.RunsFilter(statuses=IN_FLIGHT)),
              "seconds": round(time.time() - started, 1)}
    if error:
        result["wait_error"] = error
    log(json.dumps(result))
    return result


def run(n: int, timeout: float, data_dir: Path) -> dict:
    load = Load(data_dir, "production", timeout)
    seeded = prepare(data_dir, reset=True)
    results: dict = {"machine": machine(), "scenes": []}
    with Stack(data_dir) as stack:
        load.stack = stack
        # the sensor at 10 s: in scene 2 it is the only way in
        env = start(stack, data_dir, seeded, sensor_interval=10, profile="production")
        workspace = data_dir / "workspace.production.yaml"
        with environment({k: v for k, v in env.items() if k.isupper()}):
            from aither_assets.config.operator import load_operator_config
            from aither_assets.devstack import postgres
            from aither_assets.github.client import client_from_config

            config = load_operator_config(env["AITHER_CONFIG"])
            client = client_from_config(config, {TOKEN_ENV: seeded.api_token})
            instance = dg.DagsterInstance.get()
            try:
                expected = {p.number for p in seeded.prs if p.should_run}
                _wait_for_runs(instance, [pr for pr in client.open_pulls() if pr.number in expected],
                               time.monotonic() + timeout, stack)

                def daemon_killed():
                    numbers, _, _ = load.burst(n, "daemon")
                    in_flight = _wait_started(instance)
                    _kill(stack, "daemon")
                    time.sleep(15)
                    stack.start_daemon(env, workspace)
                    return {"numbers": numbers, "runs_started_when_killed": in_flight, "daemon_down_seconds": 15}

                def postgres_restarted():
                    numbers, _, _ = load.burst(n, "postgres")
                    in_flight = _wait_started(instance)
                    data = data_dir / "postgres" / "data"
                    server = postgres.PostgresServer(data, int((data / "postmaster.pid").read_text().splitlines()[3]))
                    t0 = time.monotonic()
                    postgres.stop(server)
                    postgres.start(server.data_dir, server.port)
                    return {"numbers": numbers, "runs_started_when_restarted": in_flight,
                            "postgres_down_seconds": round(time.monotonic() - t0, 1)}

                def receiver_killed():  # last: the receiver stays down
                    _kill(stack, "webhooks")
                    numbers, _, _ = load.burst(n, "nohook")
                    return {"numbers": numbers}

                for name, fault in (("daemon killed and restarted", daemon_killed),
                                    ("postgres restarted", postgres_restarted),
                                    ("receiver killed", receiver_killed)):
                    results["scenes"].append(scene(name, stack, instance, client, fault, timeout))
            finally:
                results["teardown"] = teardown_all(config, client)
                instance.dispose()
    return results


def measure(n: int = 5, timeout: float = 900) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix="aither-faults-"))
    try:
        return run(n, timeout, data_dir)
    except Exception as exc:  # noqa: BLE001 - reported in the results
        log(f"faults: {type(exc).__name__}: {exc}")
        return {"machine": machine(), "error": f"{type(exc).__name__}: {exc}"}
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prs", type=int, default=5, help="PRs opened per scene")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    stop_on_sigterm()
    results = measure(args.prs, args.timeout)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(json.dumps(results, indent=2, default=str))
    return 0 if "error" not in results else 1


if __name__ == "__main__":
    raise SystemExit(main())
