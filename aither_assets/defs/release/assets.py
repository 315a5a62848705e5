"""One asset per ring of the operator's ladder, partitioned by PR: materializing ``ring_1`` for ``42``
means "PR 42's image is live and verified in ring-1". Plus ``ring_state``, one static partition per
ring, observed at every deploy: what is live where, answerable without scanning PR partitions.

Each promotion evaluates the gates itself (promotion/gates.py), then deploys the digest to the
ring's environment, verifies it there and only then records it; a refusal or a failed verification
records an observation on the PR's ring partition and fails the run, changing nothing live.
"""


import os
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Literal

import dagster as dg
from pydantic import Field

from aither_assets.config.operator import CONFIG_ENV_VAR, RingsConfig, load_operator_config
from aither_assets.dashboard.paths import ring_path
from aither_assets.dashboard.publish import publish_local
from aither_assets.dashboard.render import render_ring_page
from aither_assets.defs.resources import AitherConfig, GitHubResource, WorkspaceResource
from aither_assets.environments.ring_env import RingEnvironments
from aither_assets.images.registry import tag_manifest
from aither_assets.images.tags import ring_tag, sanitize_tag
from aither_assets.promotion.deployments import finish_ring_deployment, start_ring_deployment
from aither_assets.promotion.gates import UNAUTHENTICATED, UnmetGate, evaluate
from aither_assets.promotion.names import (
    AUTO_PROMOTION,
    AUTO_ROLLBACK,
    COMMAND_COMMENT_TAG,
    POLICY_TAG,
    RING_STATE_ASSET,
    RING_TAG,
    ring_asset_names,
)
from aither_assets.promotion.requests import Requester, verify_requester
from aither_assets.promotion.rollout import roll_out
from aither_assets.release_policy.auto import AUTO_REQUESTER
from aither_assets.release_policy.freeze import check_freeze
from aither_assets.release_policy.policy_gates import policy_gates
from aither_assets.release_policy.rollback import AUTO_ROLLBACK_REQUESTER, NoRollbackTarget, rollback_target
from aither_assets.runs import ring_record, rollbacks
from aither_assets.runs import rings as records
from aither_assets.runs.partitions import pr_partitions
from aither_assets.runs.policy_view import ring_page_extras
from aither_assets.runs.sticky import refresh_sticky_comment

GROUP = "release"
TEST_ASSETS = ("unit_tests", "domain_tests", "integration_tests")
WAIT_FOR_RING_SECONDS = 600


class PromotionConfig(dg.Config):
    """The ring asset's launch config (also the contract of the policy's runs: re-verification launches
    ``{"reason": ..., "mode": "rollback"}`` with the POLICY_TAG of promotion/names.py)."""

    reason: str = Field(description="why this build goes to this ring (recorded with the promotion)",
                        min_length=1, max_length=500)
    mode: Literal["promote", "rollback"] = Field(
        default="promote", description="rollback: put the ring back on this PR's build that was live and verified "
                                       "there (no rebuild; soak and approvals do not apply)")
    break_glass: bool = Field(default=False, description="promote into a frozen ring: needs a /promote --break-glass "
                                                         "comment by a repository admin (never from the UI)")


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


def _publish_ring_page(context: dg.AssetExecutionContext, operator, client, ring: str,
                       pending: dict | None = None) -> None:
    """The ring's dashboard page after every attempt (local pages folder; never fails the promotion)."""
    try:
        rows = records.ring_page_entries(context.instance, ring, pending=pending, ladder=operator.rings.ladder)
        extras = ring_page_extras(context.instance, operator.rings, client, datetime.now(UTC), only=[ring])[ring]
        files = {ring_path(ring): render_ring_page(ring, rows, extras=extras)}
        publish_local(operator.storage.pages, files)
    except Exception as exc:  # noqa: BLE001 - a page is not worth a failed promotion
        context.log.warning(f"ring page of {ring} not published: {exc}")


