import datetime as dt
import os

import dagster as dg

from aither_assets.defs.prs.assets import pr_context
from aither_assets.defs.resources import AitherConfig, GitHubResource, GitHubWriter, PreviewResource, WorkspaceResource
from aither_assets.defs.skips import record_skip, skip_unless_planned
from aither_assets.feedback import record_deployment
from aither_assets.images.build import build_image
from aither_assets.images.registry import tag_manifest
from aither_assets.images.tags import image_repository, image_tags, oci_labels, ring_tag
from aither_assets.prs.context import PRContext
from aither_assets.runs.partitions import pr_partitions
from aither_assets.runs.tags import DEPLOYING_TAG
from aither_assets.smoke.checks import run_smoke
from aither_assets.stages import TEST_ASSETS, Meta, stage_asset

SMOKE_PASSED = stage_asset("smoke_report").check


@dg.asset(
    partitions_def=pr_partitions,
    group_name="pull_request",
    kinds={"docker"},
    ins={"pr": dg.AssetIn(pr_context.key), "build": dg.AssetIn("build_artifacts")},
    # Built side by side with validation and the test suites (threaded executor, defs/prs/jobs.py);
    # pr_environment waits for their blocking checks, so a broken head is never deployed.
    output_required=False,
    description="Image built from the PR head for each platform, pushed by digest with the PR's tags.",
)
def container_image(context: dg.AssetExecutionContext, pr: PRContext, build: dict, workspace: WorkspaceResource,
                    aither_config: AitherConfig):
    if skip_unless_planned(context, pr, "image"):
        return
    operator = aither_config.operator
    root = workspace.head(pr)
    docker = workspace.pipeline(pr).docker
    if docker is None:  # the plan knew, unless the config changed under a re-run
        record_skip(context, pr, "the repo config has no docker section")
        return
    repository = image_repository(operator.registry.address, operator.app)
    # The engine's build and push lines go to the run's stdout (the UI's raw logs), not one event
    # each to the event log: dozens of writes per build, on the critical path of a run.
    def build_log(line: str) -> None:
        print(f"[container_image] {line}", flush=True)

    tags = image_tags(pr.number, pr.base_ref, build["iteration"], pr.head_sha)
    labels = oci_labels(pr.url.rsplit("/pull/", 1)[0], pr.head_sha, dt.datetime.now(dt.timezone.utc).isoformat(),
                        pr.number, pr.base_ref, pr.ring, title=operator.app)
    result = build_image(
        root, docker.dockerfile, list(docker.platforms), repository, tags, labels=labels,
        build_args=dict(docker.build_args), base_images=dict(operator.images.base_images),
        registry_auth=operator.registry_auth(os.environ), log=build_log,
        insecure_registry=operator.registry.insecure or None, timeout=operator.images.build_timeout_seconds,
        network_mode="none" if operator.sandbox.build_network == "none" else "default",
    )
    # The digest is the data version: a new image makes the PR's ring partitions show as out of sync in the UI.
    yield dg.Output(result.to_dict(), data_version=dg.DataVersion(result.digest), metadata={
        Meta.HEAD_SHA: pr.head_sha,
        Meta.DIGEST: result.digest,
        Meta.REFERENCE: result.reference,
        Meta.TAGS: dg.MetadataValue.json(result.tags),
        Meta.PLATFORMS: dg.MetadataValue.json(result.platforms),
        Meta.BUILD_SECONDS: round(result.build_seconds, 2),
        Meta.PUSH_SECONDS: round(result.push_seconds, 2),
        "cached_steps": result.cached_steps,
    })


