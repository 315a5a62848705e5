import dagster as dg

from aither_assets.defs.prs.assets import pr_context
from aither_assets.defs.resources import WorkspaceResource
from aither_assets.runs.partitions import pr_partitions
from aither_assets.validation.report import blocking, markdown_table, validate_checkout

NO_ERRORS = "no_error_findings"


@dg.asset(
    partitions_def=pr_partitions,
    group_name="pull_request",
    kinds={"github", "docker"},
    ins={"pr": dg.AssetIn(pr_context.key)},
    check_specs=[dg.AssetCheckSpec(NO_ERRORS, asset="validation_report", blocking=True,
                                   description="no finding of error severity")],
    description="Repo config, YAML, workflow wiring, Dockerfile (hadolint), compose, and zizmor findings.",
    op_tags={"dagster/priority": "20"},  # quick, and it gates the deploy: first when steps take turns
)
def validation_report(context: dg.AssetExecutionContext, pr: dict, workspace: WorkspaceResource):
    root = workspace.tree(pr["number"], pr["head_sha"])
    report = validate_checkout(root, workspace.config.operator.validation)
    counts = report.counts
    yield dg.Output(report.to_json(), metadata={
        "head_sha": pr["head_sha"],
        "findings": dg.MetadataValue.md(markdown_table(report.findings) if report.findings else "none"),
        "files_checked": report.files_checked,
        **{f"{severity}_count": n for severity, n in counts.items()},
        "tools": dg.MetadataValue.json(report.tools),
        "counts_by_tool": dg.MetadataValue.json(report.counts_by_tool),
    })
    errors = blocking(report)
    yield dg.AssetCheckResult(
        check_name=NO_ERRORS,
        passed=not errors,
        metadata={"errors": dg.MetadataValue.json(
            [f"{f.file}:{f.line or ''} {f.rule}: {f.message}" for f in errors[:50]])},
        description=f"{len(errors)} error finding(s)" if errors else "no error findings",
    )
