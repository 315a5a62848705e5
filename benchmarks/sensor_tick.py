"""Sensor cost: tick time and GitHub requests with N open PRs (first tick, unchanged poll, 1 % new heads).

Runs the real sensor against the local GitHub server and a temporary Dagster instance.
Usage: python benchmarks/sensor_tick.py [--prs 100 1000 5000] [--rounds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import dagster as dg
import yaml

from aither_assets.defs.prs.sensors import pull_request_sensor
from aither_assets.defs.resources import AitherConfig, GitHubResource
from aither_assets.devstack.localgithub.server import run_in_thread
from aither_assets.devstack.localgithub.store import LocalGitHub
from aither_assets.runs.partitions import PR_PARTITIONS_NAME


def measure(prs: int, rounds: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp, dg.instance_for_test() as instance:
        tmp = Path(tmp)
        source = tmp / "src"
        source.mkdir()
        (source / "README.md").write_text("bench\n")
        store = LocalGitHub(tmp / "gh")
        token = store.create_user("aither-bot")
        store.create_user("alice")
        store.create_repo("acme", "web", source_dir=source)
        store.add_collaborator("acme", "web", "alice", "write")
        numbers = store.bulk_open_prs("acme", "web", count=prs, base="main", author="alice")
        with run_in_thread(tmp / "gh") as url:
            os.environ["AITHER_BENCH_TOKEN"] = token
            config_file = tmp / "aither.yaml"
            config_file.write_text(yaml.safe_dump({"repository": "acme/web", "github": {
                "api_url": url, "token_env": "AITHER_BENCH_TOKEN", "seconds_between_writes": 0}}))
            config = AitherConfig(path=str(config_file))
            resources = {"aither_config": config, "github": GitHubResource(config=config)}
            cursor = None

            def tick() -> tuple[float, int, int]:
                nonlocal cursor
                before = len(store.request_log())
                started = time.perf_counter()
                with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources) as ctx:
                    result = pull_request_sensor(ctx)
                seconds = time.perf_counter() - started
                cursor = result.cursor
                for request in result.dynamic_partitions_requests or []:
                    instance.add_dynamic_partitions(PR_PARTITIONS_NAME, list(request.partition_keys))
                return seconds, len(store.request_log()) - before, len(result.run_requests)

            first = tick()
            unchanged, changed = [], []
            step = max(1, prs // 100)
            for round_ in range(rounds):  # alternate the two kinds of poll
                unchanged.append(tick())
                for number in numbers[round_::step][: max(1, prs // 100)]:
                    store.commit_files("acme", "web", f"bulk/pr-{number}", {"x.txt": f"{round_}\n"}, "push")
                changed.append(tick())

    def stats(samples, index):
        values = [s[index] for s in samples]
        return {"median": statistics.median(values), "min": min(values), "max": max(values)}

    return {
        "open_prs": prs,
        "first_tick": {"seconds": first[0], "requests": first[1], "run_requests": first[2]},
        "unchanged_poll": {"seconds": stats(unchanged, 0), "requests": stats(unchanged, 1),
                           "run_requests": stats(unchanged, 2)},
        "one_percent_new_heads": {"seconds": stats(changed, 0), "requests": stats(changed, 1),
                                  "run_requests": stats(changed, 2)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prs", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = [measure(n, args.rounds) for n in args.prs]
    print(f"{'open PRs':>9} | {'first tick':>18} | {'unchanged poll':>22} | {'1 % new heads':>24}")
    for r in results:
        u, c, f = r["unchanged_poll"], r["one_percent_new_heads"], r["first_tick"]
        print(f"{r['open_prs']:>9} | {f['seconds']:6.2f} s {f['requests']:4d} req | "
              f"{u['seconds']['median']:6.3f} s {u['requests']['median']:3.0f} req | "
              f"{c['seconds']['median']:6.3f} s {c['requests']['median']:3.0f} req "
              f"{c['run_requests']['median']:3.0f} runs")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
