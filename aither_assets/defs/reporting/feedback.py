"""GitHub feedback from a run's steps: the summary entry published with the operator's links, and the
start announcement that may finish while the run goes on (through the run's GitHubWriter). Errors
become warnings in the step's log (feedback never fails a run)."""

import dagster as dg

from aither_assets.config.operator import OperatorConfig
from aither_assets.defs.resources import GitHubWriter
from aither_assets.feedback import FeedbackReport, publish_feedback
from aither_assets.github.client import GitHubClient
from aither_assets.github.writer import SerialWriter
from aither_assets.links import Links
from aither_assets.results import RunSummary


def _feedback(client: GitHubClient, operator: OperatorConfig, summary: RunSummary | dict) -> FeedbackReport:
    entry = summary.to_json() if isinstance(summary, RunSummary) else summary
    links = Links(dagster_ui=operator.dagster_ui_url, pages_base=operator.pages.base_url).for_run(entry)
    # Never fails the run: GitHub trouble is reported in the metadata and the next run reconciles.
    return publish_feedback(client, entry, links, use_check_runs=operator.github.app is not None)


def publish_entry_feedback(context: dg.AssetExecutionContext, writer: GitHubWriter | SerialWriter, client: GitHubClient,
                           operator: OperatorConfig, summary: RunSummary | dict) -> FeedbackReport:
    """Publish a run's results, after its background writes (its pending statuses must not land last)."""
    writer.wait(context.log.warning)
    report = _feedback(client, operator, summary)
    for error in report.errors:
        context.log.warning(error)
    return report


def announce_in_background(writer: GitHubWriter | SerialWriter, client: GitHubClient, operator: OperatorConfig,
                           entry: dict) -> None:
    """Every stage of the run's head shows pending on GitHub (statuses and the sticky comment), made
    while the run goes on."""
    writer.submit("start feedback", lambda: _feedback(client, operator, entry))
