import json
from datetime import UTC, datetime

import dagster as dg

from aither_assets.dashboard.model import page_from_summary
from aither_assets.dashboard.paths import pr_path, ring_path
from aither_assets.dashboard.publish import publish_gh_pages, publish_local
from aither_assets.dashboard.render import render_index, render_pr_page, render_ring_page
from aither_assets.defs.prs.jobs import pr_pipeline_job
from aither_assets.defs.reporting.feedback import publish_entry_feedback
from aither_assets.defs.resources import AitherConfig, GitHubResource, GitHubWriter
from aither_assets.links import Links
from aither_assets.reporting.summary import history, pipeline_runs, read_run
from aither_assets.runs.partitions import pr_partitions
from aither_assets.runs.policy_view import ring_page_extras
from aither_assets.runs.rings import ring_page_entries
from aither_assets.runs.sticky import add_promotion
from aither_assets.runs.tags import REPORTED_RUN_TAG

DATA_DIR = "data"  # per-PR summaries kept next to the pages, to rebuild the index without the event log


# The last stages. In the pipeline run the report steps follow them, so they run only when every
# stage ran and passed: smoke_report comes after validation, tests, image and deploy, and
# quality_report (linters) is the one stage not on that path; with steps on threads it may still
# be running when smoke_report is done. The threaded executor resolves skipped and abandoned
# upstreams on every turn (Dagster 1.13's in-process executor could hang on a mix of the two).
LAST_STAGES = ["smoke_report", "quality_report"]


def reported_run(context: dg.AssetExecutionContext) -> tuple[dg.DagsterRun, str | None]:
    """The pipeline run to report on, and the status to report for it when it is still going.

    Inside a pipeline run, that run itself: these steps run only after every stage step
    succeeded, so its outcome is final and it is reported as a success. In a report run,
    the run it was requested for (its statuses belong on that run's head, even when a newer
    head is queued by now); materialized by hand, the PR's newest pipeline run.
    """
    if context.run.job_name == pr_pipeline_job.name:
        return context.run, "SUCCESS"
    reported = context.run.tags.get(REPORTED_RUN_TAG)
    if reported:
        run = context.instance.get_run_by_id(reported)
        if run is None:
            raise dg.Failure(f"the run to report on, {reported}, is not in this instance")
        return run, None
    number = int(context.partition_key)
    runs = pipeline_runs(context.instance, number, limit=1)
    if not runs:
        raise dg.Failure(f"PR #{number} has no pipeline run to report on yet")
    return runs[0], None


def known_points(data_file) -> dict[str, dict]:
    """The history points the PR's last dashboard computed, by run id (unreadable file: none)."""
    try:
        points = json.loads(data_file.read_text()).get("history") or []
    except (OSError, ValueError, AttributeError):
        return {}
    return {p["run_id"]: p for p in points if isinstance(p, dict) and isinstance(p.get("run_id"), str)}


@dg.asset(
    partitions_def=pr_partitions,
    group_name="pr_report",
    kinds={"html"},
    deps=LAST_STAGES,
    description="Static page of the PR (real figures only; missing data shows as missing) and the index of all PRs.",
)
def pr_dashboard(context: dg.AssetExecutionContext, aither_config: AitherConfig, github: GitHubResource):
    operator = aither_config.operator
    links = Links(dagster_ui=operator.dagster_ui_url, pages_base=operator.pages.base_url)
    run, status = reported_run(context)
    summary = read_run(context.instance, run, status)
    entry = summary.to_json()
    add_promotion(entry, context.instance, operator, str(entry["number"]))
    pages_dir = operator.storage.pages
    data_file = pages_dir / DATA_DIR / f"pr-{entry['number']}.json"
    data_file.parent.mkdir(parents=True, exist_ok=True)
    points = history(context.instance, entry["number"], current=(run.run_id, status) if status else None,
                     known=known_points(data_file), outcomes={run.run_id: summary.assets})
    data_file.write_text(json.dumps({"entry": entry, "history": points}))
    all_pages = [page_from_summary(d["entry"], d["history"], links)
                 for d in (json.loads(p.read_text()) for p in sorted(data_file.parent.glob("pr-*.json")))]
    page = page_from_summary(entry, points, links)
    rings = list(operator.rings.ladder)
    files = {pr_path(entry["number"]): render_pr_page(page), "index.html": render_index(all_pages, rings=rings)}
    # Ring pages: what runs in each ring and its promotion history, from the instance's records.
    try:
        extras = ring_page_extras(context.instance, operator.rings, github.client(), datetime.now(UTC))
    except Exception as exc:  # noqa: BLE001 - the pages go out without the candidates and figures
        context.log.warning(f"ring candidates and delivery figures not read: {exc}")
        extras = {}
    ladder = operator.rings.ladder
    files.update({ring_path(ring): render_ring_page(ring, ring_page_entries(context.instance, ring, ladder=ladder),
                                                    extras=extras.get(ring)) for ring in rings})
    written = publish_local(pages_dir, files)
    metadata = {
        "head_sha": entry["head_sha"],
        "run_status": entry["run_status"],
        "page": dg.MetadataValue.path(str(pages_dir / pr_path(entry["number"]))),
        "history_points": len(points),
        "files_written": len(written),
    }
    if links.pr_page(entry["number"]):
        metadata["url"] = dg.MetadataValue.url(links.pr_page(entry["number"]))
    if operator.pages.gh_pages:
        client = github.client()
        commit = publish_gh_pages(client.clone_url(), files, branch=operator.pages.branch, token=client.token,
                                  message=f"Dashboard for PR #{entry['number']} at {entry['head_sha'][:8]}",
                                  workdir=operator.storage.root / "gh-pages")
        metadata["gh_pages_commit"] = commit
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    partitions_def=pr_partitions,
    group_name="pr_report",
    kinds={"github"},
    deps=[pr_dashboard],
    description="Commit statuses (or check runs) per stage and the one sticky PR comment, updated in place.",
)
def pr_feedback(context: dg.AssetExecutionContext, aither_config: AitherConfig, github: GitHubResource,
                github_writer: GitHubWriter):
    entry = read_run(context.instance, *reported_run(context)).to_json()
    add_promotion(entry, context.instance, aither_config.operator, str(entry["number"]))
    report = publish_entry_feedback(context, github_writer, github.client(), aither_config.operator, entry)
    return dg.MaterializeResult(metadata=report.to_metadata())
