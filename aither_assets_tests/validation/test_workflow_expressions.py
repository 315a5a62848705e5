"""Expressions naming jobs, steps, inputs and secrets that do not exist, at their exact lines."""

from aither_assets.validation.expressions import references
from aither_assets_tests.validation.helpers import fixture_repo, line_of, repo, validate, where

ORCH = ".github/workflows/orchestrator.yml"
DEPLOY = ".github/workflows/deploy.yml"
TEST = ".github/workflows/test.yml"
RULES = ("expression-unknown-needs", "expression-unknown-step", "expression-unknown-input", "expression-unknown-secret")


def _found(report, *rules):
    return [f for f in report.findings if f.rule in (rules or RULES)]


def test_orchestrator_fixture_names_only_what_exists(tmp_path):
    assert _found(validate(fixture_repo(tmp_path, "orchestrator"))) == []


# -- needs ---------------------------------------------------------------------------------
def test_needs_of_a_job_not_in_needs_in_if_and_in_expressions(tmp_path):
    root = fixture_repo(tmp_path, "orchestrator", {ORCH: [
        ("    if: github.event_name == 'push'\n", "    if: needs.changes.outputs.docs-only != 'true'\n"),
        ("      artifact: ${{ needs.build.outputs.artifact }}", "      artifact: ${{ needs.biuld.outputs.artifact }}"),
    ]})
    found = _found(validate(root), "expression-unknown-needs")
    assert where(found) == {
        (ORCH, line_of(root, ORCH, "if: needs.changes", occurrence=2), "expression-unknown-needs", "error"),
        (ORCH, line_of(root, ORCH, "needs.biuld"), "expression-unknown-needs", "error"),
    }
    messages = " ".join(f.message for f in found)
    assert "`changes` is not in its `needs:` (`build`, `test`)" in messages and "`biuld`" in messages


def test_needs_inside_a_run_block_points_at_its_line(tmp_path):
    repo(tmp_path, {".github/workflows/ci.yml": """\
        on: push
        jobs:
          a: {runs-on: ubuntu-latest, steps: [{run: echo}]}
          b:
            needs: a
            runs-on: ubuntu-latest
            steps:
              - run: |
                  echo "${{ needs.a.result }}"
                  echo "${{ needs.c.result }}"
        """})
    assert where(_found(validate(tmp_path))) == {(".github/workflows/ci.yml", 10, "expression-unknown-needs", "error")}


def test_text_in_string_literals_is_not_a_reference(tmp_path):
    repo(tmp_path, {".github/workflows/ci.yml": """\
        on: issue_comment
        jobs:
          a:
            if: contains(github.event.comment.body, 'needs.build steps.x inputs.y secrets.z')
            runs-on: ubuntu-latest
            steps: [{run: echo}]
        """})
    assert _found(validate(tmp_path)) == []
    assert [r[1:3] for r in references("needs['build'].result && github.event.inputs.x")] == [("needs", "build")]


# -- steps ---------------------------------------------------------------------------------
def test_step_id_that_does_not_exist_or_comes_later(tmp_path):
    root = fixture_repo(tmp_path, "orchestrator", {TEST: [
        ("      - id: setup\n", "      - id: python\n"),
    ]}, add={".github/workflows/later.yml": """\
        on: push
        jobs:
          j:
            runs-on: ubuntu-latest
            outputs:
              out: ${{ steps.gone.outputs.x }}
              ok: ${{ steps.last.outputs.x }}
            steps:
              - run: echo "${{ steps.last.outputs.x }}"
              - id: last
                run: echo "x=1" >> "$GITHUB_OUTPUT"
        """})
    found = _found(validate(root), "expression-unknown-step")
    assert where(found) == {
        (TEST, line_of(root, TEST, "steps.setup.outputs"), "expression-unknown-step", "error"),
        (".github/workflows/later.yml", 6, "expression-unknown-step", "error"),
        (".github/workflows/later.yml", 9, "expression-unknown-step", "error"),
    }


# -- inputs --------------------------------------------------------------------------------
def test_input_not_declared(tmp_path):
    root = fixture_repo(tmp_path, "orchestrator", {DEPLOY: [
        ("          ENVIRONMENT: ${{ inputs.environment }}", "          ENVIRONMENT: ${{ inputs.enviroment }}")]})
    found = _found(validate(root), "expression-unknown-input")
    assert where(found) == {(DEPLOY, line_of(root, DEPLOY, "inputs.enviroment"), "expression-unknown-input", "error")}


def test_dispatch_inputs_count_and_other_triggers_have_none(tmp_path):
    repo(tmp_path, {".github/workflows/ci.yml": """\
        on:
          workflow_dispatch:
            inputs:
              target: {type: string}
          push:
        run-name: deploy ${{ inputs.target }}
        jobs:
          j:
            runs-on: ubuntu-latest
            steps: [{run: "echo ${{ inputs.target }} ${{ inputs.other }}"}]
        """, ".github/workflows/push.yml": "on: push\njobs:\n  j:\n    if: inputs.force\n    runs-on: x\n"
                                              "    steps: [{run: echo}]\n"})
    assert where(_found(validate(tmp_path))) == {(".github/workflows/ci.yml", 10, "expression-unknown-input", "error"),
                                                 (".github/workflows/push.yml", 4, "expression-unknown-input", "error")}


# -- secrets -------------------------------------------------------------------------------
def test_secret_the_caller_does_not_pass(tmp_path):
    root = fixture_repo(tmp_path, "orchestrator", {ORCH: [
        ("    secrets:\n      AZURE_CLIENT_ID: ${{ secrets.AZURE_CLIENT_ID }}\n", "")]})
    found = _found(validate(root), "expression-unknown-secret")
    assert where(found) == {(DEPLOY, line_of(root, DEPLOY, "secrets.AZURE_CLIENT_ID"), "expression-unknown-secret",
                             "error")}
    assert f"job `deploy` in `{ORCH}`" in found[0].message


def test_secrets_inherit_and_github_token_are_fine(tmp_path):
    root = fixture_repo(tmp_path, "orchestrator", {
        ORCH: [("    secrets:\n      AZURE_CLIENT_ID: ${{ secrets.AZURE_CLIENT_ID }}\n", "    secrets: inherit\n")],
        DEPLOY: [("          CLIENT_ID: ${{ secrets.AZURE_CLIENT_ID }}",
                  "          CLIENT_ID: ${{ secrets.AZURE_CLIENT_ID }}\n          GH: ${{ secrets.GITHUB_TOKEN }}")]})
    assert _found(validate(root)) == []


# -- composite actions -------------------------------------------------------------------------
ACTION = ".github/actions/setup-tools/action.yml"


def test_composite_action_inputs_and_steps(tmp_path):
    root = fixture_repo(tmp_path, "orchestrator", {ACTION: [
        ('run: ./scripts/install-tools.sh "${{ inputs.version }}"',
         'run: ./scripts/install-tools.sh "${{ inputs.verison }}" "${{ steps.cache.outputs.dir }}"'),
        ("    - name: Cache folder\n", "    - name: Cache folder\n      id: cache\n"),
    ]}, add={ACTION.replace("setup-tools", "unused"): "runs:\n  using: composite\n  steps:\n"
                                                        "    - {run: 'echo ${{ inputs.nothing }}', shell: bash}\n"})
    found = _found(validate(root))
    at = line_of(root, ACTION, "inputs.verison")
    assert where(found) == {(ACTION, at, "expression-unknown-input", "error"),
                            (ACTION, at, "expression-unknown-step", "error")}  # `cache` comes after it

