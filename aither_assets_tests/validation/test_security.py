"""zizmor, offline, on the workflow files."""

from aither_assets_tests.validation.helpers import of_rule, repo, validate, where

INJECTION = """\
name: t
on: pull_request
permissions: {}
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.event.pull_request.title }}"
"""

CLEAN = """\
name: t
on: pull_request
permissions: {}
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - env:
          TITLE: ${{ github.event.pull_request.title }}
        run: echo "$TITLE"
"""


def _zizmor(report):
    return [f for f in report.findings if f.tool == "zizmor"]


def test_template_injection_is_an_error_at_its_line(tmp_path):
    repo(tmp_path, {".github/workflows/t.yml": INJECTION})
    report = validate(tmp_path, zizmor="zizmor")
    assert where(_zizmor(report)) == {(".github/workflows/t.yml", 8, "template-injection", "error")}
    assert report.tools["zizmor"].startswith("zizmor 1.")


def test_clean_workflow_has_no_security_finding(tmp_path):
    repo(tmp_path, {".github/workflows/t.yml": CLEAN})
    assert _zizmor(validate(tmp_path, zizmor="zizmor")) == []


def test_repository_zizmor_config_cannot_switch_audits_off(tmp_path):
    disable = "rules:\n  template-injection:\n    disable: true\n"
    repo(tmp_path, {".github/workflows/t.yml": INJECTION, "zizmor.yml": disable, ".github/zizmor.yml": disable})
    assert {f.rule for f in _zizmor(validate(tmp_path, zizmor="zizmor"))} == {"template-injection"}


def test_schema_invalid_workflow_is_reported_not_skipped_silently(tmp_path):
    repo(tmp_path, {".github/workflows/bad.yml": "on: push\njobs: 5\n"})
    report = validate(tmp_path, zizmor="zizmor")
    assert where(of_rule(report, "workflow-schema")) == {(".github/workflows/bad.yml", None, "workflow-schema", "warning")}
    assert of_rule(report, "tool-error") == []


def test_missing_zizmor_is_a_tool_error(tmp_path):
    repo(tmp_path, {".github/workflows/t.yml": CLEAN})
    found = of_rule(validate(tmp_path, zizmor="/nonexistent/zizmor"), "tool-error")
    assert where(found) == {(".github/workflows", None, "tool-error", "error")}
    assert "zizmor" in found[0].message


def test_no_workflows_means_no_zizmor_run(tmp_path):
    repo(tmp_path, {})
    report = validate(tmp_path, zizmor="/nonexistent/zizmor")
    assert of_rule(report, "tool-error") == []
