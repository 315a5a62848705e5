"""Promotion latency on the product's real path: ``/promote dev`` comment -> ring live and verified.

Starts the embedded stack headless (as ``aither demo --once``: local GitHub with the sample PRs,
registry, Dagster daemon and webserver, the webhook receiver), waits for the pipeline runs of two
dev PRs, then for R rounds promotes them to dev in turn (so every round deploys another digest):
the maintainer posts ``/promote dev`` on the local GitHub and we time comment -> run created (the
issue_comment webhook, the receiver's GitHub reads and GraphQL submission) -> run started (queue,
launch) -> the ring_state record of the verified deploy (gates, deploy, health, smoke, retag,
GitHub deployment). Everything started is stopped at the end.

Then rollback latency: R rounds of a maintainer's ``/rollback dev`` (posted on the PR live in dev) ->
the ring_state record of the verified rollback to the last good build (each rollback holds the build
it replaced, so a ``/unhold`` comment, answered by the receiver, releases it before the next round).
And automatic rollback latency, read from the record alone: R rounds of ``/promote dev`` for the
``ring-flag`` PR (it fails its verification in a ring): the failed-verification observation (when the
smoke check failed) -> the automatic rollback's ring_state record (the ring back on the good digest,
health-checked); ring-flag is held by each and unheld before the next.

Run it under the demo lock: flock /tmp/aither-demo.lock python benchmarks/promotion.py
Usage: python benchmarks/promotion.py [--rounds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg

from aither_assets.devstack.demo.run import _wait_for_runs, prepare, start
from aither_assets.devstack.demo.seed import AUTHOR, MAINTAINER
from aither_assets.devstack.demo.stack import TOKEN_ENV, Stack, environment, stop_on_sigterm
from aither_assets.devstack.localgithub.store import LocalGitHub
from aither_assets.promotion.names import COMMAND_COMMENT_TAG
from aither_assets.promotion.requests import REPLY_MARKER

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import stats  # noqa: E402

PRS = ("items-pagination", "hostile")  # two dev PRs whose pipelines pass
BAD = "ring-flag"  # passes its pipeline, fails its verification in every ring


def log(message: str) -> None:
    print(f"[promotion {time.strftime('%H:%M:%S')}] {message}", flush=True)


def post(data_dir: Path, repository: str, number: int, body: str, user: str = MAINTAINER) -> tuple[float, int]:
    owner, name = repository.split("/")
    store = LocalGitHub(data_dir / "github")
    try:
        posted = time.time()
        return posted, store.create_comment(owner, name, number, body, user=user)["id"]
    finally:
        store.close()


def finished_run(instance: dg.DagsterInstance, comment: int, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        records_ = instance.get_run_records(filters=dg.RunsFilter(tags={COMMAND_COMMENT_TAG: str(comment)}), limit=1)
        if records_ and records_[0].dagster_run.is_finished:
            return records_[0]
        if time.monotonic() > deadline:
            raise TimeoutError(f"no finished run for comment {comment}")
        time.sleep(0.05)


def unhold(data_dir: Path, repository: str, number: int, timeout: float) -> None:
    """A maintainer's /unhold, and the receiver's answer to it."""
    _, comment = post(data_dir, repository, number, "/unhold benchmark round")
    owner, name = repository.split("/")
    marker = REPLY_MARKER.format(id=comment)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        store = LocalGitHub(data_dir / "github")
        try:
            replies = [c["body"] for c in store.list_comments(owner, name, number) if c["body"].startswith(marker)]
        finally:
            store.close()
        if replies:
            if "recorded:" not in replies[0]:
                raise RuntimeError(f"/unhold of #{number} not recorded: {replies[0]}")
            return
        time.sleep(0.1)
    raise TimeoutError(f"no answer to /unhold of #{number}")


def one_round(data_dir: Path, instance: dg.DagsterInstance, repository: str, number: int, timeout: float) -> dict:
    from aither_assets.runs import rings as records

    posted, comment = post(data_dir, repository, number, "/promote dev benchmark")
    record = finished_run(instance, comment, timeout)
    live = records.live(instance, "dev")
    ok = record.dagster_run.status == dg.DagsterRunStatus.SUCCESS and live is not None and live.pr == number
    created = record.create_timestamp.timestamp()
    started = record.start_time
    return {"pr": number, "run_id": record.dagster_run.run_id, "status": record.dagster_run.status.value,
            "verified": ok, "comment_to_live": round(live.since - posted, 3) if ok else None,
            "comment_to_run_created": round(created - posted, 3),
            "run_queue_and_launch": round(started - created, 3) if started else None,
            "run_start_to_live": round(live.since - started, 3) if ok and started else None}


def rollback_round(data_dir: Path, instance: dg.DagsterInstance, repository: str, timeout: float) -> dict:
    """``/rollback dev`` on the PR live in dev -> dev verified on the last good build; then /unhold of the
    build it replaced, so the next round has something good to go back to."""
    from aither_assets.runs import rings as records

    before = records.live(instance, "dev")
    posted, comment = post(data_dir, repository, before.pr, "/rollback dev benchmark")
    record = finished_run(instance, comment, timeout)
    live = records.live(instance, "dev")
    ok = (record.dagster_run.status == dg.DagsterRunStatus.SUCCESS and live is not None and live.kind == "rollback"
          and live.digest != before.digest)
    created, started = record.create_timestamp.timestamp(), record.start_time
    result = {"from_pr": before.pr, "to_pr": live.pr if live else None, "run_id": record.dagster_run.run_id,
              "status": record.dagster_run.status.value, "verified": ok,
              "comment_to_live": round(live.since - posted, 3) if ok else None,
              "comment_to_run_created": round(created - posted, 3),
              "run_queue_and_launch": round(started - created, 3) if started else None,
              "run_start_to_live": round(live.since - started, 3) if ok and started else None}
    unhold(data_dir, repository, before.pr, timeout)
    return result


def automatic_rollback_round(data_dir: Path, instance: dg.DagsterInstance, repository: str, bad: int,
                             timeout: float) -> dict:
    """``/promote dev`` of the ring-flag PR: its verification fails and dev goes back on its own. Measured from
    the record: the failed-verification observation -> the automatic rollback's ring_state record."""
    from aither_assets.release_policy.events import EventKind
    from aither_assets.release_policy.rollback import AUTO_ROLLBACK_REQUESTER
    from aither_assets.runs import ring_record
    from aither_assets.runs import rings as records

    before = records.live(instance, "dev")
    posted, comment = post(data_dir, repository, bad, "/promote dev benchmark", user=AUTHOR)
    finished_run(instance, comment, timeout)
    events = [e for e in ring_record.ring_events(instance, ("dev",)) if e.at.timestamp() >= posted]
    failure = next((e for e in events if e.kind is EventKind.VERIFICATION_FAILED and e.pr == bad), None)
    rollback = next((e for e in events if e.kind is EventKind.ROLLBACK and e.replaced_pr == bad), None)
    live = records.live(instance, "dev")
    ok = (failure is not None and rollback is not None and rollback.requester == AUTO_ROLLBACK_REQUESTER
          and live is not None and live.digest == before.digest)
    result = {"pr": bad, "back_on_pr": live.pr if live else None, "verified": ok,
              "failure_to_rolled_back": round((rollback.at - failure.at).total_seconds(), 3) if ok else None,
              "comment_to_rolled_back": round(rollback.at.timestamp() - posted, 3) if ok else None}
    unhold(data_dir, repository, bad, timeout)
    return result


