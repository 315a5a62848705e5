"""The stage registry is the one table: a stage added there reaches the plan, the skip records, the
GitHub feedback and the dashboard, with nothing else edited."""

from __future__ import annotations

import pytest

from aither_assets import stages
from aither_assets.dashboard import Links, page_from_summary
from aither_assets.defs.skips import planned_skips
from aither_assets.feedback import stage_outcomes
from aither_assets.prs.changes import group_files, plan_stages
from aither_assets.results import RunSummary
from aither_assets.stages import Field, PlanRule, Stage, StageAsset, VerdictRule
from aither_assets_tests.dashboard.helpers import entry

LICENSES = Stage(
    "licenses",
    PlanRule(groups=frozenset({"source", "config"}), skips="no source or config change"),
    (StageAsset("licenses", "licenses", "license_report", "no_forbidden_license", ("license_report",),
                (Field("packages", "packages"), Field("forbidden", "forbidden")),
                VerdictRule(fails_on=("forbidden",), needs=("forbidden",))),),
)


@pytest.fixture
def with_licenses(monkeypatch):
    """The registry with one more stage, before the dashboard (the report comes last)."""
    monkeypatch.setattr(stages, "STAGES", (*stages.STAGES[:-1], LICENSES, stages.STAGES[-1]))


def pr_with_license_report(forbidden: int | None) -> dict:
    pr = entry(1)  # a PR whose run passed every stage
    metadata = {"head_sha": pr["head_sha"], "packages": 40}
    if forbidden is not None:
        metadata["forbidden"] = forbidden
    pr["assets"]["license_report"] = {"status": "MATERIALIZED", "metadata": metadata}
    return pr


def test_the_plan_decides_the_new_stage(with_licenses):
    plan = plan_stages(group_files(["app/server.py"]))
    assert list(plan)[-2:] == ["licenses", "dashboard"]
    assert (plan["licenses"].run, plan["licenses"].reason) == (True, "changed: source")
    docs = plan_stages(group_files(["README.md"]))
    assert (docs["licenses"].run, docs["licenses"].reason) == (False, "no source or config change")


def test_a_skipped_new_stage_records_why(with_licenses):
    plan = plan_stages(group_files(["README.md"]))
    skipped = {o.asset_key.to_user_string(): o.metadata["skipped_reason"].value
               for o in planned_skips("7", "a" * 40, plan)}
    assert skipped["license_report"] == "no source or config change"
    assert skipped["unit_tests"] == "docs-only change"  # the stages that were there still record theirs


def test_feedback_reports_the_new_stage_under_its_own_context(with_licenses):
    outcomes = {o.context: o for o in stage_outcomes(pr_with_license_report(forbidden=2))}
    assert list(outcomes)[-1] == "aither/licenses"
    assert (outcomes["aither/licenses"].state, outcomes["aither/licenses"].description) == (
        "failure", "packages 40, forbidden 2")
    assert outcomes["aither/smoke"].state == "success"
    missing = {o.context: o for o in stage_outcomes(pr_with_license_report(forbidden=None))}
    assert missing["aither/licenses"].state == "error" and "forbidden" in missing["aither/licenses"].description
    # A check result decides over the figures, as for every stage.
    passed = pr_with_license_report(forbidden=2)
    passed["checks"]["license_report:no_forbidden_license"] = "PASSED"
    assert {o.context: o.state for o in stage_outcomes(passed)}["aither/licenses"] == "success"


def test_the_dashboard_shows_a_card_for_the_new_stage(with_licenses):
    page = page_from_summary(pr_with_license_report(forbidden=0), [], Links())
    card = page.card("licenses")
    assert page.cards[-1] is card and card.asset == "license_report"
    assert (card.state, card.fact("packages"), card.fact("forbidden")) == ("passed", 40, 0)
    failing = page_from_summary(pr_with_license_report(forbidden=3), [], Links())
    assert failing.card("licenses").state == "failed" and failing.state == "failed"


def test_the_typed_summary_reads_the_new_stage(with_licenses):
    summary = RunSummary.from_json(pr_with_license_report(forbidden=1))
    result = summary.stage("license_report")
    assert (result.verdict(), result.value("packages")) == ("failed", 40)
    assert [r.stage.asset for r in summary.stages()][-1] == "license_report"


def test_the_registry_as_it_is():
    assert [s.name for s in stages.stages()] == ["validation", "build", "quality", "tests", "image", "environment",
                                                 "smoke", "dashboard"]
    assert stages.test_assets() == {"unit_tests": "unit", "domain_tests": "domain",
                                    "integration_tests": "integration"}
    assert stages.stage_asset("smoke_report").check_key == "smoke_report:smoke_passed"
