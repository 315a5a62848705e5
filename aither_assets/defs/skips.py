"""Stages the plan says this head does not need: no output, and the UI says why."""

import dagster as dg

from aither_assets import stages
from aither_assets.prs.changes import StageDecision
from aither_assets.prs.context import PRContext
from aither_assets.stages import Meta


def skip_unless_planned(context: dg.AssetExecutionContext, pr: PRContext, stage: str) -> bool:
    """True when pr_context's plan skips ``stage`` (pr_context has recorded why)."""
    decision = pr.decision(stage)
    if decision.run:
        return False
    context.log.info(f"{stage} skipped for {pr.head_sha[:8]}: {decision.reason}")
    return True


def skip_observation(asset: str | dg.AssetKey, partition: str, head_sha: str, reason: str) -> dg.AssetObservation:
    """What a skipped asset records instead of a result; the reports read it back as SKIPPED."""
    return dg.AssetObservation(asset_key=asset, partition=partition,
                               metadata={Meta.STATE: "skipped", Meta.HEAD_SHA: head_sha, Meta.SKIPPED_REASON: reason})


def planned_skips(partition: str, head_sha: str, plan: dict[str, StageDecision]) -> list[dg.AssetObservation]:
    """One observation per asset the plan skips, so even a step Dagster skips downstream says why."""
    return [
        skip_observation(asset, partition, head_sha, decision.reason)
        for stage, decision in plan.items() if not decision.run
        for asset in stages.assets_of(stage)
    ]


def record_skip(context: dg.AssetExecutionContext, pr: PRContext, reason: str) -> None:
    """An observation per selected asset: the UI and the dashboard show why there is no result."""
    for key in context.selected_asset_keys:
        context.log_event(skip_observation(key, context.partition_key, pr.head_sha, reason))
    context.log.info(f"skipped for {pr.head_sha[:8]}: {reason}")
