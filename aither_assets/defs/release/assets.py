"""One asset per ring of the operator's ladder, partitioned by PR: materializing ``ring_1`` for ``42``
means "PR 42's image is live and verified in ring-1". Plus ``ring_state``, one static partition per
ring, observed at every deploy: what is live where, answerable without scanning PR partitions.

Each promotion evaluates the gates itself (promotion/gates.py), then deploys the digest to the
ring's environment, verifies it there and only then records it; a refusal or a failed verification
records an observation on the PR's ring partition and fails the run, changing nothing live.
"""


import os
import time
from datetime import UTC, datetime

import dagster as dg
from pydantic import Field

from aither_assets.config.operator import CONFIG_ENV_VAR, RingsConfig, load_operator_config
from aither_assets.config.pipeline import load_pipeline_config
from aither_assets.dashboard.model import Links
from aither_assets.dashboard.paths import ring_path
from aither_assets.dashboard.publish import publish_local
from aither_assets.dashboard.render import render_ring_page
from aither_assets.defs.resources import AitherConfig, GitHubResource, WorkspaceResource
from aither_assets.environments.ring_env import RingEnvironments
from aither_assets.feedback import FeedbackLinks
from aither_assets.feedback.publisher import update_sticky_comment
from aither_assets.images.registry import tag_manifest
from aither_assets.images.tags import ring_tag, sanitize_tag
from aither_assets.promotion.deployments import finish_ring_deployment, start_ring_deployment
from aither_assets.promotion.gates import UNAUTHENTICATED, evaluate
from aither_assets.promotion.names import (
    AUTO_PROMOTION,
    COMMAND_COMMENT_TAG,
    POLICY_TAG,
    RING_STATE_ASSET,
    RING_TAG,
    ring_asset_names,
)
from aither_assets.promotion.requests import Requester, verify_requester
from aither_assets.promotion.rollout import roll_out
from aither_assets.release_policy.auto import AUTO_REQUESTER
from aither_assets.reporting.summary import entry_for_run, pipeline_runs
from aither_assets.runs import ring_record
from aither_assets.runs import rings as records
from aither_assets.runs.partitions import pr_partitions
from aither_assets.runs.policy_view import ring_page_extras, with_soak

GROUP = "release"
TEST_ASSETS = ("unit_tests", "domain_tests", "integration_tests")
WAIT_FOR_RING_SECONDS = 600


class PromotionConfig(dg.Config):
    reason: str = Field(description="why this build goes to this ring (recorded with the promotion)",
                        min_length=1, max_length=500)


def _ladder() -> tuple[str, ...]:
    """The operator's ladder when the config is there (every deployment process has it), else the default."""
    path = os.environ.get(CONFIG_ENV_VAR)
    if path:
        try:
            return load_operator_config(path).rings.ladder
        except Exception:  # noqa: BLE001 - a broken config is reported by the assets that need it
            pass
    return RingsConfig().ladder


def _wait_for_ring(context: dg.AssetExecutionContext, ring: str) -> None:
    """One promotion per ring at a time, also for runs launched from the UI without the ring tag
    (dagster.yaml's tag limit queues the tagged ones): the older run goes first, this one waits."""
    instance = context.instance
    instance.add_run_tags(context.run.run_id, {RING_TAG: ring})
    me = instance.get_run_record_by_id(context.run.run_id)
    deadline = time.monotonic() + WAIT_FOR_RING_SECONDS
    while True:
        others = [r for r in instance.get_run_records(filters=dg.RunsFilter(
                      tags={RING_TAG: ring}, statuses=[dg.DagsterRunStatus.STARTED]))
                  if r.dagster_run.run_id != context.run.run_id and r.create_timestamp < me.create_timestamp]
        if not others:
            return
        if time.monotonic() > deadline:
            raise dg.Failure(f"{ring} stayed busy with run {others[0].dagster_run.run_id} for "
                             f"{WAIT_FOR_RING_SECONDS} s; nothing was changed")
        context.log.info(f"waiting for run {others[0].dagster_run.run_id[:8]} to finish with {ring}")
        time.sleep(1)


def _publish_ring_page(context: dg.AssetExecutionContext, operator, ring: str, pending: dict | None = None,
                       client=None) -> None:
    """The ring's dashboard page after every attempt (local pages folder; never fails the promotion)."""
    try:
        rows = records.ring_page_entries(context.instance, ring, pending=pending)
        extras = ring_page_extras(context.instance, operator.rings, client, datetime.now(UTC), only=[ring])[ring]
        files = {ring_path(ring): render_ring_page(ring, rows, extras=extras)}
        publish_local(operator.storage.pages, files)
    except Exception as exc:  # noqa: BLE001 - a page is not worth a failed promotion
        context.log.warning(f"ring page of {ring} not published: {exc}")


