"""The three wiring bugs of the pipeline this product replaces, and the real sample app."""

import shutil
from pathlib import Path

from aither_assets.validation import validate_repository
from aither_assets_tests.validation.helpers import of_rule, repo, validate, where

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SAMPLE = EXAMPLES / "sample-app"
BAD_WORKFLOWS = EXAMPLES / "sample-app-variants" / "bad-workflows"


def test_fixture_with_the_three_original_bugs(tmp_path):
    repo(tmp_path, {
        ".github/workflows/orchestrator.yml": """\
            on:
              pull_request:
            concurrency:
              group: pipeline-${{ github.event.pull_request.number }}
              cancel-in-progress: true
            jobs:
              build:
                runs-on: ubuntu-latest
                steps: [{run: echo build}]
              deploy:
                needs: [build, security-scan]
                uses: ./.github/workflows/deploy.yml
            """,
        ".github/workflows/quality.yml": """\
            on: [pull_request]
            concurrency: pipeline-${{ github.event.pull_request.number }}
            jobs:
              lint: {runs-on: ubuntu-latest, steps: [{run: echo lint}]}
            """,
        ".github/workflows/deploy.yml": """\
            on:
              workflow_dispatch:
            jobs:
              go: {runs-on: ubuntu-latest, steps: [{run: echo go}]}
            """,
    })
    report = validate(tmp_path)
    errors = [f for f in report.findings if f.severity == "error"]
    assert where(errors) == {
        (".github/workflows/orchestrator.yml", 11, "needs-missing-job", "error"),
        (".github/workflows/orchestrator.yml", 4, "shared-concurrency-group", "error"),
        (".github/workflows/quality.yml", 2, "shared-concurrency-group", "error"),
        (".github/workflows/orchestrator.yml", 12, "reusable-not-callable", "error"),
    }
    messages = {f.rule: f.message for f in errors}
    assert "`security-scan`" in messages["needs-missing-job"]
    assert "workflow_call" in messages["reusable-not-callable"] and "deploy.yml" in messages["reusable-not-callable"]


def test_sample_app_has_no_error_findings():
    report = validate_repository(SAMPLE)
    assert [f for f in report.findings if f.severity != "info"] == []
    assert report.counts["error"] == 0 and report.ok
    assert report.tools["hadolint"].startswith("Haskell") and report.tools["zizmor"].startswith("zizmor")
    assert report.files_checked >= 5  # config, 2 workflows, compose, Dockerfile


def test_bad_workflows_variant_reports_exactly_its_four_bugs(tmp_path):
    head = tmp_path / "head"
    shutil.copytree(SAMPLE, head, symlinks=True)
    shutil.copytree(BAD_WORKFLOWS, head, symlinks=True, dirs_exist_ok=True, ignore=shutil.ignore_patterns("VARIANT.md"))
    report = validate_repository(head)
    errors = [f for f in report.findings if f.severity == "error"]
    assert where(errors) == {
        (".github/workflows/ci.yml", 43, "needs-missing-job", "error"),
        (".github/workflows/ci.yml", 13, "shared-concurrency-group", "error"),
        (".github/workflows/lint.yml", 11, "shared-concurrency-group", "error"),
        (".github/workflows/ci.yml", 46, "reusable-not-callable", "error"),
        (".github/workflows/publish.yml", 13, "reusable-permissions", "error"),
    }
    by_rule = {(f.file, f.rule): f.message for f in errors}
    assert "`build-image`" in by_rule[(".github/workflows/ci.yml", "needs-missing-job")]
    assert "pull_request" in by_rule[(".github/workflows/lint.yml", "shared-concurrency-group")]
    assert ".github/workflows/deploy.yml" in by_rule[(".github/workflows/ci.yml", "reusable-not-callable")]
    permission = by_rule[(".github/workflows/publish.yml", "reusable-permissions")]
    assert "`packages: write`" in permission and "job `publish-image` in `.github/workflows/ci.yml`" in permission
    assert of_rule(report, "missing-script") == []
    assert [f for f in report.findings if f.severity == "warning"] == []
