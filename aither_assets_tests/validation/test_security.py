"""zizmor, offline, on the workflow files."""

from aither_assets_tests.validation.helpers import MINIMAL_CONFIG, of_rule, repo, validate, where

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


# -- the severity policy ----------------------------------------------------------------------
TAG_PINNED = """\
name: t
on: pull_request
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false
      - run: echo "${{ github.event.pull_request.title }}"
"""


def _policy_repo(tmp_path, validation: str = "", workflow: str = TAG_PINNED):
    config = MINIMAL_CONFIG + (f"validation:\n{validation}" if validation else "")
    return repo(tmp_path, {".github/workflows/t.yml": workflow, ".aither/pipeline.yaml": config})


def test_tag_pinned_actions_warn_and_keep_zizmors_ratings(tmp_path):
    report = validate(_policy_repo(tmp_path), zizmor="zizmor")
    (pinned,) = of_rule(report, "unpinned-uses")
    assert (pinned.severity, pinned.tool_severity, pinned.confidence) == ("warning", "high", "high")
    assert pinned.to_json()["confidence"] == "high"
    assert [f.rule for f in _zizmor(report) if f.severity == "error"] == ["template-injection"]
    assert report.counts_by_tool["zizmor"] == {"error": 1, "warning": 1, "info": 0}
    assert report.to_json()["counts_by_tool"]["zizmor"]["warning"] == 1


def test_repository_may_make_more_audits_block(tmp_path):
    report = validate(_policy_repo(tmp_path, "  block: [unpinned-uses]\n"), zizmor="zizmor")
    assert [f.severity for f in of_rule(report, "unpinned-uses")] == ["error"]


def test_repository_cannot_relax_what_the_operator_does_not_allow(tmp_path):
    # without persist-credentials: false, zizmor adds `artipacked` (medium severity, low confidence)
    root = _policy_repo(tmp_path, "  warn: [template-injection]\n  block_severity: informational\n"
                                  "  block_confidence: low\n",
                        TAG_PINNED.replace("        with:\n          persist-credentials: false\n", ""))
    report = validate(root, zizmor="zizmor")
    assert [f.severity for f in of_rule(report, "template-injection")] == ["error"]
    notes = of_rule(report, "validation-policy")
    assert where(notes) == {(".aither/pipeline.yaml", 8, "validation-policy", "info")}
    assert "template-injection not relaxed" in notes[0].message
    # stricter thresholds than the operator's: all zizmor says blocks, but for the operator's warn-only audit
    assert {f.rule for f in _zizmor(report) if f.severity != "error"} == {"unpinned-uses"}
    assert [(f.severity, f.tool_severity, f.confidence) for f in of_rule(report, "artipacked")] == [
        ("error", "medium", "low")]


def test_operator_can_let_the_repository_relax_an_audit(tmp_path):
    from aither_assets.config.validation import OperatorValidationConfig

    root = _policy_repo(tmp_path, "  warn: [template-injection]\n")
    report = validate(root, zizmor="zizmor", operator=OperatorValidationConfig(repo_may_relax=("template-injection",)))
    assert [f.severity for f in of_rule(report, "template-injection")] == ["warning"] and report.ok
    forced = validate(root, zizmor="zizmor", operator=OperatorValidationConfig(
        repo_may_relax=("template-injection",), block=("template-injection", "unpinned-uses")))
    assert {f.rule for f in _zizmor(forced) if f.severity == "error"} == {"template-injection", "unpinned-uses"}