def _update_sticky_comment(context: dg.AssetExecutionContext, operator, client, pr: str,
                           promoted: dict | None = None) -> None:
    """The PR's sticky comment with its "Promotion" section (runs/sticky.py); never fails the promotion."""
    try:
        for error in refresh_sticky_comment(context.instance, operator, client, pr, promoted):
            context.log.warning(error)
    except Exception as exc:  # noqa: BLE001 - a comment is not worth a failed promotion
        context.log.warning(f"sticky comment of #{pr} not updated: {exc}")


def _refuse(context: dg.AssetExecutionContext, key: dg.AssetKey, pr: str, outcome: str, message: str,
            metadata: dict, operator=None, client=None) -> None:
    context.log_event(dg.AssetObservation(asset_key=key, partition=pr, metadata={
        "outcome": outcome, "message": dg.MetadataValue.md(f"```\n{message}\n```"), **metadata}))
    if operator is not None:
        _publish_ring_page(context, operator, client, str(metadata.get("ring")))
        if client is not None:
            _update_sticky_comment(context, operator, client, pr)
    raise dg.Failure(description=message)


def _requester(context: dg.AssetExecutionContext, client, number: int, ring: str, ladder: tuple[str, ...],
               mode: str) -> Requester:
    """Who asked: the policy when its tag says so (the requester it records), else the person whose comment the
    run names, proven with GitHub; a run launched from the UI is unauthenticated."""
    policy = context.run.tags.get(POLICY_TAG)
    if policy == AUTO_ROLLBACK and mode == "rollback":
        return Requester(AUTO_ROLLBACK_REQUESTER, "")
    if policy == AUTO_PROMOTION and mode == "promote":
        return Requester(AUTO_REQUESTER, "")
    verb = "rollback" if mode == "rollback" else "promote"
    requester = verify_requester(client, context.run.tags.get(COMMAND_COMMENT_TAG), number, ring, ladder, verb=verb)
    if requester.note:
        context.log.warning(f"requester not authenticated: {requester.note}")
    return requester


def _freeze(rings: RingsConfig, ring: str, config: PromotionConfig, requester: Requester, rollback: bool):
    """check_freeze with the requester's role as GitHub reported it; break-glass only when the comment itself
    asked for it (a UI launch, or a run config the comment did not ask for, has no role to break glass with)."""
    permission = requester.permission if requester.break_glass else None
    return check_freeze(rings.freeze, ring, datetime.now(UTC), rollback=rollback, break_glass=config.break_glass,
                        reason=config.reason, requester=requester.login, permission=permission)


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
                     f"with a reason; the gates of {ring} are checked in the run. Mode rollback: put {ring} back "
                     f"on PR N's build that was live and verified there (no rebuild, no soak or approvals)."),
    )
    def ring_asset(context: dg.AssetExecutionContext, config: PromotionConfig, aither_config: AitherConfig,
                   github: GitHubResource, workspace: WorkspaceResource) -> dg.MaterializeResult:
        operator = aither_config.operator
        client = github.client()
        number = int(context.partition_key)
        requester = _requester(context, client, number, ring, operator.rings.ladder, config.mode)
        _wait_for_ring(context, ring)
        if config.mode == "rollback":
            return _rollback(context, key, ring, config, operator, client, workspace, requester)
        return _promote(context, key, ring, config, operator, client, workspace, requester)

    return ring_asset


