import os

import dagster as dg

from aither_assets.config.pipeline import load_pipeline_config
from aither_assets.defs.paths import head_dir
from aither_assets.defs.prs.assets import pr_context
from aither_assets.defs.resources import AitherConfig, SandboxResource, WorkspaceResource
from aither_assets.defs.skips import skip_unless_planned
from aither_assets.runs.partitions import pr_partitions
from aither_assets.sandbox.model import STOP_LABELS
from aither_assets.stages import TEST_ASSETS
from aither_assets.suites.markdown import coverage_gaps, failures_table, suites_table
from aither_assets.suites.plan import plan_suites
from aither_assets.suites.runner import SuiteResult, run_suites

ALL_PASSED = "all_tests_passed"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(name, group_name="pull_request", kinds={"python"}, skippable=True, deps=[pr_context.key],
                     description=f"The repo's {kind} test suites for this head: counts, failing tests, coverage.")
        for name, kind in TEST_ASSETS.items()
    ],
    check_specs=[
        dg.AssetCheckSpec(ALL_PASSED, asset=name, blocking=True, description="every test of every suite passed")
        for name in TEST_ASSETS
    ],
    ins={"pr": dg.AssetIn(pr_context.key)},
    partitions_def=pr_partitions,
    can_subset=True,
    # Right after validation when steps take turns: the longest step, and the deploy waits for it.
    op_tags={"dagster/priority": "10"},
)
def test_suites(context: dg.AssetExecutionContext, pr: dict, workspace: WorkspaceResource, aither_config: AitherConfig,
                sandbox: SandboxResource):
    """One step for all three kinds, so every suite shares one pool of workers (one per core)."""
    if skip_unless_planned(context, pr, "tests"):
        return
    root = workspace.tree(pr["number"], pr["head_sha"])
    plan = plan_suites(load_pipeline_config(root).tests, root)
    wanted = {TEST_ASSETS[key.path[-1]] for key in context.selected_asset_keys}
    suites = [s for s in plan.suites if s.kind in wanted]
    out_dir = head_dir(aither_config.operator, pr, "test-reports")
    results = run_suites(suites, root, out_dir, max_workers=os.cpu_count(), sandbox=sandbox.get())
    for key in sorted(context.selected_asset_keys, key=lambda k: k.path[-1]):
        kind = TEST_ASSETS[key.path[-1]]
        mine = [r for r in results if r.kind == kind]
        yield dg.MaterializeResult(asset_key=key, metadata=suite_metadata(pr, mine, plan if kind == "unit" else None))
        yield check_result(key, mine)


def suite_metadata(pr: dict, results: list[SuiteResult], plan) -> dict:
    reports = [r.report for r in results if r.report is not None]
    complete = len(reports) == len(results)

    def total(field: str):
        # A sum over suites that lack a report would be a made-up number: show it as missing.
        return sum(getattr(rep, field) for rep in reports) if complete and results else None

    meta = {
        "head_sha": pr["head_sha"],
        "suites": len(results),
        "tests": total("tests"),
        "passed": total("passed"),
        "failed": total("failed"),
        "errors": total("errors"),
        "skipped": total("skipped"),
        "duration_seconds": round(sum(r.duration_seconds or 0 for r in results), 2),
        "suite_results": dg.MetadataValue.md(suites_table(results) if results else "no suite of this kind is declared"),
        "failing_tests": dg.MetadataValue.md(failures_table(results) or "none"),
        "suite_json": dg.MetadataValue.json([r.to_json() for r in results]),
    }
    if plan is not None:
        meta["uncovered_tests"] = dg.MetadataValue.md(coverage_gaps(plan) or "none: every test file belongs to a suite")
        meta["uncovered_count"] = len(plan.uncovered)
    return {k: v for k, v in meta.items() if v is not None}


def check_result(key: dg.AssetKey, results: list[SuiteResult]) -> dg.AssetCheckResult:
    bad = [r for r in results if r.status not in ("passed", "empty")]
    failing = [f"{r.name}: {test}" for r in results for test, _ in r.failures()]
    problems = [f"{r.name}: {r.status}" + (f" ({r.message})" if r.message else "")
                for r in bad if not r.failures() or r.stopped]
    # A suite the sandbox stopped (out of memory, processes, disk, time) says so first, in few words.
    stopped = [f"{r.name}: {STOP_LABELS.get(r.stopped, r.stopped)}" for r in results if r.stopped]
    lead = f"stopped by the sandbox: {'; '.join(stopped)}; " if stopped else ""
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=ALL_PASSED,
        passed=not bad,
        metadata={"failing_tests": dg.MetadataValue.json(failing[:100]),
                  "suite_problems": dg.MetadataValue.json(problems),
                  "stopped_suites": dg.MetadataValue.json(stopped)},
        description=("all passed" if not bad
                     else lead + f"{len(failing)} failing test(s); " + "; ".join(failing[:5] + problems[:5]))[:1000],
    )
