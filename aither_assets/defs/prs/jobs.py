import dagster as dg

# Everything of a PR runs in one process: a step costs ~1 s in-process against ~2 s
# (forkserver) or more (spawn) on 2 cores, and the parallel work (test suites, builds)
# is done by subprocesses inside the assets, not by Dagster steps.
# The report assets (dashboard, feedback) close the run when every stage succeeded: that
# saves a second run launch per head (benchmarks/RESULTS.md); a run that fails or skips a
# stage is reported by a report run instead (defs/reporting/sensors.py).
pr_pipeline_job = dg.define_asset_job(
    name="pr_pipeline",
    selection=dg.AssetSelection.groups("pull_request") | dg.AssetSelection.groups("pr_report"),
    executor_def=dg.in_process_executor,
    description="Every per-PR asset for one head SHA, requested by the PR sensor.",
)