def _update_sticky_comment(context: dg.AssetExecutionContext, operator, client, pr: str,
                           promoted: dict | None = None) -> None:
    """The PR's sticky comment with its "Promotion" section, re-rendered from its last pipeline run."""
    try:
        runs = pipeline_runs(context.instance, int(pr), limit=1)
        if not runs:
            return
        entry = entry_for_run(context.instance, runs[0])
        entry["promotion"] = with_soak(records.promotion_ladder(context.instance, pr, operator.rings.ladder),
                                       context.instance, operator.rings, pr, datetime.now(UTC))
        if promoted is not None:  # this run's materialization lands after the step: say so already
            for row in entry["promotion"]:
                if row["ring"] == promoted["ring"]:
                    row["last"] = {"outcome": "promoted", "requester": promoted["requester"], "first_unmet": None}
        dashboard = Links(dagster_ui=operator.dagster_ui_url, pages_base=operator.pages.base_url).pr_page(int(pr))
        links = FeedbackLinks.for_dagster(operator.dagster_ui_url, entry, dashboard=dashboard)
        for error in update_sticky_comment(client, entry, links).errors:
            context.log.warning(error)
    except Exception as exc:  # noqa: BLE001 - a comment is not worth a failed promotion
        context.log.warning(f"sticky comment of #{pr} not updated: {exc}")


def _refuse(context: dg.AssetExecutionContext, key: dg.AssetKey, pr: str, outcome: str, message: str,
            metadata: dict, operator=None, client=None) -> None:
    context.log_event(dg.AssetObservation(asset_key=key, partition=pr, metadata={
        "outcome": outcome, "message": dg.MetadataValue.md(f"```\n{message}\n```"), **metadata}))
    if operator is not None:
        _publish_ring_page(context, operator, str(metadata.get("ring")), client=client)
        if client is not None:
            _update_sticky_comment(context, operator, client, pr)
    raise dg.Failure(description=message)


