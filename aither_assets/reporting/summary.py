"""What happened to each PR, read back from the Dagster instance (runs, materializations, checks)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster._core.events import DagsterEventType
from dagster._core.storage.dagster_run import RunRecord

from aither_assets.github.models import PullRequest
from aither_assets.runs.pipeline import PIPELINE_JOB_NAME
from aither_assets.runs.tags import HEAD_SHA_TAG, PR_TAG, REPORTED_RUN_TAG, TRIGGER_TAG
from aither_assets.stages import TEST_ASSET_NAMES

PR_CONTEXT = dg.AssetKey("pr_context")
PR_FEEDBACK = dg.AssetKey("pr_feedback")


def metadata_json(metadata: dict[str, Any]) -> dict[str, Any]:
    """Dagster metadata values as plain JSON values."""
    out = {}
    for key, value in metadata.items():
        raw = getattr(value, "value", value)
        try:
            json.dumps(raw)
        except TypeError:
            raw = str(raw)
        out[key] = raw
    return out


def run_for_head(instance: dg.DagsterInstance, pr: PullRequest) -> dg.DagsterRun | None:
    runs = instance.get_runs(filters=dg.RunsFilter(tags={PR_TAG: pr.partition_key, HEAD_SHA_TAG: pr.head_sha}), limit=1)
    return runs[0] if runs else None


def skipped_reason(instance: dg.DagsterInstance, pr: PullRequest) -> str | None:
    """The sensor's reason for not running this head, from its latest observation of pr_context."""
    records = instance.fetch_observations(
        dg.AssetRecordsFilter(asset_key=PR_CONTEXT, asset_partitions=[pr.partition_key]), limit=1
    ).records
    if not records:
        return None
    metadata = metadata_json(records[0].asset_observation.metadata)
    if metadata.get("state") == "skipped" and metadata.get("head_sha") == pr.head_sha:
        return metadata.get("skipped_reason")
    return None


def run_outcome(instance: dg.DagsterInstance, run: dg.DagsterRun) -> tuple[dict, dict, dict, list[str]]:
    """(assets, checks, check details, step failures) of one run."""
    assets: dict[str, dict] = {}
    checks: dict[str, str] = {}
    details: dict[str, dict] = {}
    failures: list[str] = []
    records = instance.get_records_for_run(
        run.run_id,
        of_type={
            DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
            DagsterEventType.ASSET_MATERIALIZATION,
            DagsterEventType.ASSET_OBSERVATION,
            DagsterEventType.ASSET_CHECK_EVALUATION,
            DagsterEventType.STEP_FAILURE,
        },
    ).records
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is None:
            continue
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION_PLANNED:
            assets.setdefault(event.asset_key.to_user_string(), {"status": "NOT_MATERIALIZED", "metadata": {}})
        elif event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            mat = event.step_materialization_data.materialization
            assets[mat.asset_key.to_user_string()] = {"status": "MATERIALIZED", "metadata": metadata_json(mat.metadata)}
        elif event.event_type == DagsterEventType.ASSET_OBSERVATION:
            observation = event.asset_observation_data.asset_observation
            metadata = metadata_json(observation.metadata)
            if metadata.get("state") == "skipped":
                assets[observation.asset_key.to_user_string()] = {
                    "status": "SKIPPED", "skipped_reason": metadata.get("skipped_reason"), "metadata": {}}
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            checks[name] = "PASSED" if evaluation.passed else "FAILED"
            details[name] = {"description": evaluation.description, **metadata_json(evaluation.metadata)}
        elif event.event_type == DagsterEventType.STEP_FAILURE:
            failures.append(f"{event.step_key}: {event.event_specific_data.error.message.strip()[:300]}")
    return assets, checks, details, failures


def summarize(instance: dg.DagsterInstance, pulls: list[PullRequest], ring_of) -> dict[str, Any]:
    prs = []
    for pr in sorted(pulls, key=lambda p: p.number):
        run = run_for_head(instance, pr)
        entry: dict[str, Any] = {
            "number": pr.number,
            "title": pr.title,
            "head_sha": pr.head_sha,
            "base": pr.base_ref,
            "ring": ring_of(pr.base_ref),
            "skipped_reason": skipped_reason(instance, pr),
            "run_id": run.run_id if run else None,
            "run_status": run.status.value if run else None,
            "triggered_by": triggered_by(run) if run else None,
            "head_runs": instance.get_runs_count(filters=dg.RunsFilter(
                job_name=PIPELINE_JOB_NAME, tags={PR_TAG: pr.partition_key, HEAD_SHA_TAG: pr.head_sha})),
            "assets": {},
            "checks": {},
            "check_details": {},
            "failures": [],
        }
        if run is not None:
            entry["assets"], entry["checks"], entry["check_details"], entry["failures"] = run_outcome(instance, run)
            entry["reported_by"] = reported_by(instance, run.run_id)
        prs.append(entry)
    return {"prs": prs}