def _promote(context: dg.AssetExecutionContext, key: dg.AssetKey, ring: str, config: PromotionConfig, operator,
             client, workspace: WorkspaceResource, requester: Requester) -> dg.MaterializeResult:
    rings = operator.rings
    ladder = rings.ladder
    policy = rings.policy(ring)
    partition = context.partition_key
    number = int(partition)
    bot = client.authenticated_login()
    reason = config.reason

    gathered = records.gather(context.instance, client, rings, number, ring, requester.login, bot, time.time())
    evidence, history, image_ref, pull = gathered.evidence, gathered.history, gathered.image_ref, gathered.pull
    candidate = evidence.candidate
    report = evaluate(ring, ladder, policy, evidence, history)
    # held and frozen: issue 16's gates, beside the others, so a refusal lists every unmet one
    freeze = _freeze(rings, ring, config, requester, rollback=False)
    held_frozen = policy_gates(ring_record.hold_book_of(context.instance, ladder), freeze, number, candidate.digest)
    report = replace(report, unmet=report.unmet + tuple(UnmetGate(g.gate, g.reason) for g in held_frozen))
    facts = {
        "ring": ring, "mode": "promote", "digest": candidate.digest or "", "head_sha": pull.head_sha,
        "requester": requester.login, "title": pull.title[:200],
        "reason": reason, "pipeline_run": candidate.run_id or "", "break_glass": freeze.break_glass,
        "approvals": dg.MetadataValue.json([{"login": a.login, "at": a.at, "comment": a.comment_id}
                                            for a in report.counted_approvals]),
        "checks": dg.MetadataValue.json({c.name: c.passed for c in candidate.checks}),
    }
    if freeze.break_glass:
        facts["freeze"] = freeze.reason
        context.log.warning(freeze.reason)
    if not report.passed:
        _refuse(context, key, partition, "refused", report.render(number, candidate.digest), {
            **facts, "unmet_gates": dg.MetadataValue.json([{"gate": g.gate, "reason": g.reason}
                                                            for g in report.unmet])}, operator, client)

    pipeline = workspace.pipeline_at(number, pull.head_sha)
    checks = list(pipeline.smoke) if policy.verification == "repo_smoke" else []
    health_path = pipeline.smoke[0].path if pipeline.smoke else "/"
    envs = RingEnvironments(app=operator.app, url_host=rings.host)
    deployment_id, _ = start_ring_deployment(client, ring, pull.head_sha, number, candidate.digest,
                                             production=ring == ladder[-1])
    result = roll_out(envs, ring, image_ref, port=rings.port(ring), container_port=pipeline.app.port, pr=number,
                      sha=pull.head_sha, checks=checks, health_path=health_path)
    verification = result.verification.to_dict() if result.verification else None
    if not result.verified:
        _failed_deploy(context, key, ring, operator, client, result, deployment_id, number, candidate.digest,
                       requester, reason, {**facts, "verification": dg.MetadataValue.json(verification)})

    # The ring serves the build, verified: recorded at once; the registry tags and GitHub's deployment
    # status follow it (a failure there fails the run, and the record still tells what runs).
    deployment = result.deployment
    since = time.time()
    previous = result.previous
    context.log_event(ring_record.deploy_observation(
        ring, "promotion", pr=number, digest=candidate.digest, head_sha=pull.head_sha, since=since,
        requester=requester.login, reason=reason, image_ref=image_ref, title=pull.title, url=deployment.url,
        replaced_pr=previous.pr if previous else None, replaced_digest=previous.digest if previous else None,
        break_glass=freeze.break_glass))
    tags = [sanitize_tag(f"{ring}-latest"), ring_tag(number, ring)]
    tag_manifest(image_ref, tags, operator.registry_auth(os.environ), insecure=operator.registry.insecure or None)
    finish_ring_deployment(client, deployment_id, "success", deployment.url,
                           f"PR #{number} {candidate.digest[:19]} live and verified")
    result = dg.MaterializeResult(metadata={
        **facts, "outcome": "promoted", "since": since, "url": dg.MetadataValue.url(deployment.url),
        "container": deployment.name, "registry_tags": dg.MetadataValue.json(tags),
        "previous_digest": previous.digest if previous else "", "previous_pr": previous.pr if previous else 0,
        "verification": dg.MetadataValue.json(verification), "authenticated": requester.login != UNAUTHENTICATED,
    })
    _publish_ring_page(context, operator, client, ring, pending={
        "at": since, "run_id": context.run.run_id, "pr": partition, "outcome": "promoted", "title": pull.title,
        "digest": candidate.digest, "head_sha": pull.head_sha, "requester": requester.login, "reason": reason,
        "pipeline_run": candidate.run_id, "checks": {c.name: c.passed for c in candidate.checks},
        "approvals": [{"login": a.login} for a in report.counted_approvals]})
    _update_sticky_comment(context, operator, client, partition, {"ring": ring, "requester": requester.login})
    context.log.info(f"PR #{number} {candidate.digest[:19]} live and verified in {ring}"
                     + (" (break-glass during a freeze)" if freeze.break_glass else ""))
    return result


