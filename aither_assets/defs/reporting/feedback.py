"""Publishing one summary entry to GitHub from a step: the links the operator config gives, and
errors as warnings in the step's log (feedback never fails a run)."""

import logging
import threading

import dagster as dg

from aither_assets.config.operator import OperatorConfig
from aither_assets.dashboard.model import Links
from aither_assets.feedback import FeedbackLinks, FeedbackReport, publish_feedback
from aither_assets.github.client import GitHubClient

log = logging.getLogger(__name__)

# Start announcements still being posted, by run id (see announce_in_background).
_announcing: dict[str, threading.Thread] = {}
_announced: dict[str, FeedbackReport] = {}
_lock = threading.Lock()


def _feedback(client: GitHubClient, operator: OperatorConfig, entry: dict) -> FeedbackReport:
    dashboard = Links(dagster_ui=operator.dagster_ui_url, pages_base=operator.pages.base_url).pr_page(entry["number"])
    links = FeedbackLinks.for_dagster(operator.dagster_ui_url, entry, dashboard=dashboard)
    # Never fails the run: GitHub trouble is reported in the metadata and the next run reconciles.
    return publish_feedback(client, entry, links, use_check_runs=operator.github.app is not None)


def publish_entry_feedback(context: dg.AssetExecutionContext, client: GitHubClient, operator: OperatorConfig,
                           entry: dict) -> FeedbackReport:
    wait_for_announcement(context)  # this run's pending statuses must not land after its results
    report = _feedback(client, operator, entry)
    for error in report.errors:
        context.log.warning(error)
    return report


def announce_in_background(run_id: str, client: GitHubClient, operator: OperatorConfig, entry: dict) -> None:
    """Post a run's pending feedback while its stages go on.

    GitHub asks integrators to make their writes one after another, so the dozen calls take a
    while (about 1 s locally, several on github.com); no stage needs them. The thread is not a
    daemon: the run worker exits only after it is done. publish_entry_feedback waits for it
    (pr_pipeline runs in one process, so the pr_feedback step finds the thread).
    """
    def post() -> None:
        try:
            _announced[run_id] = _feedback(client, operator, entry)
        except Exception:  # noqa: BLE001 - publish_feedback already turns GitHub errors into the report
            log.exception("start feedback of run %s not published", run_id)

    thread = threading.Thread(target=post, name=f"aither-announce-{run_id[:8]}")
    with _lock:
        _announcing[run_id] = thread
    thread.start()


def wait_for_announcement(context: dg.AssetExecutionContext, timeout: float = 300.0) -> None:
    """Wait until this run's start announcement is posted, and log what went wrong with it."""
    with _lock:
        thread = _announcing.pop(context.run_id, None)
    if thread is None:
        return
    thread.join(timeout)
    if thread.is_alive():
        context.log.warning(f"the start feedback is still being posted after {timeout:.0f} s")
        return
    report = _announced.pop(context.run_id, None)
    for error in report.errors if report else ["the start feedback was not published (see the run's logs)"]:
        context.log.warning(f"start feedback: {error}")
