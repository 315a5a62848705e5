"""A PR's pipeline runs as the instance knows them: shared by the PR sensor and the webhook receiver,
so both start, skip and supersede runs by the same rules."""

import dagster as dg

from aither_assets.github.models import PullRequest
from aither_assets.runs.tags import BASE_REF_TAG, DEPLOYING_TAG, FORK_APPROVAL_TAG, HEAD_SHA_TAG, PR_TAG, tag_safe

PIPELINE_JOB_NAME = "pr_pipeline"

IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def pipeline_run_tags(pr: PullRequest, fork_approval: str | None = None) -> dict[str, str]:
    tags = {PR_TAG: pr.partition_key, HEAD_SHA_TAG: pr.head_sha, BASE_REF_TAG: tag_safe(pr.base_ref)}
    if fork_approval is not None:
        tags[FORK_APPROVAL_TAG] = tag_safe(fork_approval)
    return tags


def heads_with_runs(instance: dg.DagsterInstance, prs: list[PullRequest], chunk: int = 500) -> set[tuple[str, str]]:
    """(partition key, head SHA) of the heads among ``prs`` that have a pipeline run already, in any state,
    whoever requested it. One query per ``chunk`` heads (SQLite caps the values of one query)."""
    found: set[tuple[str, str]] = set()
    shas = sorted({pr.head_sha for pr in prs})
    for start in range(0, len(shas), chunk):
        records = instance.get_run_records(filters=dg.RunsFilter(
            job_name=PIPELINE_JOB_NAME, tags={HEAD_SHA_TAG: shas[start:start + chunk]}))
        found.update((r.dagster_run.tags.get(PR_TAG, ""), r.dagster_run.tags[HEAD_SHA_TAG]) for r in records)
    return found


def approval_used_by(instance: dg.DagsterInstance, pr: PullRequest, stamp: str) -> str | None:
    """The other head of this fork PR that a run already built on this approval (one approval, one head)."""
    runs = instance.get_runs(filters=dg.RunsFilter(
        job_name=PIPELINE_JOB_NAME, tags={PR_TAG: pr.partition_key, FORK_APPROVAL_TAG: tag_safe(stamp)}))
    return next((run.tags[HEAD_SHA_TAG] for run in runs if run.tags.get(HEAD_SHA_TAG) != pr.head_sha), None)


def supersede_older_runs(instance: dg.DagsterInstance, newest: dict[str, str]) -> int:
    """Cancel queued or running runs of an older head of the same PR (cancel-in-progress).

    ``newest``: partition key -> the head that should run ("" for a closed PR: nothing left to build).
    A run that is deploying (tagged by the deploy step) is left to finish: killing it half-way
    would leave an environment nobody owns. The new run queues behind it.
    """
    if not newest:
        return 0
    cancelled = 0
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS, job_name=PIPELINE_JOB_NAME)):
        pr = run.tags.get(PR_TAG)
        if pr in newest and run.tags.get(HEAD_SHA_TAG) != newest[pr] and run.tags.get(DEPLOYING_TAG) != "true":
            instance.run_coordinator.cancel_run(run.run_id)
            cancelled += 1
    return cancelled
