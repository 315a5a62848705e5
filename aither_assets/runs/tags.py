"""Run tags the sensor sets and assets read; one place so both sides agree."""

import re

PR_TAG = "aither/pr"
HEAD_SHA_TAG = "aither/head-sha"
BASE_REF_TAG = "aither/base-ref"
DEPLOYING_TAG = "aither/deploying"
FORK_APPROVAL_TAG = "aither/fork-approval"  # when the ok-to-test label this fork run relies on was set
REPORT_PR_TAG = "aither/report-pr"  # report runs: one at a time per PR, apart from the pipeline's limit
REPORTED_RUN_TAG = "aither/reported-run"
TRIGGER_TAG = "aither/trigger"  # "webhook" on runs the webhook receiver submitted (sensor runs: dagster/sensor_name)
WEBHOOK_DELIVERY_TAG = "aither/webhook-delivery"  # the GitHub delivery (X-GitHub-Delivery) that started the run


def tag_safe(value: str, limit: int = 63) -> str:
    """A PR-controlled string made safe to show as a run tag value (display only, never parsed back)."""
    return re.sub(r"[^A-Za-z0-9_.\-/]", "_", value)[:limit]
