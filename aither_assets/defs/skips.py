"""Stages the plan says this head does not need: no output, and the UI says why."""

import dagster as dg


def skip_unless_planned(context: dg.AssetExecutionContext, pr: dict, stage: str) -> bool:
    """True (and the reason logged and observed) when pr_context's plan skips ``stage``."""
    decision = pr["plan"][stage]
    if decision["run"]:
        return False
    for key in context.selected_asset_keys:
        context.log_event(dg.AssetObservation(
            asset_key=key, partition=context.partition_key,
            metadata={"state": "skipped", "head_sha": pr["head_sha"], "skipped_reason": decision["reason"]},
        ))
    context.log.info(f"{stage} skipped for {pr['head_sha'][:8]}: {decision['reason']}")
    return True