def triggered_by(run: dg.DagsterRun) -> str:
    """Who started a pipeline run: the webhook receiver, the PR sensor, or someone in the UI."""
    if run.tags.get(TRIGGER_TAG) == "webhook":
        return "webhook"
    return "sensor" if run.tags.get("dagster/sensor_name") else "manual"


def pipeline_runs(instance: dg.DagsterInstance, number: int, limit: int = 50) -> list[dg.DagsterRun]:
    """This PR's pipeline runs, newest first."""
    return list(instance.get_runs(filters=dg.RunsFilter(tags={PR_TAG: str(number)}, job_name=PIPELINE_JOB_NAME),
                                  limit=limit))


def entry_for_run(instance: dg.DagsterInstance, run: dg.DagsterRun, status: str | None = None) -> dict[str, Any]:
    """The summary entry of one run, PR facts taken from its own pr_context materialization.

    ``status`` stands in for the run's own status when the run reports on itself before it ends.
    """
    assets, checks, details, failures = run_outcome(instance, run)
    context = assets.get("pr_context", {}).get("metadata", {})
    return {
        "number": int(run.tags[PR_TAG]),
        "title": context.get("title"),
        "author": context.get("author"),
        "url": context.get("pr_url"),
        "head_sha": run.tags.get(HEAD_SHA_TAG),
        "base": context.get("base_ref"),
        "ring": context.get("ring"),
        "run_id": run.run_id,
        "run_status": status or run.status.value,
        "assets": assets,
        "checks": checks,
        "check_details": details,
        "failures": failures,
    }


def _total(tests: list[dict], field: str) -> int | None:
    """The sum of one count over the suites' metadata; None when a suite lacks it (missing, not zero)."""
    values = [meta.get(field) for meta in tests]
    return sum(values) if tests and all(isinstance(v, int) for v in values) else None


def history(instance: dg.DagsterInstance, number: int, limit: int = 30,
            current: tuple[str, str] | None = None, known: Mapping[str, dict] | None = None,
            outcomes: Mapping[str, dict] | None = None) -> list[dict[str, Any]]:
    """One point per finished run of this PR, oldest first; a figure the run did not produce is None.

    ``current`` (run id, status) counts a run that reports on itself as finished with that status;
    its duration runs up to now and its point is marked provisional. ``known`` maps run ids to
    points computed before (the last dashboard's): a finished run's point never changes, so only
    new runs are read from the event log. ``outcomes`` maps run ids to assets already read (the
    ``assets`` of an entry_for_run), which are not read again.
    """
    known, outcomes = known or {}, outcomes or {}
    records = instance.get_run_records(
        filters=dg.RunsFilter(tags={PR_TAG: str(number)}, job_name=PIPELINE_JOB_NAME), limit=limit
    )
    points = []
    for record in reversed(records):
        run = record.dagster_run
        own = current is not None and run.run_id == current[0]
        if not run.is_finished and not own:
            continue
        previous = known.get(run.run_id)
        if previous is not None and not own and not previous.get("provisional"):
            points.append(dict(previous))
            continue
        assets = outcomes.get(run.run_id) or run_outcome(instance, run)[0]
        tests = [assets[name]["metadata"] for name in TEST_ASSET_NAMES
                 if assets.get(name, {}).get("status") == "MATERIALIZED"]

        build = assets.get("build_artifacts", {}).get("metadata", {})
        end_time = time.time() if own else record.end_time
        duration = (end_time - record.start_time) if end_time and record.start_time else None
        point = {
            "run_id": run.run_id,
            "sha": run.tags.get(HEAD_SHA_TAG),
            "iteration": build.get("iteration"),
            "at": record.create_timestamp.isoformat(),
            "tests_passed": _total(tests, "passed"),
            "tests_failed": _total(tests, "failed"),
            "duration_seconds": round(duration, 1) if duration is not None else None,
            "run_status": current[1] if own else run.status.value,
        }
        if own:
            point["provisional"] = True  # recomputed once the run has ended
        points.append(point)
    return points


def reported_by(instance: dg.DagsterInstance, run_id: str) -> str | None:
    """Who published this run's dashboard and feedback: the run itself, a report run, or nobody (yet)."""
    if reported_in_run(instance, run_id):
        return "pipeline run"
    report = report_record(instance, run_id)
    if report is not None and report.dagster_run.status == dg.DagsterRunStatus.SUCCESS:
        return "report run"
    return None


def report_record(instance: dg.DagsterInstance, run_id: str) -> RunRecord | None:
    """The report run requested for this pipeline run (defs/reporting/sensors.py), if any."""
    records = instance.get_run_records(filters=dg.RunsFilter(tags={REPORTED_RUN_TAG: run_id}), limit=1)
    return records[0] if records else None


def reported_in_run(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether the pipeline run published its own dashboard and feedback (its last steps)."""
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records
    return any(r.event_log_entry.dagster_event.asset_key == PR_FEEDBACK for r in records)
