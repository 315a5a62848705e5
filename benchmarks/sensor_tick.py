"""Sensor cost: tick time and GitHub requests with N open PRs (first tick, unchanged poll, 1 % new heads).

Runs the real sensor against the local GitHub server and a temporary Dagster instance: SQLite (the
embedded profile) or PostgreSQL (the production profile: Dagster's storage and the head claims in one
database of a server started for the measurement, Debian's PostgreSQL).
Usage: python benchmarks/sensor_tick.py [--prs 100 1000 5000] [--rounds 3] [--backend sqlite postgres]
       [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import shutil
import socket
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import dagster as dg
import yaml

from aither_assets.defs.prs.sensors import pull_request_sensor
from aither_assets.defs.resources import AitherConfig, GitHubResource
from aither_assets.devstack.localgithub.server import run_in_thread
from aither_assets.devstack.localgithub.store import LocalGitHub
from aither_assets.runs.partitions import PR_PARTITIONS_NAME


@contextlib.contextmanager
def _instance(backend: str):
    """(instance, PostgreSQL URL or None) on ``backend``."""
    if backend == "sqlite":
        with dg.instance_for_test() as instance:
            yield instance, None
        return
    from aither_assets.devstack import postgres
    from aither_assets.runtime.statestore import sqlalchemy_url

    top = Path(tempfile.mkdtemp(prefix="aither-bench-pg-"))  # outside root's 0700 folders: the server's user enters
    if os.geteuid() == 0:
        user = pwd.getpwnam(postgres.SERVER_USER)
        os.chown(top, user.pw_uid, user.pw_gid)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    try:
        with postgres.running(top / "data", port, database=f"bench_{uuid.uuid4().hex[:8]}") as server:
            url = sqlalchemy_url(server.url)
            with dg.instance_for_test(overrides={"storage": {"postgres": {"postgres_url": url}}}) as instance:
                yield instance, url
    finally:
        shutil.rmtree(top, ignore_errors=True)


def measure(prs: int, rounds: int, backend: str = "sqlite") -> dict:
    with tempfile.TemporaryDirectory() as tmp, _instance(backend) as (instance, postgres_url):
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
            storage = {"root": str(tmp / "store")}
            if postgres_url:  # the head claims in Postgres too, as in production
                os.environ["AITHER_BENCH_POSTGRES_URL"] = postgres_url
                storage["state_postgres_url_env"] = "AITHER_BENCH_POSTGRES_URL"
            config_file = tmp / "aither.yaml"
            config_file.write_text(yaml.safe_dump({"repository": "acme/web", "github": {
                "api_url": url, "token_env": "AITHER_BENCH_TOKEN", "seconds_between_writes": 0},
                "storage": storage}))
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
        "backend": backend,
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
    parser.add_argument("--backend", nargs="+", choices=["sqlite", "postgres"], default=["sqlite"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = [measure(n, args.rounds, backend) for n in args.prs for backend in args.backend]
    print(f"{'backend':>8} | {'open PRs':>9} | {'first tick':>18} | {'unchanged poll':>22} | {'1 % new heads':>24}")
    for r in results:
        u, c, f = r["unchanged_poll"], r["one_percent_new_heads"], r["first_tick"]
        print(f"{r['backend']:>8} | {r['open_prs']:>9} | {f['seconds']:6.2f} s {f['requests']:4d} req | "
              f"{u['seconds']['median']:6.3f} s {u['requests']['median']:3.0f} req | "
              f"{c['seconds']['median']:6.3f} s {c['requests']['median']:3.0f} req "
              f"{c['run_requests']['median']:3.0f} runs")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
