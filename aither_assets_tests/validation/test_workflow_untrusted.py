"""Untrusted triggers that run the PR's code with write power and no check of who asked."""

import pytest

from aither_assets_tests.validation.helpers import MINIMAL_CONFIG, fixture_repo, line_of, of_rule, repo, validate, where

RULE = "untrusted-code-with-write"
CHATOPS = ".github/workflows/chatops.yml"
WF = ".github/workflows/t.yml"


def test_comment_workflow_that_checks_the_commenter_is_fine(tmp_path):
    assert of_rule(validate(fixture_repo(tmp_path, "orchestrator")), RULE) == []


def test_anyone_can_comment_deploy(tmp_path):
    root = fixture_repo(tmp_path, "orchestrator", {CHATOPS: [(
        " &&\n      contains(fromJSON('[\"OWNER\", \"MEMBER\", \"COLLABORATOR\"]'), "
        "github.event.comment.author_association)", "")]})
    found = of_rule(validate(root), RULE)
    assert where(found) == {(CHATOPS, line_of(root, CHATOPS, "ref: ${{ steps.pr.outputs.sha }}"), RULE, "error")}
    message = found[0].message
    assert "on `issue_comment` job `preview`" in message and "pull-requests" in message
    assert "author_association" in message and "\n" not in message


TARGET = """\
on: pull_request_target
{permissions}
jobs:
  build:
{guard}    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683
        with:
          ref: ${{{{ github.event.pull_request.head.sha }}}}
          persist-credentials: false
      - run: make test
        env:
          TOKEN: {secret}
"""


@pytest.mark.parametrize(("permissions", "secret", "guard", "reported"), [
    ("", "${{ secrets.NPM_TOKEN }}", "", True),  # restricted default, but a secret
    ("permissions:\n  contents: write", "none", "", True),  # write token
    ("permissions: {}", "none", "", False),  # nothing to steal
    ("", "${{ secrets.NPM_TOKEN }}", "    if: github.event.pull_request.head.repo.full_name == github.repository\n",
     False),  # not a fork
    ("", "${{ secrets.NPM_TOKEN }}", "    if: contains(github.event.pull_request.labels.*.name, 'ok-to-test')\n",
     False),  # a label only writers can set
])
def test_pull_request_target_checkout_of_the_head(tmp_path, permissions, secret, guard, reported):
    repo(tmp_path, {WF: TARGET.format(permissions=permissions, secret=secret, guard=guard)})
    found = of_rule(validate(tmp_path), RULE)
    assert where(found) == ({(WF, line_of(tmp_path, WF, "head.sha"), RULE, "error")} if reported else set())
    if reported and "secrets" in secret:
        assert "secrets (NPM_TOKEN)" in found[0].message


RUN = """\
on:
  workflow_run:
    workflows: [ci]
    types: [completed]
jobs:
{authorize}  report:
{needs}    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "reporting"
          gh pr checkout "$PR_NUMBER"
          ./report.sh
"""
AUTHORIZE = """\
  authorize:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/github-script@60a0d83039c74a4aee543508d2ffcb1c3799cdea
        with:
          script: |
            const { data } = await github.rest.repos.getCollaboratorPermissionLevel({...context.repo, username: context.actor});
            if (!["admin", "write"].includes(data.permission)) core.setFailed("not allowed");
"""


@pytest.mark.parametrize(("default", "authorized", "reported"), [
    ("permissive", False, True), ("restricted", False, False), ("permissive", True, False)])
def test_workflow_run_running_the_head_depends_on_the_token_default_and_a_permission_job(
        tmp_path, default, authorized, reported):
    text = RUN.format(authorize=AUTHORIZE if authorized else "", needs="    needs: [authorize]\n" if authorized else "")
    repo(tmp_path, {WF: text, "report.sh": "#!/bin/sh\n",
                    ".aither/pipeline.yaml": MINIMAL_CONFIG + f"validation:\n  default_permissions: {default}\n"})
    found = of_rule(validate(tmp_path), RULE)
    assert where(found) == ({(WF, line_of(tmp_path, WF, "gh pr checkout"), RULE, "error")} if reported else set())
    if reported:
        assert "the repository default (permissive)" in found[0].message and "`gh pr checkout`" in found[0].message


def test_pull_request_is_not_an_untrusted_trigger(tmp_path):
    repo(tmp_path, {WF: TARGET.replace("pull_request_target", "pull_request").format(
        permissions="permissions:\n  contents: write", secret="${{ secrets.NPM_TOKEN }}", guard="")})
    assert of_rule(validate(tmp_path), RULE) == []
