"""Stages the plan says this head does not need: no output, and the UI says why."""

import dagster as dg

# The assets of each plan stage (pr_context's plan speaks in stages).
STAGE_ASSETS = {
    "build": ("build_artifacts",),
    "quality": ("quality_report",),
    "tests": ("unit_tests", "domain_tests", "integration_tests"),
    "image": ("container_image",),
    "environment": ("pr_environment",),
    "smoke": ("smoke_report",),
}


def skip_unless_planned(context: dg.AssetExecutionContext, pr: dict, stage: str) -> bool:
    """True when pr_context's plan skips ``stage`` (pr_context has recorded why)."""
    if pr["plan"][stage]["run"]:
        return False
    context.log.info(f"{stage} skipped for {pr['head_sha'][:8]}: {pr['plan'][stage]['reason']}")
    return True


def planned_skips(partition: str, head_sha: str, plan: dict) -> list[dg.AssetObservation]:
    """One observation per asset the plan skips, so even a step Dagster skips downstream says why."""
    return [
        dg.AssetObservation(asset_key=asset, partition=partition,
                            metadata={"state": "skipped", "head_sha": head_sha, "skipped_reason": decision["reason"]})
        for stage, decision in plan.items() if not decision["run"]
        for asset in STAGE_ASSETS.get(stage, ())
    ]


def record_skip(context: dg.AssetExecutionContext, pr: dict, reason: str) -> None:
    """An observation per selected asset: the UI and the dashboard show why there is no result."""
    for key in context.selected_asset_keys:
        context.log_event(dg.AssetObservation(
            asset_key=key, partition=context.partition_key,
            metadata={"state": "skipped", "head_sha": pr["head_sha"], "skipped_reason": reason},
        ))
    context.log.info(f"skipped for {pr['head_sha'][:8]}: {reason}")
