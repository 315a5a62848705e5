"""pr_context: the orchestrator asset. Facts about the PR head and the plan of stages it needs."""

import dagster as dg

from aither_assets.config.errors import ConfigError
from aither_assets.config.operator import OperatorConfig
from aither_assets.config.pipeline import load_pipeline_config
from aither_assets.defs.reporting.feedback import announce_in_background
from aither_assets.defs.resources import AitherConfig, GitHubResource, WorkspaceResource
from aither_assets.defs.skips import planned_skips
from aither_assets.feedback import starting_entry
from aither_assets.markdown import md_escape, md_table
from aither_assets.prs.context import PRContext, build_context
from aither_assets.runs.partitions import pr_partitions
from aither_assets.runs.tags import HEAD_SHA_TAG


@dg.asset(
    partitions_def=pr_partitions,
    group_name="pull_request",
    kinds={"github"},
    description="PR facts, entry ring (from the base branch), changed files grouped, and the plan of stages.",
)
def pr_context(context: dg.AssetExecutionContext, github: GitHubResource, aither_config: AitherConfig,
               workspace: WorkspaceResource) -> dg.Output[dict]:
    client = github.client()
    number = int(context.partition_key)
    pr = client.pull(number)
    sha = context.run.tags.get(HEAD_SHA_TAG) or pr.head_sha
    try:
        has_docker = load_pipeline_config(workspace.tree(number, sha)).docker is not None
    except ConfigError:
        has_docker = True  # validation_report names the config errors and blocks the run
    ctx = build_context(pr, client.pull_files(number), aither_config.operator, sha, has_docker=has_docker)
    for observation in planned_skips(context.partition_key, ctx.head_sha, ctx.plan):
        context.log_event(observation)
    announce_start(context, client, aither_config.operator, ctx)
    return dg.Output(ctx.to_json(), metadata=context_metadata(ctx))


def announce_start(context: dg.AssetExecutionContext, client, operator: OperatorConfig, ctx: PRContext) -> None:
    """Every stage of this head shows pending on GitHub from the run's start until it reports.

    Done here rather than by a run of its own: on a small machine a second run launch per
    head costs more than these few calls; posted while the stages run. Never fails the run.
    """
    announce_in_background(context.run_id, client, operator, starting_entry(ctx.to_json(), context.run_id))


def context_metadata(ctx: PRContext) -> dict[str, dg.MetadataValue]:
    plan_rows = [[stage, "run" if d["run"] else "skip", md_escape(d["reason"])] for stage, d in ctx.plan.items()]
    group_rows = [[group, str(len(files)), md_escape(", ".join(files[:10]) + (" ..." if len(files) > 10 else ""))]
                  for group, files in ctx.file_groups.items()]
    return {
        "title": dg.MetadataValue.text(ctx.title),
        "author": dg.MetadataValue.text(ctx.author),
        "pr_url": dg.MetadataValue.url(ctx.url),
        "head_sha": dg.MetadataValue.text(ctx.head_sha),
        "base_ref": dg.MetadataValue.text(ctx.base_ref),
        "ring": dg.MetadataValue.text(ctx.ring or "none (base branch maps to no ring)"),
        "fork": dg.MetadataValue.bool(ctx.is_fork),
        "head_moved": dg.MetadataValue.bool(ctx.head_moved),
        "plan": dg.MetadataValue.md(md_table(["stage", "decision", "why"], plan_rows)),
        "file_groups": dg.MetadataValue.md(md_table(["group", "files", "paths"], group_rows)),
        "stages_to_run": dg.MetadataValue.json([s for s, d in ctx.plan.items() if d["run"]]),
    }