def run(rounds: int, timeout: float = 900) -> dict:
    stop_on_sigterm()
    data_dir = Path(tempfile.mkdtemp(prefix="aither-bench-promotion-"))
    results: dict = {"settings": {"rounds": rounds, "data_dir": str(data_dir)}, "rounds": []}
    started = time.monotonic()
    try:
        seeded = prepare(data_dir, reset=True)
        numbers = [p.number for p in seeded.prs if p.name in PRS]
        bad = next(p.number for p in seeded.prs if p.name == BAD)
        with Stack(data_dir) as stack:
            env = start(stack, data_dir, seeded, sensor_interval=30)
            with environment({k: v for k, v in env.items() if k.isupper()}):
                from aither_assets.config.operator import load_operator_config
                from aither_assets.devstack.demo.promotion import remove_rings
                from aither_assets.github.client import client_from_config

                config = load_operator_config(env["AITHER_CONFIG"])
                client = client_from_config(config, {TOKEN_ENV: seeded.api_token})
                instance = dg.DagsterInstance.get()
                try:
                    log(f"waiting for the pipeline runs of PRs {numbers}")
                    _wait_for_runs(instance, [client.pull(n) for n in [*numbers, bad]], time.monotonic() + timeout,
                                   stack)
                    for i in range(rounds + 1):  # the first round warms up (first ring container, first pull)
                        number = numbers[i % 2]
                        result = one_round(data_dir, instance, seeded.repository, number, timeout)
                        result["warmup"] = i == 0
                        log(f"round {i}: PR #{number} {result}")
                        results["rounds"].append(result)
                    results["rollback_rounds"] = []
                    for i in range(rounds):
                        result = rollback_round(data_dir, instance, seeded.repository, timeout)
                        log(f"rollback round {i}: {result}")
                        results["rollback_rounds"].append(result)
                    results["automatic_rollback_rounds"] = []
                    for i in range(rounds):
                        time.sleep(1.05)  # GitHub's whole seconds: the /unhold before is older than this round
                        result = automatic_rollback_round(data_dir, instance, seeded.repository, bad, timeout)
                        log(f"automatic rollback round {i}: {result}")
                        results["automatic_rollback_rounds"].append(result)
                finally:
                    remove_rings(config.rings.ladder, config.app)
                    instance.dispose()
        measured = [r for r in results["rounds"] if not r["warmup"]]
        results["summary"] = {key: stats(r[key] for r in measured) for key in (
            "comment_to_live", "comment_to_run_created", "run_queue_and_launch", "run_start_to_live")}
        results["rollback_summary"] = {key: stats(r[key] for r in results["rollback_rounds"]) for key in (
            "comment_to_live", "comment_to_run_created", "run_queue_and_launch", "run_start_to_live")}
        results["automatic_rollback_summary"] = {key: stats(r[key] for r in results["automatic_rollback_rounds"])
                                                 for key in ("failure_to_rolled_back", "comment_to_rolled_back")}
        results["all_verified"] = all(r["verified"] for r in [*measured, *results["rollback_rounds"],
                                                              *results["automatic_rollback_rounds"]])
    except Exception as exc:  # noqa: BLE001 - keep what was measured, say what went wrong
        results["error"] = f"{type(exc).__name__}: {exc}"
        log(f"FAILED: {results['error']}")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
        results["seconds"] = round(time.monotonic() - started, 1)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    results = run(args.rounds)
    text = json.dumps(results, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return 1 if "error" in results or not results.get("all_verified") else 0


if __name__ == "__main__":
    sys.exit(main())