@dg.asset(
    partitions_def=pr_partitions,
    group_name="pull_request",
    kinds={"docker"},
    ins={"pr": dg.AssetIn(pr_context.key), "image": dg.AssetIn("container_image")},
    # Only a head whose validation and every test suite passed (their blocking checks) is deployed.
    deps=["validation_report", *TEST_ASSETS],
    description="The preview container <app>-pr-<N> running the image by digest, its URL, port and TTL.",
)
def pr_environment(context: dg.AssetExecutionContext, pr: PRContext, image: dict, preview: PreviewResource,
                   workspace: WorkspaceResource, aither_config: AitherConfig,
                   github: GitHubResource, github_writer: GitHubWriter) -> dg.Output[dict]:
    pipeline = workspace.pipeline(pr)
    health_path = pipeline.smoke[0].path if pipeline.smoke else "/"
    port = preview.ports().allocate(pr.number)
    client = github.client()

    # A GitHub Deployment per preview, with statuses as it deploys: made in the background, in order
    # (best effort: never fails the deploy; pr_feedback waits for them).
    def deployment_state(url, state):
        github_writer.submit(f"deployment {state}",
                             lambda: record_deployment(client, pr.number, pr.head_sha, url, state))

    deployment_state(None, "in_progress")
    # While this step runs, a newer head queues behind it instead of cancelling it half-way.
    context.instance.add_run_tags(context.run_id, {DEPLOYING_TAG: "true"})
    try:
        deployment = preview.environments().deploy(
            pr.number, f"{image['repository']}@{image['digest']}", port=port, container_port=pipeline.app.port,
            sha=pr.head_sha, base_ref=pr.base_ref, health_path=health_path,
            ttl_hours=aither_config.operator.preview.ttl_hours,
        )
    except Exception:
        deployment_state(None, "failure")
        raise
    finally:
        context.instance.add_run_tags(context.run_id, {DEPLOYING_TAG: "false"})
    deployment_state(deployment.url, "success")
    # The ring tag names what runs in the entry ring's preview: only a build that passed its gates.
    operator = aither_config.operator
    ring = ring_tag(pr.number, pr.ring) if pr.ring else None
    if ring:
        tag_manifest(f"{image['repository']}@{image['digest']}", [ring], operator.registry_auth(os.environ),
                     insecure=operator.registry.insecure or None)
    value = deployment.to_dict() | {"digest": image["digest"], "ring_tag": ring}
    return dg.Output(value, metadata={
        Meta.HEAD_SHA: pr.head_sha,
        Meta.URL: dg.MetadataValue.url(deployment.url),
        Meta.PORT: deployment.port,
        Meta.CONTAINER: deployment.name,
        Meta.DIGEST: image["digest"],
        "ring_tag": ring or "none (the base branch maps to no ring)",
        Meta.STARTED_AT: deployment.started_at,
        Meta.EXPIRES_AT: deployment.expires_at,
    })


@dg.asset(
    partitions_def=pr_partitions,
    group_name="pull_request",
    kinds={"docker"},
    ins={"pr": dg.AssetIn(pr_context.key), "environment": dg.AssetIn("pr_environment")},
    check_specs=[dg.AssetCheckSpec(SMOKE_PASSED, asset="smoke_report", blocking=True,
                                   description="every smoke check answered as the repo config expects")],
    description="The repo's HTTP smoke checks against the preview: status, body, latency.",
)
def smoke_report(context: dg.AssetExecutionContext, pr: PRContext, environment: dict, workspace: WorkspaceResource):
    checks = workspace.pipeline(pr).smoke
    # No declared check still leaves the health wait of the deploy: report zero checks, passed.
    report = run_smoke(environment["url"], list(checks)) if checks else None
    if report is None:
        yield dg.Output(
            {"results": []},
            metadata={Meta.HEAD_SHA: pr.head_sha, Meta.CHECKS: 0,
                      "results": dg.MetadataValue.md("the repo config declares no smoke check")},
        )
        yield dg.AssetCheckResult(check_name=SMOKE_PASSED, passed=True, description="no smoke check declared")
        return
    failed = [r for r in report.results if not r.passed]
    yield dg.Output(report.to_dict(), metadata={
        Meta.HEAD_SHA: pr.head_sha,
        Meta.URL: dg.MetadataValue.url(environment["url"]),
        Meta.CHECKS: len(report.results),
        Meta.PASSED: sum(r.passed for r in report.results),
        Meta.FAILED: len(failed),
        "results": dg.MetadataValue.md(report.to_markdown()),
    })
    yield dg.AssetCheckResult(
        check_name=SMOKE_PASSED,
        passed=report.passed,
        metadata={"failures": dg.MetadataValue.json([f"{r.path}: {r.reason}" for r in failed])},
        description=("all smoke checks passed" if report.passed
                     else "; ".join(f"{r.path}: {r.reason}" for r in failed)[:1000]),
    )
