import dagster as dg

from aither_assets.runs.pipeline import PIPELINE_JOB_NAME
from aither_assets.runtime.threaded_executor import threaded_executor

# Everything of a PR runs in one process, ready steps side by side on threads (half the cores'
# worth; one at a time on 2 cores, where the suites already use both): a step process costs ~1 s
# (forkserver) or more (spawn) here, while our stages wait on subprocesses and the Docker engine.
# Step order when they take turns: validation, the test suites, then the rest (op priorities).
# The report assets (dashboard, feedback) close the run when every stage succeeded: that
# saves a second run launch per head (benchmarks/RESULTS.md); a run that fails or skips a
# stage is reported by a report run instead (defs/reporting/sensors.py).
pr_pipeline_job = dg.define_asset_job(
    name=PIPELINE_JOB_NAME,
    selection=dg.AssetSelection.groups("pull_request") | dg.AssetSelection.groups("pr_report"),
    executor_def=threaded_executor,
    description="Every per-PR asset for one head SHA, requested by the PR sensor or the webhook receiver.",
)
