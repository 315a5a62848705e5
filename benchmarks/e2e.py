"""End-to-end PR latency on the product's real path, against a plain sequential script; work avoided; memory.

Starts the embedded stack headless, like ``aither demo --once`` (local GitHub seeded with the sample
app and its PRs, a registry, the Dagster daemon with the real sensors), in a fresh folder under /tmp,
waits for the seeded PRs' first runs (warm-up), then for R rounds, alternating which goes first:

* pipeline: push a one-line source change to a PR on the local GitHub and time push -> run queued
  (sensor) -> run started (queue + launch) -> dashboard page written (by the run's own report steps,
  or by a report run when the run could not report) -> feedback published -> run end; step durations
  from the run's event log (STEP_START/STEP_SUCCESS);
* plain: push the same kind of one-line change to a draft PR (the sensor skips drafts) with the same
  files, and run ``benchmarks/plain_pipeline.py`` on it: the same work, sequential, no Dagster.

Then work avoided (an unchanged poll starts no run; a docs-only head builds and deploys nothing; a
one-line change rebuilds the image from the layer cache, against a build without cache) and memory
(peak RSS of the daemon, the code server and a run with N more open PRs, from /proc VmHWM).

Everything started is stopped at the end: the stack's processes, the preview containers of the
benchmark's app names, the images pushed to the stack's registry, and the data folder.

Usage: python benchmarks/e2e.py [--rounds 3] [--quick] [--memory-prs 1000] [--json out.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
import yaml
from dagster._core.events import DagsterEventType

from aither_assets.devstack.baseimage import ensure_base_images
from aither_assets.devstack.demo.run import TERMINAL, prepare, start_webhooks, webhook_deliveries, write_operator_config
from aither_assets.devstack.demo.seed import AUTHOR, OWNER, REPO
from aither_assets.devstack.demo.stack import (
    TOKEN_ENV,
    Stack,
    check_docker,
    dagster_home,
    environment,
    free_port,
    stop_on_sigterm,
)
from aither_assets.devstack.localgithub.store import LocalGitHub
from aither_assets.devstack.runnerimage import ensure_runner_image
from aither_assets.reporting.summary import report_record, reported_in_run, run_outcome, triggered_by
from aither_assets.runs.partitions import PR_PARTITIONS_NAME
from aither_assets.runs.pipeline import PIPELINE_JOB_NAME
from aither_assets.runs.tags import HEAD_SHA_TAG, PR_TAG
from aither_assets.runtime.procstat import is_dead, stat_fields

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import loadavg, machine, ratio, stats  # noqa: E402
from memory import Sampler  # noqa: E402

APP = "aither-bench"  # the pipeline's app name (images, preview containers), apart from any other demo
PLAIN_APP = "aither-plain"  # the plain script's
CACHE_APP = "aither-cache"  # the direct cold/warm builds'
IN_PROGRESS = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
               dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
# plain stage -> the pipeline step doing that work
STAGE_TO_STEP = {"checkout+context": "pr_context", "validation": "validation_report", "package": "build_artifacts",
                 "linters": "quality_report", "tests": "test_suites", "image": "container_image",
                 "deploy": "pr_environment", "smoke": "smoke_report", "dashboard": "pr_dashboard"}
SEEDED_TARGET = "items-pagination"  # the PR that gets the one-line source changes
SEEDED_DOCS = "docs-readme"  # the docs-only PR


class BenchError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[e2e {time.strftime('%H:%M:%S')}] {message}", flush=True)


class E2E:
    def __init__(self, data_dir: Path, quick: bool, timeout: float, sensor_interval: int):
        self.data_dir = data_dir
        self.quick = quick
        self.timeout = timeout
        self.sensor_interval = sensor_interval
        self.webhooks_url = ""
        self.stack: Stack | None = None
        self.instance: dg.DagsterInstance | None = None
        self.env: dict[str, str] = {}
        self.config_path: Path | None = None
        self.registry = ""

    # ------------------------------------------------------------------ stack

    def start(self, warmup: str) -> None:
        seeded = prepare(self.data_dir, reset=True)
        by_name = {p.name: p for p in seeded.prs}
        self.target = by_name[SEEDED_TARGET].number
        self.docs = by_name[SEEDED_DOCS].number
        store = LocalGitHub(self.data_dir / "github")
        try:
            # The plain script's PR: a draft (the sensor skips it) with the target PR's changes.
            target = store.get_pr(OWNER, REPO, self.target)
            store.create_branch(OWNER, REPO, "bench/plain", target["head_ref"])
            self.plain_pr = store.open_pr(OWNER, REPO, head="bench/plain", base=target["base_ref"],
                                          title="Benchmark: the plain script's PR", user=AUTHOR, draft=True)
            if warmup == "needed":  # only the PRs the benchmark uses get their first run
                for pr in seeded.prs:
                    if pr.number not in (self.target, self.docs) and pr.should_run:
                        store.close_pr(OWNER, REPO, pr.number)
                self.warm = [self.target, self.docs]
            else:
                self.warm = [p.number for p in seeded.prs if p.should_run]
        finally:
            store.close()
        self.seeded = seeded
        self.stack = Stack(self.data_dir).__enter__()
        check_docker()
        log("base image (cached after the first time) ...")
        base_images = ensure_base_images(["linux/amd64"])
        ensure_runner_image()  # the pipeline runs suites and linters in sandbox containers of it
        github_url = self.stack.start_local_github(free_port(8765))
        self.registry = self.stack.start_registry(free_port(5000))
        # As aither.demo.run.start does, plus an app name of our own: images and preview containers
        # are named after it, so nothing here can touch another demo's (or test's) containers.
        config = write_operator_config(self.data_dir, github_url, self.registry, seeded.repository, base_images,
                                       None, None)
        raw = yaml.safe_load(config.read_text())
        raw["app_name"] = APP
        config.write_text(yaml.safe_dump(raw, sort_keys=False))
        self.config_path = config
        self.env = {
            "DAGSTER_HOME": str(dagster_home(self.data_dir)),
            "AITHER_CONFIG": str(config),
            TOKEN_ENV: seeded.api_token,
            "AITHER_SENSOR_INTERVAL_SECONDS": str(self.sensor_interval),
            "AITHER_SWEEP_INTERVAL_SECONDS": str(max(30, self.sensor_interval)),  # as in the demo
        }
        self._env_cm = environment(self.env)
        self._env_cm.__enter__()
        dagster_url = self.stack.start_dagster(self.env, free_port())
        self.webhooks_url = start_webhooks(self.stack, self.data_dir, seeded.repository, self.env, dagster_url)
        self.instance = dg.DagsterInstance.get()

    def stop(self) -> dict:
        """Stop everything; say what, if anything, is left."""
        left: dict = {}
        try:
            from aither_assets.environments.docker_env import PreviewEnvironments
            for app in (APP, PLAIN_APP):
                PreviewEnvironments(app=app).sweep(open_prs=set())
            left["containers"] = [c.name for app in (APP, PLAIN_APP) for c in PreviewEnvironments(app=app).list_ours()]
        except Exception as exc:  # noqa: BLE001 - report, keep stopping
            left["containers_error"] = str(exc)
        if self.instance is not None:
            self.instance.dispose()
            self.instance = None
        if self.stack is not None:
            self.stack.stop()
            self.stack = None
        if getattr(self, "_env_cm", None) is not None:
            self._env_cm.__exit__(None, None, None)
            self._env_cm = None
        left["images_removed"] = remove_images(self.registry) if self.registry else 0
        left["processes"] = leftover_processes(self.data_dir)
        return left

    def alive(self) -> None:
        dead = [name for name, proc in (self.stack.procs if self.stack else []) if proc.poll() is not None]
        if dead:
            raise BenchError(f"{', '.join(dead)} exited early; see {self.data_dir / 'logs'}")

    # ------------------------------------------------------------------ GitHub side

    def push(self, number: int, files: dict[str, str], message: str) -> tuple[str, float]:
        store = LocalGitHub(self.data_dir / "github")
        try:
            pr = store.get_pr(OWNER, REPO, number)
            sha = store.commit_files(pr["head_repo"].split("/")[0], REPO, pr["head_ref"], files, message, author=AUTHOR)
        finally:
            store.close()
        return sha, time.time()

    def head(self, number: int) -> str:
        store = LocalGitHub(self.data_dir / "github")
        try:
            return store.get_pr(OWNER, REPO, number)["head_sha"]
        finally:
            store.close()

    def requests_since(self, since_id: int) -> list[dict]:
        store = LocalGitHub(self.data_dir / "github")
        try:
            return store.request_log(since_id=since_id)
        finally:
            store.close()

    # ------------------------------------------------------------------ Dagster side

    def pipeline_record(self, number: int, sha: str):
        records = self.instance.get_run_records(
            filters=dg.RunsFilter(tags={PR_TAG: str(number), HEAD_SHA_TAG: sha}, job_name=PIPELINE_JOB_NAME), limit=1)
        return records[0] if records else None

    def wait_reported(self, number: int, sha: str, timeout: float | None = None):
        """The finished pipeline run of this head, and its finished report run if it did not report itself
        (None when it did)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            run = self.pipeline_record(number, sha)
            if run is not None and run.dagster_run.status.value in TERMINAL:
                if reported_in_run(self.instance, run.dagster_run.run_id):
                    return run, None
                report = report_record(self.instance, run.dagster_run.run_id)
                if report is not None and report.dagster_run.status.value in TERMINAL:
                    return run, report
            self.alive()
            if time.monotonic() > deadline:
                raise BenchError(f"PR #{number} head {sha[:8]}: no finished, reported run within the timeout")
            time.sleep(0.5)

    def wait_quiet(self, timeout: float = 300) -> None:
        """Until no run of any job is queued, starting or running."""
        deadline = time.monotonic() + timeout
        while self.instance.get_runs_count(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
            self.alive()
            if time.monotonic() > deadline:
                raise BenchError("runs still in progress after the timeout")
            time.sleep(0.5)

    def events(self, run_id: str) -> list:
        return [r.event_log_entry for r in self.instance.get_records_for_run(run_id).records]

    def steps(self, run_id: str) -> tuple[dict[str, float], dict[str, float]]:
        """(step key -> seconds from STEP_START to STEP_SUCCESS / STEP_FAILURE, step key -> its end time)."""
        started, out, ends = {}, {}, {}
        for entry in self.events(run_id):
            event = entry.dagster_event
            if event is None or not event.step_key:
                continue
            if event.event_type == DagsterEventType.STEP_START:
                started[event.step_key] = entry.timestamp
            elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
                ends[event.step_key] = entry.timestamp
                if event.step_key in started:
                    out[event.step_key] = round(entry.timestamp - started[event.step_key], 3)
        return out, ends

    def marks(self, run_id: str) -> dict[str, float]:
        """First timestamp of each run-level event (RUN_ENQUEUED, RUN_STARTING, RUN_START, RUN_SUCCESS ...)."""
        out: dict[str, float] = {}
        for entry in self.events(run_id):
            event = entry.dagster_event
            if event is not None and event.event_type.name.startswith("RUN_"):
                out.setdefault(event.event_type.name, entry.timestamp)
        return out

    def timings(self, run_rec, report_rec, t_push: float, number: int) -> dict:
        """Where the time from the push went. ``report_rec`` is the report run, None when the
        pipeline run published the dashboard and feedback in its own last steps."""
        run = run_rec.dagster_run
        marks = self.marks(run.run_id)
        steps, step_ends = self.steps(run.run_id)
        queued = marks.get("RUN_ENQUEUED") or _utc(run_rec.create_timestamp)
        starting = marks.get("RUN_STARTING")
        started, ended = run_rec.start_time, run_rec.end_time
        page = self.data_dir / "store" / "pages" / f"pr-{number}" / "index.html"
        page_at = page.stat().st_mtime if page.exists() else None
        if page_at is not None and started is not None and page_at < started:
            page_at = None  # not (re)written for this run
        if report_rec is None:
            report_steps, feedback_at, rep_queued = {}, step_ends.get("pr_feedback"), None
        else:
            report_steps = self.steps(report_rec.dagster_run.run_id)[0]
            feedback_at = report_rec.end_time
            rep_queued = self.marks(report_rec.dagster_run.run_id).get("RUN_ENQUEUED") or _utc(
                report_rec.create_timestamp)
        run_seconds = ended - started if ended and started else None
        steps_total = round(sum(steps.values()), 3)
        trigger = triggered_by(run)
        delivery = next((d for d in webhook_deliveries(self.webhooks_url)
                         if d["head_sha"] == run.tags.get(HEAD_SHA_TAG) and d["event"] == "pull_request"), None)
        outcome = run_outcome(self.instance, run)[0]
        image = outcome.get("container_image")
        return {
            "run_id": run.run_id,
            "status": run.status.value,
            "reported_by": "pipeline run" if report_rec is None else "report run",
            "report_status": None if report_rec is None else report_rec.dagster_run.status.value,
            "push_to_dashboard": _sub(page_at, t_push),
            "push_to_feedback_done": _sub(feedback_at, t_push),
            "detection": _sub(started, t_push),
            "triggered_by": trigger,
            "detection_request": _sub(queued, t_push),  # push -> the run is queued (by the webhook or the sensor)
            # ... of which, by webhook: GitHub's delivery reaching the receiver, then its work (GitHub read,
            # decision, GraphQL submission) until the run is queued
            "detection_webhook_delivery": _sub(delivery and delivery["received_at"], t_push),
            "detection_webhook_submit": _sub(queued, delivery and delivery["received_at"])
            if trigger == "webhook" else None,
            # ... or by the sensor: waiting for the daemon's next sensor tick, and the tick itself
            **self.sensor_tick(run.run_id, t_push),
            "detection_queue": _sub(starting, queued),  # queued -> the run queue launches it
            "detection_launch": _sub(started, starting),  # launch: worker process start, code load
            "run_start_to_dashboard": _sub(page_at, started),
            "run": _round(run_seconds),
            "run_steps_total": steps_total,
            "run_overhead": _round(run_seconds - steps_total) if run_seconds is not None else None,
            "run_events": len(self.events(run.run_id)),  # each one a write to the event log
            "steps": steps,
            "report_sensor": _sub(rep_queued, ended),  # run end -> report run queued (report runs only)
            "report_queue_launch": None if report_rec is None else _sub(report_rec.start_time, rep_queued),
            "report_steps": report_steps,
            "report_run": None if report_rec is None else _sub(report_rec.end_time, report_rec.start_time),
            "image": {k: image.metadata.get(k) for k in ("build_seconds", "push_seconds", "cached_steps")}
            if image is not None and image.status == "MATERIALIZED" else None,
            "assets": {name: a.status for name, a in outcome.items()},
        }

    # ------------------------------------------------------------------ the two sides of a round

    def pipeline_round(self, label: str) -> dict:
        self.wait_quiet()
        load = loadavg()
        sha, t_push = self.push(self.target, {"app/bench_round.py": f'ROUND = "pipeline-{label}"\n'},
                                f"bench: one-line change ({label})")
        run, report = self.wait_reported(self.target, sha)
        result = self.timings(run, report, t_push, self.target)
        result.update(round=label, head_sha=sha, loadavg=load)
        if result["status"] != "SUCCESS":
            raise BenchError(f"pipeline run {result['run_id']} ended {result['status']}; see the Dagster instance in "
                             f"{self.data_dir} (--keep-data)")
        log(f"pipeline {label}: push -> dashboard {result['push_to_dashboard']} s "
            f"(detection {result['detection']} s, run start -> dashboard {result['run_start_to_dashboard']} s, "
            f"run {result['run']} s, reported by the {result['reported_by']})")
        return result

    def plain_round(self, label: str, iteration: int) -> dict:
        self.wait_quiet()
        load = loadavg()
        sha, _ = self.push(self.plain_pr, {"app/bench_round.py": f'ROUND = "plain-{label}"\n'},
                           f"bench: one-line change ({label})")
        out = self.data_dir / "plain" / f"result-{label}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, str(HERE / "plain_pipeline.py"), "--config", str(self.config_path),
                "--pr", str(self.plain_pr), "--sha", sha, "--out", str(self.data_dir / "plain"), "--app", PLAIN_APP,
                "--iteration", str(iteration), "--keep-environment", "--json", str(out)]
        started = time.time()
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout,
                              env={**os.environ, **self.env})
        wall = time.time() - started
        if proc.returncode != 0 or not out.exists():
            raise BenchError(f"plain script failed ({proc.returncode}): {proc.stdout[-1500:]} {proc.stderr[-1500:]}")
        result = json.loads(out.read_text())
        result.update(round=label, wall=round(wall, 3), loadavg=load)
        log(f"plain {label}: {result['wall']} s (stages {result['stages_total_seconds']} s)")
        return result

    # ------------------------------------------------------------------ work avoided

    def pr_sensor_state(self):
        return next(s for s in self.instance.all_instigator_state() if s.name == "pull_request_sensor")

    def sensor_tick(self, run_id: str, t_push: float) -> dict:
        """When the PR sensor's tick that requested ``run_id`` started and how long it took."""
        state = self.pr_sensor_state()
        ticks = self.instance.get_ticks(state.instigator_origin_id, state.selector_id, after=t_push - 60)
        tick = next((t for t in ticks if run_id in t.run_ids), None)
        if tick is None:
            return {"detection_tick_wait": None, "detection_tick": None}
        return {"detection_tick_wait": _sub(tick.timestamp, t_push),
                "detection_tick": _sub(tick.end_timestamp, tick.timestamp) if tick.end_timestamp else None}

    def unchanged_poll(self, ticks: int = 3) -> dict:
        """Ticks of the PR sensor with nothing new on GitHub start no run (one 304 request each)."""
        self.wait_quiet()
        state = self.pr_sensor_state()
        since = time.time()
        runs_before = self.instance.get_runs_count(filters=dg.RunsFilter(job_name=PIPELINE_JOB_NAME))
        last_request = (self.requests_since(0) or [{"id": 0}])[-1]["id"]
        deadline = time.monotonic() + ticks * (max(self.sensor_interval, 5) + 5) + 30
        seen = []
        while time.monotonic() < deadline:
            seen = [t for t in self.instance.get_ticks(state.instigator_origin_id, state.selector_id, after=since)
                    if t.status.value in ("SKIPPED", "SUCCESS", "FAILURE")]
            if len(seen) >= ticks:
                break
            time.sleep(1)
        requests = self.requests_since(last_request)
        runs_after = self.instance.get_runs_count(filters=dg.RunsFilter(job_name=PIPELINE_JOB_NAME))
        pulls = [r for r in requests if r["path"].split("?", 1)[0].endswith("/pulls")]
        return {
            "ticks": len(seen),
            "runs_started": runs_after - runs_before,
            "tick_run_requests": sum(len(t.run_ids) for t in seen),
            "pull_list_requests": len(pulls),
            "pull_list_not_modified": sum(1 for r in pulls if r["status"] == 304),
            "github_requests": len(requests),
        }

    def docs_only(self) -> dict:
        """A docs-only head: validation and the dashboard run; no build, test, image, environment or smoke."""
        self.wait_quiet()
        from aither_assets.environments.docker_env import PreviewEnvironments
        sha, t_push = self.push(self.docs, {"docs/benchmark.md": "One more line of documentation.\n"},
                                "bench: docs-only change")
        run, report = self.wait_reported(self.docs, sha)
        result = self.timings(run, report, t_push, self.docs)
        containers = [c for c in PreviewEnvironments(app=APP).list_ours() if c.pr == self.docs]
        assets = result["assets"]
        result["image_built"] = assets.get("container_image") == "MATERIALIZED"
        result["deployed"] = assets.get("pr_environment") == "MATERIALIZED" or bool(containers)
        log(f"docs-only: image built {result['image_built']}, deployed {result['deployed']}, "
            f"push -> dashboard {result['push_to_dashboard']} s")
        return result

    def cache_builds(self, rounds: int) -> dict:
        """A one-line change built with the layer cache against the same tree built with no cache."""
        import docker

        from aither_assets.config.operator import load_operator_config
        from aither_assets.config.pipeline import load_pipeline_config
        from aither_assets.github.client import client_from_config
        from aither_assets.images.build import build_image
        from aither_assets.images.tags import image_repository, oci_labels
        from aither_assets.workspace import RepoCache

        self.wait_quiet()
        operator = load_operator_config(self.config_path)
        sha = self.head(self.target)
        cache = RepoCache(self.data_dir / "plain" / "cache")
        client = client_from_config(operator, self.env)
        cache.fetch_pr(client.repository, client.clone_url(), self.target, sha, client.token)
        tree = cache.export(f"{OWNER}/{REPO}", sha, Path(tempfile.mkdtemp(prefix="tree-", dir=self.data_dir)) / "t")
        pipeline = load_pipeline_config(tree)
        repository = image_repository(operator.registry.address, CACHE_APP)
        api = docker.APIClient(version="auto", **docker.utils.kwargs_from_env())
        cold, warm = [], []
        try:
            for i in range(rounds):
                for kind in (("cold", "warm") if i % 2 == 0 else ("warm", "cold")):
                    (tree / "app" / "bench_round.py").write_text(f'ROUND = "cache-{kind}-{i}"\n')
                    client = _NoCache(api) if kind == "cold" else api
                    now = dt.datetime.now(dt.timezone.utc).isoformat()  # labelled as the pipeline labels its images
                    labels = oci_labels(f"http://local/{OWNER}/{REPO}", sha, now, self.target, "dev", "dev",
                                        title=CACHE_APP)
                    result = build_image(tree, pipeline.docker.dockerfile, list(pipeline.docker.platforms), repository,
                                         [f"{kind}-{i}"], labels=labels, base_images=dict(operator.images.base_images),
                                         insecure_registry=True, client=client)
                    (cold if kind == "cold" else warm).append(
                        {"build_seconds": result.build_seconds, "push_seconds": result.push_seconds,
                         "cached_steps": result.cached_steps})
        finally:
            api.close()
            shutil.rmtree(tree.parent, ignore_errors=True)
        return {"cold": cold, "warm": warm}

    # ------------------------------------------------------------------ memory

    def memory(self, prs: int, during) -> dict:
        """Open ``prs`` more PRs (drafts: the sensor sees and skips them all), then run ``during``
        while sampling the stack's processes."""
        self.wait_quiet()
        roots = {name: proc.pid for name, proc in self.stack.procs if name in ("dagster", "webhooks")}
        before = len(self.instance.get_dynamic_partitions(PR_PARTITIONS_NAME))
        with Sampler({"dagster dev": roots["dagster"], "webhook receiver": roots["webhooks"]}) as sampler:
            store = LocalGitHub(self.data_dir / "github")
            try:
                opened_at = time.time()
                store.bulk_open_prs(OWNER, REPO, count=prs, base="dev", author=AUTHOR, title="Bench load", draft=True)
            finally:
                store.close()
            deadline = time.monotonic() + 300
            while len(self.instance.get_dynamic_partitions(PR_PARTITIONS_NAME)) < before + prs:
                self.alive()
                if time.monotonic() > deadline:
                    raise BenchError(f"the sensor did not register {prs} new PRs in time")
                time.sleep(0.5)
            absorbed = time.time() - opened_at
            log(f"memory: the sensor registered {prs} new PRs in {absorbed:.1f} s")
            result = during()
            time.sleep(1)
        store = LocalGitHub(self.data_dir / "github")
        try:
            open_prs = len(store.pr_rows(store.repo_row(OWNER, REPO), "open"))
        finally:
            store.close()
        run_id = result.get("run_id")
        workers = sampler.by_role("run worker")
        pipeline_worker = [p for p in workers if p.run_id == run_id]
        report_workers = [p for p in workers if p.run_id and p.run_id != run_id]
        out = {
            "open_prs": open_prs,
            "partitions_registered_seconds": round(absorbed, 2),
            "samples": sampler.samples,
            "daemon": _peak(sampler.by_role("daemon")),
            "webserver": _peak(sampler.by_role("webserver")),
            "webhook_receiver": _peak(sampler.by_role("webhook receiver")),
            "code_server": _peak(sampler.by_role("code server")),
            "code_servers_seen": len(sampler.by_role("code server")),
            "run_launcher": _peak(sampler.by_role("run launcher")),
            "pipeline_run_worker": _peak(pipeline_worker or workers),
            "report_run_worker": _peak(report_workers),
            "run_children": _peak(sampler.by_role("run child")),
            "processes": [p.to_json() for p in sorted(sampler.procs.values(), key=lambda p: (p.role, p.pid))],
            "round": result,
        }
        log(f"memory: daemon {out['daemon']} MiB, code server {out['code_server']} MiB, "
            f"run worker {out['pipeline_run_worker']} MiB")
        return out


