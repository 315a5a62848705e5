"""The per-PR work of the pipeline as one plain sequential script: no Dagster, no sensor, no daemon.

The baseline of the end-to-end benchmark (``benchmarks/e2e.py``): for one PR head it does what
the ``pr_pipeline`` run and the dashboard report do, by calling the same pure modules directly,
one stage after the other, and times each stage:

checkout (fetch + export) -> context (PR facts, changed files, plan) -> validation -> package
-> linters -> every test suite (one at a time) -> image build + push -> container start ->
smoke checks -> dashboard page render (+ local publish), then teardown of the container.

The container runs under another app name (``--app``) and on a free port, so it never touches
the pipeline's own preview of any PR. Not done here: GitHub feedback (statuses, the sticky
comment, deployments) and the gh-pages commit, which the pipeline does after the page is written.

Usage: python benchmarks/plain_pipeline.py --config aither.yaml --pr N --sha SHA --out DIR --json out.json
(the GitHub token is read from the environment variable the operator config names).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import socket
import sys
import time
from contextlib import contextmanager
from pathlib import Path

PROCESS_STARTED = time.monotonic()

from aither_assets.config.operator import load_operator_config  # noqa: E402
from aither_assets.config.pipeline import load_pipeline_config  # noqa: E402
from aither_assets.dashboard.model import Links, page_from_summary  # noqa: E402
from aither_assets.dashboard.paths import pr_path  # noqa: E402
from aither_assets.dashboard.publish import publish_local  # noqa: E402
from aither_assets.dashboard.render import render_index, render_pr_page  # noqa: E402
from aither_assets.environments.docker_env import PreviewEnvironments  # noqa: E402
from aither_assets.github.client import client_from_config  # noqa: E402
from aither_assets.images.build import build_image  # noqa: E402
from aither_assets.images.registry import tag_manifest  # noqa: E402
from aither_assets.images.tags import image_repository, image_tags, oci_labels, ring_tag  # noqa: E402
from aither_assets.packaging.metadata import build_metadata  # noqa: E402 - the imports are part of the timed script
from aither_assets.packaging.package import build_archives, select_files  # noqa: E402
from aither_assets.prs.context import build_context  # noqa: E402
from aither_assets.quality.linters import run_linters  # noqa: E402
from aither_assets.smoke.checks import run_smoke  # noqa: E402
from aither_assets.suites.plan import plan_suites  # noqa: E402
from aither_assets.suites.runner import run_suites  # noqa: E402
from aither_assets.validation.report import validate_repository  # noqa: E402
from aither_assets.validation.tools import tool_path  # noqa: E402
from aither_assets.workspace import RepoCache, safe_name  # noqa: E402

IMPORTS_SECONDS = time.monotonic() - PROCESS_STARTED

TEST_ASSETS = {"unit_tests": "unit", "domain_tests": "domain", "integration_tests": "integration"}
# Stage names, in order; the e2e benchmark maps them to the pipeline's steps.
STAGES = ("checkout", "context", "validation", "package", "linters", "tests", "image", "deploy", "smoke", "dashboard")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Timer:
    def __init__(self) -> None:
        self.stages: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        started = time.monotonic()
        try:
            yield
        finally:
            self.stages[name] = round(time.monotonic() - started, 3)


def _suite_totals(results) -> dict:
    reports = [r.report for r in results if r.report is not None]
    complete = len(reports) == len(results) and results

    def total(field: str):
        return sum(getattr(rep, field) for rep in reports) if complete else None

    return {"suites": len(results), "tests": total("tests"), "passed": total("passed"), "failed": total("failed"),
            "errors": total("errors"), "skipped": total("skipped"),
            "duration_seconds": round(sum(r.duration_seconds or 0 for r in results), 2),
            "suite_json": [r.to_json() for r in results]}


def run(config_path: Path, number: int, sha: str, out: Path, app: str, iteration: int,
        keep_environment: bool = False) -> dict:
    timer = Timer()
    operator = load_operator_config(config_path)
    client = client_from_config(operator, os.environ)
    out.mkdir(parents=True, exist_ok=True)
    cache = RepoCache(out / "cache")  # its own object cache, kept across rounds (like the pipeline's)
    tree = out / "workspaces" / f"pr-{number}-{sha[:12]}"
    outcome: dict = {"pr": number, "head_sha": sha}
    environments = PreviewEnvironments(app=app)
    assets: dict[str, dict] = {}
    checks: dict[str, str] = {}
    try:
        with timer.stage("checkout"):
            cache.fetch_pr(client.repository, client.clone_url(), number, sha, client.token)
            if tree.exists():
                shutil.rmtree(tree)
            tree.parent.mkdir(parents=True, exist_ok=True)
            cache.export(client.repository, sha, tree)
        with timer.stage("context"):
            pr = client.pull(number)
            pipeline = load_pipeline_config(tree)
            ctx = build_context(pr, client.pull_files(number), operator, sha, has_docker=pipeline.docker is not None)
            context = ctx.to_json()
            assets["pr_context"] = {"status": "MATERIALIZED", "metadata": {
                "title": ctx.title, "author": ctx.author, "pr_url": ctx.url, "head_sha": sha, "base_ref": ctx.base_ref,
                "ring": ctx.ring, "fork": ctx.is_fork, "stages_to_run": [s for s, d in ctx.plan.items() if d["run"]]}}
        plan = context["plan"]
        with timer.stage("validation"):
            report = validate_repository(tree, hadolint=tool_path("hadolint"), zizmor=tool_path("zizmor"),
                                         docker=tool_path("docker"))
            assets["validation_report"] = {"status": "MATERIALIZED", "metadata": {
                "head_sha": sha, "files_checked": report.files_checked,
                **{f"{severity}_count": n for severity, n in report.counts.items()}}}
            errors = [f for f in report.findings if f.severity == "error"]
            checks["validation_report:no_error_findings"] = "FAILED" if errors else "PASSED"
        if plan["build"]["run"]:
            with timer.stage("package"):
                artifacts_dir = out / "artifacts" / f"pr-{number}" / sha
                files = select_files(tree, pipeline.package.include, pipeline.package.exclude)
                basename = f"{safe_name(pipeline.app.name)}-pr{number}-{sha[:8]}"
                commit = cache.commit(client.repository, sha)
                artifacts = build_archives(tree, files, artifacts_dir, basename, mtime=commit.timestamp)
                document = build_metadata(context, commit, iteration, artifacts,
                                          {"local": str(out / "pages" / pr_path(number))})
                metadata_text = json.dumps(document, indent=2, sort_keys=True) + "\n"
                (artifacts_dir / "build-metadata.json").write_text(metadata_text)
                assets["build_artifacts"] = {"status": "MATERIALIZED", "metadata": {
                    "head_sha": sha, "iteration": iteration, "files_packaged": len(files), "build_metadata": document,
                    **{f"sha256_{a.name.removeprefix(basename + '.').replace('.', '_')}": a.sha256 for a in artifacts}}}
        if plan["quality"]["run"]:
            with timer.stage("linters"):
                quality = run_linters(pipeline.linters, tree, max_workers=1)
                counts = quality.counts_by_severity or {}
                assets["quality_report"] = {"status": "MATERIALIZED", "metadata": {
                    "head_sha": sha, "complete": quality.complete, "findings_total": len(quality.findings),
                    **{f"{severity}_count": n for severity, n in counts.items()}}}
        if plan["tests"]["run"]:
            with timer.stage("tests"):
                suite_plan = plan_suites(pipeline.tests, tree)
                results = run_suites(list(suite_plan.suites), tree, out / "test-reports" / f"pr-{number}-{sha[:12]}",
                                     max_workers=1)
                for asset, kind in TEST_ASSETS.items():
                    mine = [r for r in results if r.kind == kind]
                    assets[asset] = {"status": "MATERIALIZED", "metadata": {"head_sha": sha, **_suite_totals(mine)}}
                    passed = all(r.status in ("passed", "empty") for r in mine)
                    checks[f"{asset}:all_tests_passed"] = "PASSED" if passed else "FAILED"
        blocked = any(v == "FAILED" for v in checks.values())
        image = None
        if plan["image"]["run"] and pipeline.docker is not None:
            with timer.stage("image"):
                repository = image_repository(operator.registry.address, app)
                tags = image_tags(number, ctx.base_ref, iteration, sha)
                labels = oci_labels(ctx.url.rsplit("/pull/", 1)[0], sha, dt.datetime.now(dt.timezone.utc).isoformat(),
                                    number, ctx.base_ref, ctx.ring, title=app)
                image = build_image(tree, pipeline.docker.dockerfile, list(pipeline.docker.platforms), repository, tags,
                                    labels=labels, build_args=dict(pipeline.docker.build_args),
                                    base_images=dict(operator.images.base_images),
                                    registry_auth=operator.registry_auth(os.environ),
                                    insecure_registry=operator.registry.insecure or None,
                                    timeout=operator.images.build_timeout_seconds)
                assets["container_image"] = {"status": "MATERIALIZED", "metadata": {
                    "head_sha": sha, "digest": image.digest, "reference": image.reference, "tags": image.tags,
                    "platforms": list(image.platforms), "build_seconds": image.build_seconds,
                    "push_seconds": image.push_seconds, "cached_steps": image.cached_steps}}
                outcome["image"] = {"build_seconds": image.build_seconds, "push_seconds": image.push_seconds,
                                    "cached_steps": image.cached_steps, "digest": image.digest}
        deployment = None
        if image is not None and plan["environment"]["run"] and not blocked:  # as pr_environment's gates
            with timer.stage("deploy"):
                health_path = pipeline.smoke[0].path if pipeline.smoke else "/"
                deployment = environments.deploy(number, image.reference, port=free_port(),
                                                 container_port=pipeline.app.port, sha=sha, base_ref=ctx.base_ref,
                                                 health_path=health_path, ttl_hours=1)
                if ctx.ring:
                    tag_manifest(image.reference, [ring_tag(number, ctx.ring)], operator.registry_auth(os.environ),
                                 insecure=operator.registry.insecure or None)
                assets["pr_environment"] = {"status": "MATERIALIZED", "metadata": {
                    "head_sha": sha, "url": deployment.url, "port": deployment.port, "container": deployment.name,
                    "digest": image.digest, "started_at": deployment.started_at, "expires_at": deployment.expires_at}}
        if deployment is not None and plan["smoke"]["run"]:
            with timer.stage("smoke"):
                smoke = run_smoke(deployment.url, list(pipeline.smoke)) if pipeline.smoke else None
                if smoke is not None:
                    assets["smoke_report"] = {"status": "MATERIALIZED", "metadata": {
                        "head_sha": sha, "checks": len(smoke.results), "passed": sum(r.passed for r in smoke.results),
                        "failed": sum(not r.passed for r in smoke.results)}}
                    checks["smoke_report:smoke_passed"] = "PASSED" if smoke.passed else "FAILED"
        with timer.stage("dashboard"):
            failed = any(v == "FAILED" for v in checks.values())
            entry = {"number": number, "title": ctx.title, "head_sha": sha, "base": ctx.base_ref, "ring": ctx.ring,
                     "run_id": f"plain-{sha[:12]}", "run_status": "FAILURE" if failed else "SUCCESS",
                     "assets": assets, "checks": checks, "check_details": {}, "failures": []}
            page = page_from_summary(entry, [], Links(pages_base=operator.pages.base_url))
            files = {pr_path(number): render_pr_page(page), "index.html": render_index([page])}
            publish_local(out / "pages", files)
        outcome["run_status"] = entry["run_status"]
        outcome["checks"] = checks
        outcome["tests"] = {k: assets[k]["metadata"].get("tests") for k in TEST_ASSETS if k in assets}
    finally:
        started = time.monotonic()
        if not keep_environment:
            environments.teardown(number)
        if tree.exists():
            shutil.rmtree(tree, ignore_errors=True)
        outcome["teardown_seconds"] = round(time.monotonic() - started, 3)
    outcome["stages"] = timer.stages
    outcome["stages_total_seconds"] = round(sum(timer.stages.values()), 3)
    outcome["imports_seconds"] = round(IMPORTS_SECONDS, 3)
    outcome["dagster_imported"] = "dagster" in sys.modules
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True, help="operator config (the demo's aither.yaml)")
    parser.add_argument("--pr", type=int, required=True)
    parser.add_argument("--sha", required=True)
    parser.add_argument("--out", type=Path, required=True, help="working folder (cache, artifacts, pages)")
    parser.add_argument("--app", default="aither-plain", help="app name for the image repository and container")
    parser.add_argument("--iteration", type=int, default=1)
    parser.add_argument("--keep-environment", action="store_true", help="leave the container running")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    outcome = run(args.config, args.pr, args.sha, args.out, args.app, args.iteration, args.keep_environment)
    outcome["process_seconds"] = round(time.monotonic() - PROCESS_STARTED, 3)
    text = json.dumps(outcome, indent=2)
    if args.json:
        args.json.write_text(text)
    else:
        print(text)
    return 0 if outcome.get("run_status") == "SUCCESS" else 1


if __name__ == "__main__":
    sys.exit(main())
