"""Permissions across reusable-workflow calls, on the orchestrator fixture (an orchestrator calling
build, test and deploy workflows) and on small repositories for the token forms."""

import pytest

from aither_assets.config.validation import OperatorValidationConfig
from aither_assets.validation import validate_repository
from aither_assets.validation.permissions import missing, parse_permissions, repository_default
from aither_assets.validation.yamlnodes import compose_documents, get
from aither_assets_tests.validation.helpers import (
    MINIMAL_CONFIG,
    aither_errors,
    fixture_repo,
    line_of,
    of_rule,
    repo,
    validate,
    where,
)

ORCH = ".github/workflows/orchestrator.yml"
DEPLOY = ".github/workflows/deploy.yml"
RULE = "reusable-permissions"


def test_orchestrator_fixture_is_clean(tmp_path):
    report = validate(fixture_repo(tmp_path, "orchestrator"))
    assert aither_errors(report) == []


def test_caller_job_missing_one_scope_gives_one_finding_at_the_callee_line(tmp_path):
    root = fixture_repo(tmp_path, "orchestrator", {ORCH: [(
        "      contents: read\n      id-token: write\n      deployments: write\n",
        "      contents: read\n      deployments: write\n")]})
    found = of_rule(validate(root), RULE)
    assert where(found) == {(DEPLOY, line_of(root, DEPLOY, "id-token: write"), RULE, "error")}
    message = found[0].message
    assert "`id-token: write`" in message and "`id-token: none`" in message
    assert f"job `deploy` in `{ORCH}`" in message and "job `deploy` asks" in message


def test_caller_job_without_permissions_falls_back_to_the_caller_workflow(tmp_path):
    root = fixture_repo(tmp_path, "orchestrator", {ORCH: [(
        "    permissions:\n      contents: read\n      id-token: write\n      deployments: write\n", "")]})
    found = of_rule(validate(root), RULE)
    # one finding per missing scope: id-token for job `deploy`, deployments for job `record`
    assert where(found) == {(DEPLOY, line_of(root, DEPLOY, "id-token: write"), RULE, "error"),
                            (DEPLOY, line_of(root, DEPLOY, "deployments: write"), RULE, "error")}
    assert all("(contents: read)" in f.message for f in found)


CALLEE = """\
on: workflow_call
permissions:
  contents: write
jobs:
  release: {runs-on: ubuntu-latest, steps: [{run: echo}]}
"""


def _caller(permissions: str = "") -> str:
    return f"on: push\n{permissions}jobs:\n  release:\n    uses: ./.github/workflows/release.yml\n"


@pytest.mark.parametrize(("default", "expected"), [("restricted", 1), ("permissive", 0)])
def test_repository_default_when_the_caller_sets_nothing(tmp_path, default, expected):
    repo(tmp_path, {".github/workflows/ci.yml": _caller(), ".github/workflows/release.yml": CALLEE,
                    ".aither/pipeline.yaml": MINIMAL_CONFIG + f"validation:\n  default_permissions: {default}\n"})
    found = of_rule(validate(tmp_path), RULE)
    assert where(found) == ({(".github/workflows/release.yml", 3, RULE, "error")} if expected else set())
    if expected:
        assert "the repository default (restricted)" in found[0].message


def test_operator_default_wins_over_the_repository_config(tmp_path):
    repo(tmp_path, {".github/workflows/ci.yml": _caller(), ".github/workflows/release.yml": CALLEE,
                    ".aither/pipeline.yaml": MINIMAL_CONFIG + "validation:\n  default_permissions: permissive\n"})
    report = validate_repository(tmp_path, hadolint=None, zizmor=None, docker=None,
                                 operator=OperatorValidationConfig(default_permissions="restricted"))
    assert len(of_rule(report, RULE)) == 1 and report.policy.default_permissions == "restricted"


@pytest.mark.parametrize(("caller", "callee_asks", "finding"), [
    ("permissions: read-all\n", "contents: write", "`contents: read` (read-all)"),
    ("permissions: write-all\n", "contents: write", None),
    ("permissions: {}\n", "contents: read", "`contents: none` ({})"),
    ("permissions:\n  contents: write\n", "contents: write", None),
    ("permissions:\n  contents: write\n", "packages: read", "`packages: none` (contents: write)"),
])
def test_token_forms(tmp_path, caller, callee_asks, finding):
    callee = CALLEE.replace("contents: write", callee_asks)
    repo(tmp_path, {".github/workflows/ci.yml": _caller(caller), ".github/workflows/release.yml": callee})
    found = of_rule(validate(tmp_path), RULE)
    assert [f.line for f in found] == ([3] if finding else [])
    if finding:
        assert finding in found[0].message


def test_nested_calls_are_bounded_by_the_outer_caller(tmp_path):
    repo(tmp_path, {
        ".github/workflows/ci.yml": _caller("permissions:\n  contents: read\n  packages: read\n"),
        # release.yml sets nothing: it holds what ci.yml gave it, and passes that on
        ".github/workflows/release.yml": "on: workflow_call\njobs:\n  push:\n    uses: ./.github/workflows/push.yml\n",
        ".github/workflows/push.yml": "on: workflow_call\njobs:\n  go:\n    runs-on: ubuntu-latest\n"
                                      "    permissions:\n      packages: write\n    steps: [{run: echo}]\n",
    })
    found = of_rule(validate(tmp_path), RULE)
    assert where(found) == {(".github/workflows/push.yml", 6, RULE, "error")}
    assert "job `push` in `.github/workflows/release.yml`" in found[0].message


def test_workflow_permissions_every_callee_job_overrides_are_not_checked(tmp_path):
    callee = ("on: workflow_call\npermissions: write-all\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
              "    permissions: {contents: read}\n    steps: [{run: echo}]\n")
    repo(tmp_path, {".github/workflows/ci.yml": _caller("permissions:\n  contents: read\n"),
                    ".github/workflows/release.yml": callee})
    assert of_rule(validate(tmp_path), RULE) == []


def test_permission_model():
    node = compose_documents("p:\n  contents: write\n  id-token: write\nq: read-all\nr: {}\n")[0]
    asked = parse_permissions(get(node, "p"))
    assert asked.level("contents") == "write" and asked.level("issues") == "none" and asked.lines["id-token"] == 3
    assert [m[0] for m in missing(asked, parse_permissions(get(node, "q")))] == ["contents", "id-token"]
    assert missing(parse_permissions(get(node, "q")), repository_default("permissive")) == []
    assert parse_permissions(get(node, "r")).writes() == [] and parse_permissions(None) is None
    assert repository_default("permissive").level("id-token") == "none"
    assert repository_default("restricted").writes() == []
