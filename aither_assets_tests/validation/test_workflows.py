"""Workflow wiring rules: one positive and one negative case each, exact places asserted."""

from aither_assets_tests.validation.helpers import of_rule, repo, validate, where

CI = ".github/workflows/ci.yml"

NEEDS_OK = """\
on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps: [{run: echo a}]
  b:
    needs: a
    runs-on: ubuntu-latest
    steps: [{run: echo b}]
  c:
    needs: [a, b]
    runs-on: ubuntu-latest
    steps: [{run: echo c}]
"""


# -- needs-missing-job -----------------------------------------------------------------------
def test_needs_missing_job_string_and_list(tmp_path):
    repo(tmp_path, {CI: """\
        on: push
        jobs:
          a:
            runs-on: ubuntu-latest
            needs: ghost
            steps: [{run: echo a}]
          b:
            runs-on: ubuntu-latest
            needs:
              - a
              - phantom
            steps: [{run: echo b}]
        """})
    found = of_rule(validate(tmp_path), "needs-missing-job")
    assert where(found) == {(CI, 5, "needs-missing-job", "error"), (CI, 11, "needs-missing-job", "error")}
    assert "`ghost`" in found[0].message and "`phantom`" in found[1].message


def test_needs_of_existing_jobs_is_fine(tmp_path):
    repo(tmp_path, {CI: NEEDS_OK})
    report = validate(tmp_path)
    assert of_rule(report, "needs-missing-job") == [] and of_rule(report, "needs-cycle") == []


# -- needs-cycle -------------------------------------------------------------------------------
def test_needs_cycle_reports_the_path(tmp_path):
    repo(tmp_path, {CI: """\
        on: push
        jobs:
          build:
            runs-on: ubuntu-latest
            needs: deploy
            steps: [{run: echo}]
          test:
            runs-on: ubuntu-latest
            needs: build
            steps: [{run: echo}]
          deploy:
            runs-on: ubuntu-latest
            needs: [test]
            steps: [{run: echo}]
          self:
            runs-on: ubuntu-latest
            needs: self
            steps: [{run: echo}]
        """})
    found = of_rule(validate(tmp_path), "needs-cycle")
    assert where(found) == {(CI, 5, "needs-cycle", "error"), (CI, 17, "needs-cycle", "error")}
    assert "build -> deploy -> test -> build" in found[0].message
    assert "self -> self" in found[1].message


# -- reusable-not-callable --------------------------------------------------------------------
CALLER = """\
on: pull_request
jobs:
  deploy:
    uses: ./.github/workflows/deploy.yml
    with:
      env: pr
"""


def test_call_to_missing_workflow(tmp_path):
    repo(tmp_path, {CI: CALLER})
    found = of_rule(validate(tmp_path), "reusable-not-callable")
    assert where(found) == {(CI, 4, "reusable-not-callable", "error")}
    assert "does not exist" in found[0].message


def test_call_to_workflow_without_workflow_call(tmp_path):
    repo(tmp_path, {CI: CALLER, ".github/workflows/deploy.yml": """\
        on: [push, workflow_dispatch]
        jobs:
          go: {runs-on: ubuntu-latest, steps: [{run: echo}]}
        """})
    found = of_rule(validate(tmp_path), "reusable-not-callable")
    assert where(found) == {(CI, 4, "reusable-not-callable", "error")}
    assert "no `on: workflow_call`" in found[0].message and "push, workflow_dispatch" in found[0].message


def test_callable_workflows_in_every_on_form(tmp_path):
    # `on` as a string, a list, a mapping, and quoted (YAML 1.1 would read bare `on` as True).
    forms = ["on: workflow_call", "on: [push, workflow_call]", "on:\n  workflow_call:\n    inputs:\n      env: {type: string}",
             '"on": {workflow_call: {inputs: {env: {type: string}}}}']
    files = {}
    for i, on in enumerate(forms):
        files[f".github/workflows/callee{i}.yml"] = on + "\njobs:\n  go: {runs-on: ubuntu-latest, steps: [{run: echo}]}\n"
        files[f".github/workflows/caller{i}.yml"] = f"on: push\njobs:\n  d:\n    uses: ./.github/workflows/callee{i}.yml\n"
    repo(tmp_path, files)
    report = validate(tmp_path)
    assert of_rule(report, "reusable-not-callable") == []
    assert of_rule(report, "workflow-structure") == []


