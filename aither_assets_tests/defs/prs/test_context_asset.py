"""pr_context on a real (temporary) instance and the local GitHub: the typed PRContext it returns goes
through Dagster's IO manager to the stage assets, its skips are recorded, its start is announced."""

import pickle

import dagster as dg
import yaml

from aither_assets.defs.packaging.assets import build_artifacts
from aither_assets.defs.prs.assets import pr_context
from aither_assets.defs.resources import AitherConfig, GitHubResource, GitHubWriter, WorkspaceResource
from aither_assets.prs.context import PRContext
from aither_assets.reporting.summary import read_run
from aither_assets.runs.partitions import PR_PARTITIONS_NAME
from aither_assets.runs.tags import HEAD_SHA_TAG, PR_TAG
from aither_assets_tests.conftest import OWNER, REPO


def test_a_docs_only_head_passes_its_context_on_and_records_the_skips(github, tmp_path, monkeypatch):
    monkeypatch.setenv("AITHER_TEST_TOKEN", github.token)
    config_file = tmp_path / "aither.yaml"
    operator = github.operator_config(storage={"root": str(tmp_path / "store")})
    config_file.write_text(yaml.safe_dump(operator.model_dump(mode="json")))
    config = AitherConfig(path=str(config_file))
    gh = GitHubResource(config=config)
    number = github.open_pr("docs", files={"docs/guide.md": "# Guide\n"})
    sha = github.store.get_pr(OWNER, REPO, number)["head_sha"]

    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(PR_PARTITIONS_NAME, [str(number)])
        result = dg.materialize(
            [pr_context, build_artifacts], instance=instance, partition_key=str(number),
            resources={"aither_config": config, "github": gh, "github_writer": GitHubWriter(),
                       "workspace": WorkspaceResource(config=config, github=gh),
                       # pickled to files, as Dagster's default IO manager does in a real run
                       "io_manager": dg.FilesystemIOManager(base_dir=str(tmp_path / "io"))},
            tags={PR_TAG: str(number), HEAD_SHA_TAG: sha},
        )
        assert result.success
        ctx = result.output_for_node("pr_context")
        stored = next((tmp_path / "io").rglob(str(number)))
        assert pickle.loads(stored.read_bytes()) == ctx  # what the stage assets read back
        assert isinstance(ctx, PRContext) and ctx.head_sha == sha and ctx.number == number
        assert ctx.decision("build").reason == "docs-only change"
        summary = read_run(instance, instance.get_run_by_id(result.run_id))
        # build_artifacts read the context back through the IO manager and skipped as the plan said.
        assert summary.stage("build_artifacts").status == "SKIPPED"
        assert summary.stage("unit_tests").record.skipped_reason == "docs-only change"
        assert summary.metadata("pr_context")["stages_to_run"] == ["validation", "dashboard"]

    # The start announcement went through the run's writer before the run ended: every stage has a status.
    contexts = {s["context"]: s["state"] for s in github.client().combined_status(sha)["statuses"]}
    assert contexts["aither/validation"] == "pending" and contexts["aither/build"] == "success"