class _NoCache:
    """A docker APIClient whose builds use no layer cache (a cold build)."""

    def __init__(self, api):
        self._api = api

    def build(self, **kwargs):
        return self._api.build(nocache=True, **kwargs)

    def __getattr__(self, name):
        return getattr(self._api, name)


def _utc(moment: dt.datetime | None) -> float | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)).timestamp()


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 3)


def _peak(procs) -> float | None:
    """Largest VmHWM (MiB) among these processes."""
    values = [p.hwm_kb for p in procs if p.hwm_kb]
    return round(max(values) / 1024, 1) if values else None


def leftover_processes(data_dir: Path, wait: float = 15) -> list[str]:
    """Processes whose command line names the data folder, once those on their way out are gone."""
    deadline = time.monotonic() + wait
    while True:
        found = []
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                cmd = Path(f"/proc/{entry.name}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(data_dir) in cmd and not is_dead(stat_fields(entry.name)):
                found.append(f"{entry.name}: {cmd.strip()[:200]}")
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def remove_images(registry: str) -> int:
    """Remove the local images this benchmark tagged: its app names in this stack's registry."""
    import docker

    ours = tuple(f"{registry}/{app}:" for app in (APP, PLAIN_APP, CACHE_APP))
    removed = 0
    try:
        client = docker.from_env()
        for image in client.images.list():
            if any(tag.startswith(ours) for tag in image.tags):
                try:
                    client.images.remove(image.id, force=True)
                    removed += 1
                except docker.errors.APIError:
                    pass
        client.close()
    except Exception:  # noqa: BLE001 - cleanup is best effort
        pass
    return removed


# ---------------------------------------------------------------------- the benchmark


def summarize(pipeline: list[dict], plain: list[dict]) -> dict:
    def col(rows, key):
        return stats(r.get(key) for r in rows)

    out = {
        "pipeline": {key: col(pipeline, key) for key in (
            "push_to_dashboard", "push_to_feedback_done", "detection", "detection_request",
            "detection_webhook_delivery", "detection_webhook_submit", "detection_tick_wait", "detection_tick",
            "detection_queue",
            "detection_launch", "run_start_to_dashboard", "run", "run_steps_total", "run_overhead")},
        "plain": {"total": col(plain, "wall"), "stages_total": col(plain, "stages_total_seconds"),
                  "imports": col(plain, "imports_seconds")},
    }
    out["ratio_pipeline_to_plain"] = ratio(out["pipeline"]["push_to_dashboard"], out["plain"]["total"])
    per_round = [round(p["push_to_dashboard"] / q["wall"], 3) for p, q in zip(pipeline, plain, strict=False)
                 if p.get("push_to_dashboard") and q.get("wall")]
    out["ratio_per_round"] = stats(per_round)
    # per stage: the pipeline step doing that work against the plain script's stage
    stages = {}
    for stage, step in STAGE_TO_STEP.items():
        names = ["checkout", "context"] if stage == "checkout+context" else [stage]
        plain_values = [sum(r["stages"].get(n, 0) for n in names) if all(n in r["stages"] for n in names) else None
                        for r in plain]
        step_values = [r["steps"].get(step, r["report_steps"].get(step)) for r in pipeline]
        p, s = stats(plain_values), stats(step_values)
        stages[stage] = {"step": step, "pipeline_step": s, "plain": p,
                         "step_minus_plain": round(s["median"] - p["median"], 3) if s and p else None}
    out["stages"] = stages
    return out


def run(rounds: int, quick: bool, memory_prs: int, warmup: str, timeout: float, keep_data: bool,
        sensor_interval: int = 30) -> dict:
    stop_on_sigterm()  # a killed benchmark still stops its stack and removes its containers
    data_dir = Path(tempfile.mkdtemp(prefix="aither-bench-"))
    bench = E2E(data_dir, quick, timeout, sensor_interval)
    results: dict = {"settings": {"rounds": rounds, "quick": quick, "memory_prs": memory_prs, "warmup": warmup,
                                  "sensor_interval": sensor_interval, "data_dir": str(data_dir)}}
    started = time.monotonic()
    try:
        log(f"starting the embedded stack in {data_dir}")
        bench.start(warmup)
        results["settings"].update(pipeline_pr=bench.target, docs_pr=bench.docs, plain_pr=bench.plain_pr)
        log(f"warm-up: first runs of PRs {bench.warm}")
        warm_started = time.monotonic()
        for number in bench.warm:
            bench.wait_reported(number, bench.head(number))
        bench.wait_quiet()
        results["warmup_seconds"] = round(time.monotonic() - warm_started, 1)
        pipeline, plain = [], []
        memory_during_round = quick  # quick: one pipeline round, sampled with the extra PRs open
        if not quick:
            log("warm-up: one plain run")
            results["plain_warmup"] = bench.plain_round("warmup", 1)
        for i in range(rounds):
            label = str(i + 1)
            first_pipeline = i % 2 == 0
            if memory_during_round and i == 0:
                results["memory"] = bench.memory(memory_prs, lambda label=label: bench.pipeline_round(label))
                pipeline.append(results["memory"].pop("round"))
                plain.append(bench.plain_round(label, i + 2))
                continue
            if first_pipeline:
                pipeline.append(bench.pipeline_round(label))
                plain.append(bench.plain_round(label, i + 2))
            else:
                plain.append(bench.plain_round(label, i + 2))
                pipeline.append(bench.pipeline_round(label))
        results["rounds"] = {"pipeline": pipeline, "plain": plain}
        results["summary"] = summarize(pipeline, plain)
        log("work avoided: an unchanged poll")
        avoided = {"unchanged_poll": bench.unchanged_poll(2 if quick else 3)}
        avoided["docs_only"] = bench.docs_only()
        log("work avoided: image build with and without the layer cache")
        avoided["image_cache"] = bench.cache_builds(1 if quick else rounds)
        avoided["image_cache"]["pipeline_rounds"] = [r["image"] for r in pipeline if r.get("image")]
        cache = avoided["image_cache"]
        cache["summary"] = {
            "cold_build": stats(b["build_seconds"] for b in cache["cold"]),
            "warm_build": stats(b["build_seconds"] for b in cache["warm"]),
            "pipeline_build": stats(b["build_seconds"] for b in cache["pipeline_rounds"]),
            "pipeline_cached_steps": stats(b["cached_steps"] for b in cache["pipeline_rounds"]),
            "cold_cached_steps": stats(b["cached_steps"] for b in cache["cold"]),
        }
        results["work_avoided"] = avoided
        if not memory_during_round:
            results["memory"] = bench.memory(memory_prs, lambda: bench.pipeline_round("memory"))
    except Exception as exc:  # noqa: BLE001 - stop everything, keep what was measured, say what went wrong
        import traceback

        results["error"] = f"{type(exc).__name__}: {exc}"
        results["traceback"] = traceback.format_exc()
        log(f"FAILED: {results['error']}")
    finally:
        log("stopping everything this benchmark started")
        results["left_behind"] = bench.stop()
        if not keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)
        results["seconds"] = round(time.monotonic() - started, 1)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny setting: checks that it works, not how fast")
    parser.add_argument("--memory-prs", type=int, help="PRs opened for the memory phase (default 1000, quick 50)")
    parser.add_argument("--warmup", choices=["needed", "all"],
                        help="all (default): every seeded PR's first run; needed (default with --quick): only the "
                             "two PRs the benchmark uses run, the other seeded PRs are closed first")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for one run")
    parser.add_argument("--sensor-interval", type=int,
                        help="PR sensor interval (default 30 s, the product's: webhooks detect heads; quick: 2 s)")
    parser.add_argument("--keep-data", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    memory_prs = args.memory_prs or (50 if args.quick else 1000)
    warmup = args.warmup or ("needed" if args.quick else "all")
    interval = args.sensor_interval or (2 if args.quick else 30)
    results = {"machine": machine(), "e2e": run(args.rounds, args.quick, memory_prs, warmup, args.timeout,
                                                args.keep_data, interval)}
    text = json.dumps(results, indent=2, default=str)
    if args.json:
        args.json.write_text(text)
    else:
        print(text)
    return 1 if "error" in results["e2e"] else 0


if __name__ == "__main__":
    sys.exit(main())