# -- reusable-missing-input / reusable-unknown-input ------------------------------------------
CALLEE = """\
on:
  workflow_call:
    inputs:
      env: {type: string, required: true}
      ref: {type: string, required: true}
      port: {type: number, required: true, default: 8000}
      note: {type: string, required: false}
jobs:
  go: {runs-on: ubuntu-latest, steps: [{run: echo}]}
"""


def test_missing_required_input_and_unknown_input(tmp_path):
    repo(tmp_path, {".github/workflows/deploy.yml": CALLEE, CI: """\
        on: pull_request
        jobs:
          deploy:
            uses: ./.github/workflows/deploy.yml
            with:
              env: pr
              colour: blue
        """})
    report = validate(tmp_path)
    missing, unknown = of_rule(report, "reusable-missing-input"), of_rule(report, "reusable-unknown-input")
    assert where(missing) == {(CI, 5, "reusable-missing-input", "error")}
    assert "`ref`" in missing[0].message and "`port`" not in missing[0].message
    assert where(unknown) == {(CI, 7, "reusable-unknown-input", "warning")}
    assert "`colour`" in unknown[0].message


def test_all_required_inputs_passed(tmp_path):
    repo(tmp_path, {".github/workflows/deploy.yml": CALLEE, CI: """\
        on: pull_request
        jobs:
          deploy:
            uses: ./.github/workflows/deploy.yml
            with: {env: pr, ref: abc, note: hi}
        """})
    report = validate(tmp_path)
    assert of_rule(report, "reusable-missing-input") == [] and of_rule(report, "reusable-unknown-input") == []


def test_missing_input_without_with_points_at_uses(tmp_path):
    repo(tmp_path, {".github/workflows/deploy.yml": CALLEE, CI: "on: push\njobs:\n  d:\n    uses: ./.github/workflows/deploy.yml\n"})
    assert where(of_rule(validate(tmp_path), "reusable-missing-input")) == {(CI, 4, "reusable-missing-input", "error")}


# -- shared-concurrency-group -----------------------------------------------------------------
def _wf(on: str, concurrency: str) -> str:
    return f"on: {on}\n{concurrency}\njobs:\n  j: {{runs-on: ubuntu-latest, steps: [{{run: echo}}]}}\n"


def test_shared_concurrency_group_for_the_same_event(tmp_path):
    group = "concurrency:\n  group: pr-${{ github.ref }}\n  cancel-in-progress: true"
    repo(tmp_path, {CI: _wf("[push, pull_request]", group),
                    ".github/workflows/lint.yml": _wf("pull_request", "concurrency: pr-${{ github.ref }}")})
    found = of_rule(validate(tmp_path), "shared-concurrency-group")
    assert where(found) == {(CI, 3, "shared-concurrency-group", "error"),
                            (".github/workflows/lint.yml", 2, "shared-concurrency-group", "error")}
    assert all("pull_request" in f.message and "push" not in f.message for f in found)
    assert "lint.yml" in found[0].message and "ci.yml" in found[1].message


def test_job_level_group_collides_too(tmp_path):
    job = "on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    concurrency: deploy\n    steps: [{run: echo}]\n"
    repo(tmp_path, {CI: job, ".github/workflows/b.yml": _wf("push", "concurrency: deploy")})
    assert where(of_rule(validate(tmp_path), "shared-concurrency-group")) == {
        (CI, 5, "shared-concurrency-group", "error"), (".github/workflows/b.yml", 2, "shared-concurrency-group", "error")}


def test_groups_that_do_not_collide(tmp_path):
    per_workflow = "concurrency: ${{ github.workflow }}-${{ github.ref }}"
    repo(tmp_path, {
        # same group text, but different events
        CI: _wf("push", "concurrency: same"), ".github/workflows/b.yml": _wf("pull_request", "concurrency: same"),
        # same events, but the group includes the workflow name
        ".github/workflows/c.yml": _wf("push", per_workflow), ".github/workflows/d.yml": _wf("push", per_workflow),
    })
    assert of_rule(validate(tmp_path), "shared-concurrency-group") == []


