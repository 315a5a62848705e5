"""The start announcement is posted in the background, and a run's results always land after it."""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace

from aither_assets.defs.reporting.feedback import announce_in_background, publish_entry_feedback
from aither_assets.feedback import CONTEXTS
from aither_assets.github.writer import SerialWriter
from aither_assets_tests.feedback.conftest import (  # noqa: F401 - fixtures
    FAILING_TEST_PR,
    SUCCESS_PR,
    entry,
    local_entry,
    summary_entries,
)


def step_context(run_id: str) -> SimpleNamespace:
    """What publish_entry_feedback uses of a Dagster step context: the run id and a logger."""
    return SimpleNamespace(run_id=run_id, log=logging.getLogger("test-step"))


def test_results_land_after_a_slow_start_announcement(github, local_entry) -> None:  # noqa: F811
    number = github.open_pr("announce")
    first = local_entry(FAILING_TEST_PR, pr=number)  # stands for the pending announcement
    final = local_entry(SUCCESS_PR, pr=number)
    operator = github.operator_config()
    github.store.set_faults(latency_ms=60)  # every call slow, like github.com

    writer = SerialWriter("run-1")  # the run's GitHubWriter
    started = time.monotonic()
    announce_in_background(writer, github.client(), operator, first)
    returned_after = time.monotonic() - started
    report = publish_entry_feedback(step_context("run-1"), writer, github.client(), operator, final)
    writer.close()
    github.store.set_faults(latency_ms=0)

    assert returned_after < 0.05, "announcing must not hold up the step"
    assert report.errors == []
    states = {s["context"]: s["state"] for s in github.client().combined_status(final["head_sha"])["statuses"]}
    assert set(states) == set(CONTEXTS)
    assert set(states.values()) == {"success"}, states  # not one context left as the announcement set it


def test_publishing_without_an_announcement_does_not_wait(github, local_entry) -> None:  # noqa: F811
    final = local_entry(SUCCESS_PR)
    report = publish_entry_feedback(step_context("run-without-announcement"), SerialWriter(), github.client(),
                                    github.operator_config(), final)
    assert report.errors == [] and report.statuses_set == len(CONTEXTS)