def build_ring_asset(ring: str, below: str | None, names: dict[str, str]) -> dg.AssetsDefinition:
    key = dg.AssetKey(names[ring])
    deps = [names[below]] if below else ["container_image", "validation_report", "smoke_report", *TEST_ASSETS]

    @dg.asset(
        name=names[ring],
        partitions_def=pr_partitions,
        group_name=GROUP,
        kinds={"docker"},
        deps=deps,
        tags={"aither/ring": ring},
        description=(f"PR N's image live and verified in {ring} (<app>-{ring}). Materialize for a PR partition "
                     f"with a reason; the gates of {ring} are checked in the run."),
    )
    def ring_asset(context: dg.AssetExecutionContext, config: PromotionConfig, aither_config: AitherConfig,
                   github: GitHubResource, workspace: WorkspaceResource) -> dg.MaterializeResult:
        operator = aither_config.operator
        rings = operator.rings
        ladder = rings.ladder
        policy = rings.policy(ring)
        partition = context.partition_key
        number = int(partition)
        client = github.client()
        bot = client.authenticated_login()

        command_comment = context.run.tags.get(COMMAND_COMMENT_TAG)
        requester = verify_requester(client, command_comment, number, ring, ladder)
        if not command_comment and context.run.tags.get(POLICY_TAG) == AUTO_PROMOTION:
            # The policy tag only labels who asked (the automatic promotion sensor): it is not authentication,
            # anyone who can launch a run can set it, and every gate below applies exactly as for the UI.
            requester = Requester(AUTO_REQUESTER, "")
        elif requester.note:
            context.log.warning(f"requester not authenticated: {requester.note}")
        reason = config.reason
        _wait_for_ring(context, ring)

        gathered = records.gather(context.instance, client, rings, number, ring, requester.login, bot, time.time())
        evidence, history, image_ref, pull = gathered.evidence, gathered.history, gathered.image_ref, gathered.pull
        candidate = evidence.candidate
        report = evaluate(ring, ladder, policy, evidence, history)
        facts = {
            "ring": ring, "digest": candidate.digest or "", "head_sha": pull.head_sha, "requester": requester.login,
            "title": pull.title[:200],
            "reason": reason, "pipeline_run": candidate.run_id or "",
            "approvals": dg.MetadataValue.json([{"login": a.login, "at": a.at, "comment": a.comment_id}
                                                for a in report.counted_approvals]),
            "checks": dg.MetadataValue.json({c.name: c.passed for c in candidate.checks}),
        }
        if not report.passed:
            _refuse(context, key, partition, "refused", report.render(number, candidate.digest), {
                **facts, "unmet_gates": dg.MetadataValue.json([{"gate": g.gate, "reason": g.reason}
                                                                for g in report.unmet])}, operator, client)

        tree = workspace.tree(number, pull.head_sha)
        pipeline = load_pipeline_config(tree)
        checks = list(pipeline.smoke) if policy.verification == "repo_smoke" else []
        health_path = pipeline.smoke[0].path if pipeline.smoke else "/"
        envs = RingEnvironments(app=operator.app, url_host=rings.host)
        deployment_id, _ = start_ring_deployment(client, ring, pull.head_sha, number, candidate.digest,
                                                 production=ring == ladder[-1])
        result = roll_out(envs, ring, image_ref, port=rings.port(ring), container_port=pipeline.app.port, pr=number,
                          sha=pull.head_sha, checks=checks, health_path=health_path)
        verification = result.verification.to_dict() if result.verification else None
        if not result.verified:
            back = result.deployment
            finish_ring_deployment(client, deployment_id, "failure", None, f"verification failed: {result.failure}")
            restored = (f"the ring is back on {back.digest[:19]} (PR #{back.pr})" if result.restored and back
                        else f"the ring could not be put back: {result.restore_error}" if result.restore_error
                        else "the ring ran nothing before and runs nothing now")
            _refuse(context, key, partition, "verification_failed",
                    f"PR #{number} ({candidate.digest[:19]}) failed verification in {ring}: {result.failure}; "
                    f"{restored}",
                    {**facts, "failed_check": result.failure or "", "restored_digest": back.digest if back else "",
                     "verification": dg.MetadataValue.json(verification)}, operator, client)

        deployment = result.deployment
        tags = [sanitize_tag(f"{ring}-latest"), ring_tag(number, ring)]
        tag_manifest(image_ref, tags, operator.registry_auth(os.environ), insecure=operator.registry.insecure or None)
        finish_ring_deployment(client, deployment_id, "success", deployment.url,
                               f"PR #{number} {candidate.digest[:19]} live and verified")
        since = time.time()
        previous = result.previous
        context.log_event(ring_record.deploy_observation(
            ring, "promotion", pr=number, digest=candidate.digest, head_sha=pull.head_sha, since=since,
            requester=requester.login, reason=reason, image_ref=image_ref, title=pull.title, url=deployment.url,
            replaced_pr=previous.pr if previous else None, replaced_digest=previous.digest if previous else None))
        result = dg.MaterializeResult(metadata={
            **facts, "outcome": "promoted", "since": since, "url": dg.MetadataValue.url(deployment.url),
            "container": deployment.name, "registry_tags": dg.MetadataValue.json(tags),
            "previous_digest": previous.digest if previous else "", "previous_pr": previous.pr if previous else 0,
            "verification": dg.MetadataValue.json(verification), "authenticated": requester.login != UNAUTHENTICATED,
        })
        _publish_ring_page(context, operator, ring, pending={
            "at": since, "run_id": context.run.run_id, "pr": partition, "outcome": "promoted", "title": pull.title,
            "digest": candidate.digest, "head_sha": pull.head_sha, "requester": requester.login, "reason": reason,
            "pipeline_run": candidate.run_id, "checks": {c.name: c.passed for c in candidate.checks},
            "approvals": [{"login": a.login} for a in report.counted_approvals]}, client=client)
        _update_sticky_comment(context, operator, client, partition, {"ring": ring, "requester": requester.login})
        context.log.info(f"PR #{number} {candidate.digest[:19]} live and verified in {ring}")
        return result

    return ring_asset


def _ring_state(ladder: tuple[str, ...]) -> dg.AssetSpec:
    return dg.AssetSpec(
        RING_STATE_ASSET, group_name=GROUP, partitions_def=dg.StaticPartitionsDefinition(list(ladder)),
        description="What runs in each ring (one partition per ring): an observation at every deploy with the "
                    "digest, PR, since when, by whom and why.")


@dg.definitions
def release() -> dg.Definitions:
    ladder = _ladder()
    names = ring_asset_names(ladder)
    assets = [build_ring_asset(ring, ladder[i - 1] if i else None, names) for i, ring in enumerate(ladder)]
    return dg.Definitions(assets=[*assets, _ring_state(ladder)])