# -- missing-script / missing-working-directory ----------------------------------------------
SCRIPTS = """\
on: push
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - run: ./scripts/build.sh --fast
      - run: |
          echo start
          bash scripts/gone.sh
          python tools/report.py "${{ github.sha }}"
      - run: .github/scripts/z.sh && curl https://example.com/install.sh | sh
      - run: ./${{ inputs.script }}.sh
      - working-directory: app
        run: ./serve.sh
      - working-directory: nowhere
        run: echo hi
"""


def test_missing_scripts_and_working_directory(tmp_path):
    repo(tmp_path, {CI: SCRIPTS, "scripts/build.sh": "#!/bin/sh\n", "app/.keep": ""})
    report = validate(tmp_path)
    scripts = of_rule(report, "missing-script")
    assert where(scripts) == {(CI, 9, "missing-script", "error"), (CI, 10, "missing-script", "error"),
                              (CI, 11, "missing-script", "error"), (CI, 14, "missing-script", "error")}
    messages = " ".join(f.message for f in scripts)
    for word in ("scripts/gone.sh", "tools/report.py", ".github/scripts/z.sh", "app/serve.sh"):
        assert word in messages
    assert "install.sh" not in messages and "build.sh" not in messages
    assert where(of_rule(report, "missing-working-directory")) == {(CI, 15, "missing-working-directory", "warning")}


def test_existing_scripts_are_fine(tmp_path):
    files = {f: "#!/bin/sh\n" for f in ("scripts/gone.sh", "tools/report.py", ".github/scripts/z.sh", "app/serve.sh",
                                        "scripts/build.sh", "nowhere/.keep")}
    repo(tmp_path, {CI: SCRIPTS, **files})
    report = validate(tmp_path)
    assert of_rule(report, "missing-script") == [] and of_rule(report, "missing-working-directory") == []


# -- workflow-structure ------------------------------------------------------------------------
def test_workflow_structure(tmp_path):
    repo(tmp_path, {
        ".github/workflows/no-on.yml": "name: x\njobs:\n  j: {runs-on: ubuntu-latest, steps: [{run: echo}]}\n",
        ".github/workflows/no-jobs.yml": "on: push\nname: x\n",
        ".github/workflows/no-runner.yml": "on: push\njobs:\n  ok: {runs-on: ubuntu-latest, steps: [{run: echo}]}\n  bad:\n    steps: [{run: echo}]\n",
        ".github/workflows/list.yml": "- on\n",
    })
    assert where(of_rule(validate(tmp_path), "workflow-structure")) == {
        (".github/workflows/no-on.yml", 1, "workflow-structure", "error"),
        (".github/workflows/no-jobs.yml", 1, "workflow-structure", "error"),
        (".github/workflows/no-runner.yml", 4, "workflow-structure", "error"),
        (".github/workflows/list.yml", 1, "workflow-structure", "error"),
    }


def test_well_formed_workflow_has_no_structure_finding(tmp_path):
    repo(tmp_path, {CI: NEEDS_OK})
    assert of_rule(validate(tmp_path), "workflow-structure") == []


def test_caller_and_callee_sharing_a_group_deadlock(tmp_path):
    callee = "on: workflow_call\nconcurrency: deploy-${{ github.ref }}\njobs:\n  j: {runs-on: x, steps: [{run: echo}]}\n"
    caller = "on: push\nconcurrency: deploy-${{ github.ref }}\njobs:\n  d:\n    uses: ./.github/workflows/deploy.yml\n"
    repo(tmp_path, {".github/workflows/deploy.yml": callee, CI: caller})
    assert where(of_rule(validate(tmp_path), "shared-concurrency-group")) == {
        (CI, 2, "shared-concurrency-group", "error"),
        (".github/workflows/deploy.yml", 2, "shared-concurrency-group", "error")}
