"""The PR's sticky comment re-rendered with its "Promotion" section (ring by ring, and its holds), from its
last pipeline run: after a promotion, a rollback, a hold or an unhold. Shared by the ring assets and the
comment handlers; the caller decides what a failure is worth (never a failed promotion)."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from aither_assets.config.operator import OperatorConfig
from aither_assets.dashboard.model import Links
from aither_assets.feedback import FeedbackLinks
from aither_assets.feedback.publisher import update_sticky_comment
from aither_assets.github.client import GitHubClient
from aither_assets.release_policy.holds import hold_book
from aither_assets.reporting.summary import entry_for_run, pipeline_runs
from aither_assets.runs import ring_record
from aither_assets.runs import rings as records
from aither_assets.runs.policy_view import with_soak


def add_promotion(entry: dict, instance: dg.DagsterInstance, operator: OperatorConfig, pr: str) -> dict:
    """``entry`` (a pipeline run's summary) with the PR's promotion rows (state, last attempt, soak left)
    and its holds: what the sticky comment and the dashboard show of the rings."""
    events = ring_record.ring_events(instance, operator.rings.ladder)  # read once for soak and holds
    rows = records.promotion_ladder(instance, pr, operator.rings.ladder)
    entry["promotion"] = with_soak(rows, instance, operator.rings, pr, datetime.now(UTC), events)
    entry["promotion_holds"] = [hold.describe() for hold in hold_book(events).holds_of(pr=int(pr))]
    return entry


def refresh_sticky_comment(instance: dg.DagsterInstance, operator: OperatorConfig, client: GitHubClient, pr: str,
                           promoted: dict | None = None) -> list[str]:
    """Update PR ``pr``'s sticky comment; the errors, if any. ``promoted``: {"ring", "requester", "outcome"} of
    the running step, whose materialization lands after it."""
    runs = pipeline_runs(instance, int(pr), limit=1)
    if not runs:
        return []
    entry = entry_for_run(instance, runs[0])
    add_promotion(entry, instance, operator, pr)
    if promoted is not None:
        for row in entry["promotion"]:
            if row["ring"] == promoted["ring"]:
                row["last"] = {"outcome": promoted.get("outcome", "promoted"), "requester": promoted["requester"],
                               "first_unmet": None}
    dashboard = Links(dagster_ui=operator.dagster_ui_url, pages_base=operator.pages.base_url).pr_page(int(pr))
    links = FeedbackLinks.for_dagster(operator.dagster_ui_url, entry, dashboard=dashboard)
    return list(update_sticky_comment(client, entry, links).errors)