def _failed_deploy(context: dg.AssetExecutionContext, key: dg.AssetKey, ring: str, operator, client, result,
                   deployment_id, number: int, digest: str, requester: Requester, reason: str, facts: dict) -> None:
    """The post-deploy verification failed; roll_out put back what ran before. Record the failure, then the
    automatic rollback (which holds the failing build) or, when nothing was put back, a hold; fail the run."""
    back = result.deployment if result.restored else None
    finish_ring_deployment(client, deployment_id, "failure", None, f"verification failed: {result.failure}")
    failed_at = result.failed_at or time.time()  # when the check failed, before the ring was put back
    context.log_event(ring_record.verification_observation(
        key.path[-1], number, digest, passed=False, phase="deploy", at=failed_at, requester=requester.login,
        failed_check=result.failure or "", reason=reason, extra={
            **facts, "message": dg.MetadataValue.md(f"```\n{result.failure}\n```"),
            "restored_digest": back.digest if back else ""}))
    recovery = rollbacks.after_failed_deploy(
        context.instance, operator.rings.ladder, ring, pr=number, digest=digest, failed_at=failed_at,
        requester=requester.login, failed_check=result.failure or "", reason=reason, restored=back)
    for observation in recovery.observations:
        context.log_event(observation)
    restored = ("" if back else f"the ring could not be put back: {result.restore_error}; " if result.restore_error
                else "the ring ran nothing before and runs nothing now; ")
    message = f"PR #{number} ({digest[:19]}) failed verification in {ring}: {result.failure}; {restored}{recovery.note}"
    _publish_ring_page(context, operator, client, ring)
    _update_sticky_comment(context, operator, client, str(number))
    raise dg.Failure(description=message)


