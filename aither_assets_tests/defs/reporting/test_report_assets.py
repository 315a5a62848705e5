"""The report assets on a real (temporary) instance and the local GitHub: which run they report on."""

import dagster as dg
import yaml
from dagster._core.storage.dagster_run import DagsterRun

from aither_assets.defs.reporting.assets import pr_dashboard, pr_feedback
from aither_assets.defs.resources import AitherConfig, GitHubResource
from aither_assets.runs.partitions import PR_PARTITIONS_NAME
from aither_assets.runs.tags import HEAD_SHA_TAG, PR_TAG, REPORTED_RUN_TAG
from aither_assets_tests.conftest import OWNER, REPO


def statuses(github, sha: str) -> dict[str, str]:
    return {s["context"]: s["state"] for s in github.client().combined_status(sha)["statuses"]}


def test_a_report_run_reports_on_its_run_even_when_a_newer_head_waits(github, tmp_path, monkeypatch):
    monkeypatch.setenv("AITHER_TEST_TOKEN", github.token)
    config_file = tmp_path / "aither.yaml"
    operator = github.operator_config(storage={"root": str(tmp_path / "store")})
    config_file.write_text(yaml.safe_dump(operator.model_dump(mode="json")))
    config = AitherConfig(path=str(config_file))
    number = github.open_pr("items")
    failed_sha = github.store.get_pr(OWNER, REPO, number)["head_sha"]
    newer_sha = github.push(number, {"app/items.py": "NAME = 'v2'\n"})

    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(PR_PARTITIONS_NAME, [str(number)])
        instance.add_run(DagsterRun(job_name="pr_pipeline", run_id="failed-run", status=dg.DagsterRunStatus.FAILURE,
                                    tags={PR_TAG: str(number), HEAD_SHA_TAG: failed_sha}))
        # The newest pipeline run of the PR, for the next head, not started yet while the failure is reported.
        instance.add_run(DagsterRun(job_name="pr_pipeline", run_id="newer-run", status=dg.DagsterRunStatus.NOT_STARTED,
                                    tags={PR_TAG: str(number), HEAD_SHA_TAG: newer_sha}))
        result = dg.materialize(
            [pr_dashboard, pr_feedback], instance=instance, partition_key=str(number),
            resources={"aither_config": config, "github": GitHubResource(config=config)},
            tags={REPORTED_RUN_TAG: "failed-run"},
        )
        assert result.success
        dashboard = result.asset_materializations_for_node("pr_dashboard")[0].metadata
        assert dashboard["head_sha"].value == failed_sha and dashboard["run_status"].value == "FAILURE"

    failed = statuses(github, failed_sha)
    assert len(failed) == 9 and set(failed.values()) == {"error"}  # nothing ran: "not run", never a success
    assert statuses(github, newer_sha) == {}  # the newer head reports for itself when its run starts
