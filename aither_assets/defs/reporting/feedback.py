"""Publishing one summary entry to GitHub from a step: the links the operator config gives, and
errors as warnings in the step's log (feedback never fails a run)."""

import dagster as dg

from aither_assets.config.operator import OperatorConfig
from aither_assets.dashboard.model import Links
from aither_assets.feedback import FeedbackLinks, FeedbackReport, publish_feedback
from aither_assets.github.client import GitHubClient


def publish_entry_feedback(context: dg.AssetExecutionContext, client: GitHubClient, operator: OperatorConfig,
                           entry: dict) -> FeedbackReport:
    dashboard = Links(dagster_ui=operator.dagster_ui_url, pages_base=operator.pages.base_url).pr_page(entry["number"])
    links = FeedbackLinks.for_dagster(operator.dagster_ui_url, entry, dashboard=dashboard)
    # Never fails the run: GitHub trouble is reported in the metadata and the next run reconciles.
    report = publish_feedback(client, entry, links, use_check_runs=operator.github.app is not None)
    for error in report.errors:
        context.log.warning(error)
    return report
