"""Many PRs at once, on either profile: N PRs opened within a second, each processed exactly once.

Starts the demo's stack (``aither demo``'s own start: embedded, or production with PostgreSQL and one
container per run), lets the seeded PRs run (warm-up), times the plain sequential script once on a
draft PR, then for each N prepares N branches (one commit each: a version bump and a file of its own)
and opens the N PRs in one burst. The local GitHub delivers each ``opened`` webhook; the receiver and
the PR sensor start the runs. Measured from the instance's run records and GitHub's own answers:

* every head has exactly one pipeline run, one sticky comment and its commit statuses;
* makespan: first PR opened -> last dashboard (the end of the run that reported, or its report run);
* throughput ratio: N x (plain script time) / makespan (above 1: the stack beats running the plain
  script N times one after another);
* bursts of one PR give the end-to-end latency (PR opened -> dashboard) of each profile, next to the
  plain script's time.

Run it alone, under the demo lock: ``flock /tmp/aither-demo.lock python benchmarks/load.py``.
Usage: python benchmarks/load.py [--profile embedded production] [--prs 1 1 1 20 50] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg

from aither_assets.devstack.demo.run import (
    _wait_for_runs,
    github_feedback_facts,
    prepare,
    start,
    teardown_all,
)
from aither_assets.devstack.demo.seed import AUTHOR, OWNER, REPO
from aither_assets.devstack.demo.stack import TOKEN_ENV, Stack, environment, stop_on_sigterm
from aither_assets.devstack.localgithub.store import LocalGitHub
from aither_assets.reporting.summary import report_record, reported_in_run
from aither_assets.runs.pipeline import PIPELINE_JOB_NAME
from aither_assets.runs.tags import HEAD_SHA_TAG, PR_TAG

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import loadavg, machine  # noqa: E402

PLAIN_APP = "aither-plain"


def log(message: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Load:
    def __init__(self, data_dir: Path, profile: str, timeout: float):
        self.data_dir, self.profile, self.timeout = data_dir, profile, timeout

    def store(self) -> LocalGitHub:
        return LocalGitHub(self.data_dir / "github")

    # -- the plain script, once, on a draft PR (the sensor skips drafts) ---------------------

    def plain_seconds(self, config_path: Path, env: dict[str, str]) -> float:
        store = self.store()
        try:
            store.create_branch(OWNER, REPO, "load/plain", "dev")
            sha = store.commit_files(OWNER, REPO, "load/plain", {"app/VERSION": "1.4.0\n", "app/load_plain.py":
                                     "LOAD = 0\n"}, "load: plain", author=AUTHOR)
            number = store.open_pr(OWNER, REPO, head="load/plain", base="dev", title="Load: the plain script's PR",
                                   user=AUTHOR, draft=True)
        finally:
            store.close()
        out = self.data_dir / "plain"
        out.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, str(HERE / "plain_pipeline.py"), "--config", str(config_path), "--pr", str(number),
                "--sha", sha, "--out", str(out), "--app", PLAIN_APP, "--iteration", "1", "--json",
                str(out / "result.json")]
        started = time.time()
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout, env={**os.environ, **env})
        seconds = time.time() - started
        if proc.returncode != 0:
            raise RuntimeError(f"plain script failed ({proc.returncode}): {proc.stdout[-1500:]} {proc.stderr[-1500:]}")
        return round(seconds, 2)

    # -- one burst ------------------------------------------------------------------------------

    def burst(self, n: int, tag: str) -> tuple[list[int], float, float]:
        """N branches made first, then N PRs opened back to back; (numbers, first open, seconds to open all)."""
        store = self.store()
        try:
            branches = []
            for i in range(n):
                branch = f"load/{tag}-{i}"
                store.create_branch(OWNER, REPO, branch, "dev")
                store.commit_files(OWNER, REPO, branch, {"app/VERSION": "1.5.0\n", f"app/load_{tag}_{i}.py":
                                   f"LOAD = {i}\n"}, f"load: change {i}", author=AUTHOR)
                branches.append(branch)
            first = time.time()
            numbers = [store.open_pr(OWNER, REPO, head=branch, base="dev", title=f"Load {tag} #{i}", user=AUTHOR)
                       for i, branch in enumerate(branches)]
            return numbers, first, time.time() - first
        finally:
            store.close()

    def outcome(self, instance: dg.DagsterInstance, client, numbers: list[int], first: float) -> dict:
        pulls = [client.pull(number) for number in numbers]
        _wait_for_runs(instance, pulls, time.monotonic() + self.timeout, self.stack)
        runs_per_head, statuses, done_at = {}, {}, []
        for pr in pulls:
            runs = instance.get_run_records(filters=dg.RunsFilter(
                tags={PR_TAG: pr.partition_key, HEAD_SHA_TAG: pr.head_sha}, job_name=PIPELINE_JOB_NAME))
            runs_per_head[pr.number] = len(runs)
            statuses[pr.number] = runs[0].dagster_run.status.value if runs else None
            run = runs[0]
            end = run.end_time
            if not reported_in_run(instance, run.dagster_run.run_id):
                report = report_record(instance, run.dagster_run.run_id)
                end = report.end_time if report is not None else None
            done_at.append(end)
        facts = github_feedback_facts(client, pulls)
        makespan = max(done_at) - first if all(done_at) else None
        return {
            "prs": len(numbers),
            "runs": sum(runs_per_head.values()),
            "heads_with_exactly_one_run": sum(1 for count in runs_per_head.values() if count == 1),
            "successes": sum(1 for status in statuses.values() if status == "SUCCESS"),
            "sticky_comments": sorted({f["sticky_comments"] for f in facts.values()}),
            "statuses_per_head": sorted({len(f["statuses"]) for f in facts.values()}),
            "pending_statuses": sum(1 for f in facts.values() for s in f["statuses"].values() if s == "pending"),
            "makespan": round(makespan, 1) if makespan else None,
        }

    # -- the whole measurement ----------------------------------------------------------------------

    def run(self, sizes: list[int]) -> dict:
        seeded = prepare(self.data_dir, reset=True)
        result: dict = {"profile": self.profile, "loadavg_at_start": loadavg()}
        with Stack(self.data_dir) as stack:
            self.stack = stack
            env = start(stack, self.data_dir, seeded, sensor_interval=30, profile=self.profile)
            with environment({k: v for k, v in env.items() if k.isupper()}):
                from aither_assets.config.operator import load_operator_config
                from aither_assets.github.client import client_from_config

                config = load_operator_config(env["AITHER_CONFIG"])
                client = client_from_config(config, {TOKEN_ENV: seeded.api_token})
                instance = dg.DagsterInstance.get()
                try:
                    expected = {p.number for p in seeded.prs if p.should_run}
                    started = time.time()
                    _wait_for_runs(instance, [pr for pr in client.open_pulls() if pr.number in expected],
                                   time.monotonic() + self.timeout, stack)
                    result["warmup_seconds"] = round(time.time() - started, 1)
                    log(f"{self.profile}: warm-up done in {result['warmup_seconds']} s")
                    result["plain_seconds"] = self.plain_seconds(Path(env["AITHER_CONFIG"]), env)
                    log(f"{self.profile}: plain script {result['plain_seconds']} s")
                    result["bursts"] = []
                    for index, n in enumerate(sizes):
                        numbers, first, opening = self.burst(n, f"b{index}-n{n}")
                        log(f"{self.profile}: opened {n} PRs in {opening:.2f} s")
                        burst = self.outcome(instance, client, numbers, first)
                        burst["seconds_to_open"] = round(opening, 2)
                        if burst["makespan"]:
                            burst["throughput_ratio"] = round(n * result["plain_seconds"] / burst["makespan"], 2)
                        burst["loadavg_after"] = loadavg()
                        log(f"{self.profile}: {json.dumps(burst)}")
                        result["bursts"].append(burst)
                finally:
                    result["teardown"] = teardown_all(config, client)
                    instance.dispose()
        from aither_assets.environments.docker_env import PreviewEnvironments

        PreviewEnvironments(app=PLAIN_APP).sweep(open_prs=set())
        return result


def measure(profiles: list[str], sizes: list[int], timeout: float = 1800, keep_data: bool = False) -> dict:
    """Every profile in turn, each on a fresh stack in its own folder under /tmp."""
    results: dict = {"machine": machine(), "sizes": sizes, "profiles": []}
    for profile in profiles:
        data_dir = Path(tempfile.mkdtemp(prefix=f"aither-load-{profile}-"))
        try:
            results["profiles"].append(Load(data_dir, profile, timeout).run(sizes))
        except Exception as exc:  # noqa: BLE001 - report and go on with the other profile
            results["profiles"].append({"profile": profile, "error": f"{type(exc).__name__}: {exc}"})
            log(f"{profile}: {type(exc).__name__}: {exc}")
        finally:
            if not keep_data:
                shutil.rmtree(data_dir, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", nargs="+", choices=["embedded", "production"], default=["embedded", "production"])
    parser.add_argument("--prs", type=int, nargs="+", default=[1, 1, 1, 20, 50])
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep-data", action="store_true")
    args = parser.parse_args(argv)
    stop_on_sigterm()
    results = measure(args.profile, args.prs, args.timeout, args.keep_data)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(json.dumps(results, indent=2, default=str))
    return 0 if all("error" not in p for p in results["profiles"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
