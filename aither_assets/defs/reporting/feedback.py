"""GitHub feedback from a run's steps: the summary entry published with the operator's links, and
the writes that may finish while the run goes on. Errors become warnings in the step's log
(feedback never fails a run)."""

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import dagster as dg

from aither_assets.config.operator import OperatorConfig
from aither_assets.dashboard.model import Links
from aither_assets.feedback import FeedbackLinks, FeedbackReport, publish_feedback
from aither_assets.github.client import GitHubClient

log = logging.getLogger(__name__)

# GitHub writes still going on, per run: one thread each, so they land in the order they were made.
_writers: dict[str, ThreadPoolExecutor] = {}
_pending: dict[str, list[tuple[str, Future]]] = {}
_lock = threading.Lock()


def _feedback(client: GitHubClient, operator: OperatorConfig, entry: dict) -> FeedbackReport:
    dashboard = Links(dagster_ui=operator.dagster_ui_url, pages_base=operator.pages.base_url).pr_page(entry["number"])
    links = FeedbackLinks.for_dagster(operator.dagster_ui_url, entry, dashboard=dashboard)
    # Never fails the run: GitHub trouble is reported in the metadata and the next run reconciles.
    return publish_feedback(client, entry, links, use_check_runs=operator.github.app is not None)


def publish_entry_feedback(context: dg.AssetExecutionContext, client: GitHubClient, operator: OperatorConfig,
                           entry: dict) -> FeedbackReport:
    wait_for_background_writes(context)  # this run's pending statuses must not land after its results
    report = _feedback(client, operator, entry)
    for error in report.errors:
        context.log.warning(error)
    return report


def write_in_background(run_id: str, what: str, call: Callable[[], object]) -> None:
    """Make a GitHub write of this run while its steps go on.

    GitHub asks integrators to make their writes one after another, so a dozen calls take a while
    (about 1 s locally, several on github.com) and no stage needs their answers. One thread per run
    makes them in order. Its threads are joined when the worker exits, so nothing is lost if the run
    fails; pr_feedback waits for them first (pr_pipeline runs in one process, so it finds them).
    """
    with _lock:
        pool = _writers.get(run_id)
        if pool is None:
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"aither-github-{run_id[:8]}")
            _writers[run_id] = pool
        _pending.setdefault(run_id, []).append((what, pool.submit(_logged(what, call))))


def _logged(what: str, call: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        try:
            return call()
        except Exception:
            log.exception("%s not published", what)
            raise
    return run


def announce_in_background(run_id: str, client: GitHubClient, operator: OperatorConfig, entry: dict) -> None:
    """Every stage of the run's head shows pending on GitHub (statuses and the sticky comment)."""
    write_in_background(run_id, "start feedback", lambda: _feedback(client, operator, entry))


def wait_for_background_writes(context: dg.AssetExecutionContext, timeout: float = 300.0) -> None:
    """Wait until this run's background writes are made, and log what went wrong with them."""
    with _lock:
        pool = _writers.pop(context.run_id, None)
        pending = _pending.pop(context.run_id, [])
    if pool is None:
        return
    for what, future in pending:
        try:
            result = future.result(timeout)
        except FutureTimeout:
            context.log.warning(f"{what}: still being published after {timeout:.0f} s")
            continue
        except Exception as exc:  # noqa: BLE001 - feedback never fails the run
            context.log.warning(f"{what}: not published ({type(exc).__name__}: {exc})")
            continue
        for error in result.errors if isinstance(result, FeedbackReport) else []:
            context.log.warning(f"{what}: {error}")
    pool.shutdown(wait=False)