def _rollback(context: dg.AssetExecutionContext, key: dg.AssetKey, ring: str, config: PromotionConfig, operator,
              client, workspace: WorkspaceResource, requester: Requester) -> dg.MaterializeResult:
    """Put ``ring`` back on this PR's build that was live and verified there: no rebuild, no soak or approvals;
    the same deploy and verification as a promotion; the replaced build becomes held."""
    rings = operator.rings
    ladder = rings.ladder
    partition = context.partition_key
    number = int(partition)
    facts = {"ring": ring, "mode": "rollback", "requester": requester.login, "reason": config.reason,
             "digest": "", "break_glass": False}
    events = ring_record.ring_events(context.instance, ladder)
    try:
        target = rollback_target(events, ring, to_pr=number)
    except NoRollbackTarget as error:
        _refuse(context, key, partition, "refused", str(error), {
            **facts, "unmet_gates": dg.MetadataValue.json([{"gate": "rollback_target", "reason": str(error)}])},
            operator, client)
    freeze = _freeze(rings, ring, config, requester, rollback=True)
    if not freeze.allowed:
        _refuse(context, key, partition, "refused", freeze.reason, {
            **facts, "digest": target.digest,
            "unmet_gates": dg.MetadataValue.json([{"gate": "frozen", "reason": freeze.reason}])}, operator, client)
    build = rollbacks.deployed_build(context.instance, ring, target.digest)
    if build is None or not build.image_ref:
        _refuse(context, key, partition, "refused", f"no image reference is recorded for {target.digest[:19]} in "
                f"{ring}: nothing to deploy without a rebuild", {**facts, "digest": target.digest}, operator, client)
    facts.update({"digest": target.digest, "head_sha": build.head_sha, "title": build.title[:200],
                  "replaced_pr": target.replaces_pr or 0, "replaced_digest": target.replaces_digest or "",
                  "break_glass": freeze.break_glass})
    policy = rings.policy(ring)
    try:
        pipeline = workspace.pipeline_at(number, build.head_sha)
        checks = list(pipeline.smoke) if policy.verification == "repo_smoke" else []
        health_path, container_port = (pipeline.smoke[0].path if pipeline.smoke else "/"), pipeline.app.port
    except Exception as exc:  # noqa: BLE001 - recovery first: verify by the recorded container's health alone
        context.log.warning(f"pipeline config of {build.head_sha[:12]} unavailable ({exc}); health check only")
        current = RingEnvironments(app=operator.app, url_host=rings.host).current(ring)
        checks, health_path = [], current.health_path if current else "/"
        container_port = current.container_port if current else 8080
    envs = RingEnvironments(app=operator.app, url_host=rings.host)
    deployment_id, _ = start_ring_deployment(client, ring, build.head_sha, number, target.digest,
                                             production=ring == ladder[-1])
    result = roll_out(envs, ring, build.image_ref, port=rings.port(ring), container_port=container_port, pr=number,
                      sha=build.head_sha, checks=checks, health_path=health_path)
    verification = result.verification.to_dict() if result.verification else None
    if not result.verified:
        finish_ring_deployment(client, deployment_id, "failure", None, f"rollback failed: {result.failure}")
        back = result.deployment if result.restored else None
        context.log_event(ring_record.verification_observation(
            key.path[-1], number, target.digest, passed=False, phase="rollback", at=time.time(),
            requester=requester.login, failed_check=result.failure or "", reason=config.reason,
            extra={**facts, "verification": dg.MetadataValue.json(verification)}))
        where = (f"{ring} is back on {back.digest[:19]} (PR #{back.pr})" if back else
                 f"{ring} could not be put back: {result.restore_error}" if result.restore_error
                 else f"{ring} runs nothing")
        _publish_ring_page(context, operator, client, ring)
        raise dg.Failure(description=f"rollback of {ring} to PR #{number} ({target.digest[:19]}) failed "
                                     f"verification: {result.failure}; {where}")
    deployment = result.deployment  # serving and verified: recorded first, as for a promotion
    since = time.time()
    context.log_event(ring_record.deploy_observation(
        ring, "rollback", pr=number, digest=target.digest, head_sha=build.head_sha, since=since,
        requester=requester.login, reason=config.reason, image_ref=build.image_ref, title=build.title,
        url=deployment.url, replaced_pr=target.replaces_pr, replaced_digest=target.replaces_digest,
        break_glass=freeze.break_glass))
    tags = [sanitize_tag(f"{ring}-latest"), ring_tag(number, ring)]
    tag_manifest(build.image_ref, tags, operator.registry_auth(os.environ),
                 insecure=operator.registry.insecure or None)
    finish_ring_deployment(client, deployment_id, "success", deployment.url,
                           f"rolled back to PR #{number} {target.digest[:19]}, verified")
    _publish_ring_page(context, operator, client, ring, pending={
        "at": since, "run_id": context.run.run_id, "pr": partition, "outcome": "rolled_back", **facts})
    _update_sticky_comment(context, operator, client, partition, {"ring": ring, "requester": requester.login,
                                                                  "outcome": "rolled_back"})
    if target.replaces_pr:
        _update_sticky_comment(context, operator, client, str(target.replaces_pr))
    context.log.info(f"{ring} rolled back to PR #{number} {target.digest[:19]}, verified; "
                     f"{(target.replaces_digest or 'nothing')[:19]} (PR #{target.replaces_pr}) is held")
    return dg.MaterializeResult(metadata={
        **facts, "outcome": "rolled_back", "since": since, "url": dg.MetadataValue.url(deployment.url),
        "container": deployment.name, "registry_tags": dg.MetadataValue.json(tags),
        "previous_digest": target.replaces_digest or "", "previous_pr": target.replaces_pr or 0,
        "verification": dg.MetadataValue.json(verification), "authenticated": requester.login != UNAUTHENTICATED})


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
