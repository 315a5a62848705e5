import dagster as dg

from aither_assets.config.pipeline import load_pipeline_config
from aither_assets.defs.prs.assets import pr_context
from aither_assets.defs.resources import SandboxResource, WorkspaceResource
from aither_assets.defs.skips import skip_unless_planned
from aither_assets.quality.linters import run_linters
from aither_assets.quality.markdown import findings_table, linters_table, severity_table
from aither_assets.runs.partitions import pr_partitions


@dg.asset(
    partitions_def=pr_partitions,
    group_name="pull_request",
    kinds={"python"},
    ins={"pr": dg.AssetIn(pr_context.key)},
    output_required=False,
    description="The repo's linters on this head: findings by file/line/rule and counts by severity.",
)
def quality_report(context: dg.AssetExecutionContext, pr: dict, workspace: WorkspaceResource,
                   sandbox: SandboxResource):
    if skip_unless_planned(context, pr, "quality"):
        return
    root = workspace.tree(pr["number"], pr["head_sha"])
    linters = load_pipeline_config(root).linters
    report = run_linters(linters, root, sandbox=sandbox.get())
    counts = report.counts_by_severity
    metadata = {
        "head_sha": pr["head_sha"],
        "linters": dg.MetadataValue.md(linters_table(report) if linters else "the repo configures no linter"),
        "findings": dg.MetadataValue.md(findings_table(report) if report.findings else "none"),
        "findings_total": len(report.findings) if counts is not None else None,
        "by_severity": dg.MetadataValue.md(severity_table(report)) if counts is not None else None,
        "complete": report.complete,
        **({f"{severity}_count": n for severity, n in counts.items()} if counts is not None else {}),
    }
    yield dg.Output(report.to_json(), metadata={k: v for k, v in metadata.items() if v is not None})
