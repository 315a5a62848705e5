import json

import dagster as dg

from aither_assets.config.pipeline import load_pipeline_config
from aither_assets.defs.prs.assets import pr_context
from aither_assets.defs.resources import AitherConfig, WorkspaceResource
from aither_assets.defs.skips import skip_unless_planned
from aither_assets.packaging.metadata import build_metadata
from aither_assets.packaging.package import build_archives, next_iteration, select_files
from aither_assets.runs.partitions import pr_partitions
from aither_assets.workspace import safe_name


@dg.asset(
    partitions_def=pr_partitions,
    group_name="pull_request",
    kinds={"python"},
    ins={"pr": dg.AssetIn(pr_context.key)},
    output_required=False,
    description="Runtime package (.zip, .tar.gz) and build-metadata.json, stored under PR and SHA.",
)
def build_artifacts(context: dg.AssetExecutionContext, pr: dict, workspace: WorkspaceResource,
                    aither_config: AitherConfig):
    if skip_unless_planned(context, pr, "build"):
        return
    root = workspace.tree(pr["number"], pr["head_sha"])
    pipeline = load_pipeline_config(root)
    operator = aither_config.operator
    commit = workspace.cache().commit(operator.repository, pr["head_sha"])
    iteration = next_iteration(previous_iterations(context), pr["head_sha"])
    out_dir = operator.storage.artifacts / f"pr-{pr['number']}" / pr["head_sha"]
    files = select_files(root, pipeline.package.include, pipeline.package.exclude)
    basename = f"{safe_name(pipeline.app.name)}-pr{pr['number']}-{pr['head_sha'][:8]}"
    artifacts = build_archives(root, files, out_dir, basename, mtime=commit.timestamp)
    pages = {"local": str(operator.storage.pages / f"pr-{pr['number']}" / "index.html")}
    document = build_metadata(pr, commit, iteration, artifacts, pages)
    (out_dir / "build-metadata.json").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    value = {"iteration": iteration, "dir": str(out_dir), "files": len(files),
             "artifacts": [a.to_json() for a in artifacts], "metadata_file": str(out_dir / "build-metadata.json")}
    yield dg.Output(value, metadata={
        "head_sha": pr["head_sha"],
        "iteration": iteration,
        "files_packaged": len(files),
        "artifact_dir": dg.MetadataValue.path(str(out_dir)),
        "artifacts": dg.MetadataValue.md(_artifact_table(artifacts)),
        **{f"sha256_{a.name.removeprefix(basename + '.').replace('.', '_')}": a.sha256 for a in artifacts},
        "build_metadata": dg.MetadataValue.json(document),
    })


def _artifact_table(artifacts) -> str:
    rows = "\n".join(f"| {a.name} | {a.size} | `{a.sha256}` |" for a in artifacts)
    return "| file | bytes | sha256 |\n|---|---|---|\n" + rows


def previous_iterations(context: dg.AssetExecutionContext) -> list[tuple[str, int]]:
    """(head SHA, iteration) of every earlier build of this PR, from the asset's own history."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=context.asset_key, asset_partitions=[context.partition_key]), limit=1000
    ).records
    out = []
    for record in records:
        meta = record.asset_materialization.metadata
        if "head_sha" in meta and "iteration" in meta:
            out.append((meta["head_sha"].value, int(meta["iteration"].value)))
    return out
