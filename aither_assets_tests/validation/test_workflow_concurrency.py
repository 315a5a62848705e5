"""Concurrency groups evaluated per triggering event: through calls, and across workflows of one event."""

import pytest

from aither_assets.validation.expressions import UNKNOWN, Sym, evaluate, evaluate_template
from aither_assets.validation.workflow_concurrency import _Run, resolver
from aither_assets_tests.validation.helpers import fixture_repo, line_of, of_rule, repo, validate, where

RULE = "shared-concurrency-group"
ORCH = ".github/workflows/orchestrator.yml"
DEPLOY = ".github/workflows/deploy.yml"


def _wf(on: str, group: str, name: str = "", cancel: bool = True, body: str = "") -> str:
    head = f"name: {name}\n" if name else ""
    return (f"{head}on: {on}\nconcurrency:\n  group: {group}\n  cancel-in-progress: {str(cancel).lower()}\n"
            f"jobs:\n{body or '  j: {runs-on: ubuntu-latest, steps: [{run: echo}]}'}\n")


def _events(finding) -> str:
    return finding.message.split("for the same event")[0]


def test_caller_and_callee_with_distinct_groups_do_not_collide(tmp_path):
    # orchestrator-<pr or ref> vs deploy-staging (the input the orchestrator passes)
    assert of_rule(validate(fixture_repo(tmp_path, "orchestrator")), RULE) == []


def test_callee_sees_the_callers_workflow_name(tmp_path):
    # In a called workflow `github.workflow` is the caller's name: both groups are `orchestrator-<ref>`.
    group = "${{ github.workflow }}-${{ github.ref }}"
    root = fixture_repo(tmp_path, "orchestrator", {
        ORCH: [("orchestrator-${{ github.event.pull_request.number || github.ref }}", group)],
        DEPLOY: [("  group: deploy-${{ inputs.environment }}", f"  group: {group}")]})
    found = of_rule(validate(root), RULE)
    assert where(found) == {(ORCH, line_of(root, ORCH, "group:"), RULE, "error"),
                            (DEPLOY, line_of(root, DEPLOY, "group:"), RULE, "error")}
    assert all("pull_request" in _events(f) and "push" in _events(f) for f in found)
    assert "`orchestrator-<github.ref>`" in found[0].message  # the caller's name, in the callee too


@pytest.mark.parametrize(("prefix", "collides"), [("ci", True), ("deploy", False)])
def test_inputs_passed_by_the_caller_are_evaluated(tmp_path, prefix, collides):
    callee = ("on:\n  workflow_call:\n    inputs:\n      prefix: {type: string, required: true}\n"
              "concurrency:\n  group: ${{ inputs.prefix }}-${{ github.ref }}\n  cancel-in-progress: true\n"
              "jobs:\n  j: {runs-on: ubuntu-latest, steps: [{run: echo}]}\n")
    caller = _wf("push", "ci-${{ github.ref }}", body=f"  d:\n    uses: ./.github/workflows/callee.yml\n"
                                                        f"    with:\n      prefix: {prefix}\n")
    repo(tmp_path, {".github/workflows/ci.yml": caller, ".github/workflows/callee.yml": callee})
    found = of_rule(validate(tmp_path), RULE)
    assert where(found) == ({(".github/workflows/ci.yml", 3, RULE, "error"),
                             (".github/workflows/callee.yml", 6, RULE, "error")} if collides else set())


def test_input_default_is_used_when_the_caller_passes_nothing(tmp_path):
    callee = ("on:\n  workflow_call:\n    inputs:\n      prefix: {type: string, default: ci}\n"
              "concurrency: ${{ inputs.prefix }}-${{ github.ref }}\njobs:\n  j: {runs-on: x, steps: [{run: echo}]}\n")
    caller = _wf("push", "ci-${{ github.ref }}", body="  d:\n    uses: ./.github/workflows/callee.yml\n")
    repo(tmp_path, {".github/workflows/ci.yml": caller, ".github/workflows/callee.yml": callee})
    assert len(of_rule(validate(tmp_path), RULE)) == 2


@pytest.mark.parametrize("event", ["push", "pull_request", "pull_request_target", "issue_comment", "release"])
def test_two_workflows_of_the_same_event_collide(tmp_path, event):
    group = "pr-${{ github.event.pull_request.number || github.ref }}"
    repo(tmp_path, {".github/workflows/a.yml": _wf(event, group), ".github/workflows/b.yml": _wf(event, group),
                    ".github/workflows/c.yml": _wf("schedule", group)})
    found = of_rule(validate(tmp_path), RULE)
    assert where(found) == {(".github/workflows/a.yml", 3, RULE, "error"), (".github/workflows/b.yml", 3, RULE, "error")}
    assert all(f"({event})" in f.message for f in found)


def test_the_event_decides_what_a_group_evaluates_to(tmp_path):
    # a: pr-<number> on pull_request, pr-<ref> on push; b: pr-<ref> on push only -> only push collides
    # c: pr-<head_ref> on pull_request, never equal to pr-<number>
    repo(tmp_path, {
        ".github/workflows/a.yml": _wf("[push, pull_request]", "pr-${{ github.event.pull_request.number || github.ref }}"),
        ".github/workflows/b.yml": _wf("push", "pr-${{ github.ref }}"),
        ".github/workflows/c.yml": _wf("pull_request", "pr-${{ github.head_ref }}"),
    })
    found = of_rule(validate(tmp_path), RULE)
    assert where(found) == {(".github/workflows/a.yml", 3, RULE, "error"), (".github/workflows/b.yml", 3, RULE, "error")}
    assert all("(push)" in f.message and "(pull_request" not in f.message for f in found)
    assert all("(on push: `pr-<github.ref>`)" in f.message for f in found)


def test_head_ref_or_run_id_collides_on_pull_requests_only(tmp_path):
    # The common `${{ github.workflow }}-${{ github.head_ref || github.run_id }}` with two workflows of one name.
    group = "${{ github.workflow }}-${{ github.head_ref || github.run_id }}"
    repo(tmp_path, {".github/workflows/a.yml": _wf("[push, pull_request]", group, name="ci"),
                    ".github/workflows/b.yml": _wf("[push, pull_request]", group, name="ci"),
                    ".github/workflows/c.yml": _wf("[push, pull_request]", group, name="lint")})
    found = of_rule(validate(tmp_path), RULE)
    assert where(found) == {(".github/workflows/a.yml", 4, RULE, "error"), (".github/workflows/b.yml", 4, RULE, "error")}
    assert all("(pull_request)" in f.message for f in found)


def test_run_id_is_shared_by_a_caller_and_its_callee_only(tmp_path):
    group = "run-${{ github.run_id }}"
    callee = f"on: workflow_call\nconcurrency: {group}\njobs:\n  j: {{runs-on: x, steps: [{{run: echo}}]}}\n"
    repo(tmp_path, {
        ".github/workflows/ci.yml": _wf("push", group, body="  d:\n    uses: ./.github/workflows/callee.yml\n"),
        ".github/workflows/other.yml": _wf("push", group),
        ".github/workflows/callee.yml": callee})
    found = of_rule(validate(tmp_path), RULE)
    assert where(found) == {(".github/workflows/ci.yml", 3, RULE, "error"),
                            (".github/workflows/callee.yml", 2, RULE, "error")}
    assert all("the run deadlocks or cancels itself" in f.message for f in found)


def test_workflow_dispatch_starts_one_workflow_only(tmp_path):
    repo(tmp_path, {".github/workflows/a.yml": _wf("workflow_dispatch", "deploy"),
                    ".github/workflows/b.yml": _wf("workflow_dispatch", "deploy")})
    assert of_rule(validate(tmp_path), RULE) == []


def test_disjoint_branch_filters_never_share_a_run(tmp_path):
    def on(branches: str) -> str:
        return f"\n  push:\n    branches: {branches}"

    repo(tmp_path, {".github/workflows/prod.yml": _wf(on("[main]"), "deploy"),
                    ".github/workflows/staging.yml": _wf(on("[staging]"), "deploy"),
                    ".github/workflows/any.yml": _wf(on("['*']"), "deploy")})
    found = of_rule(validate(tmp_path), RULE)
    # main and staging never run for the same push; `*` matches both (globs are taken as "any branch")
    assert {f.file: f.message.count("`.github/workflows/") for f in found} == {
        ".github/workflows/any.yml": 2, ".github/workflows/prod.yml": 1, ".github/workflows/staging.yml": 1}
    assert "staging.yml" not in next(f.message for f in found if f.file == ".github/workflows/prod.yml")


def test_cancel_in_progress_expression_is_evaluated_per_event(tmp_path):
    cancel = "${{ github.event_name == 'pull_request' }}"
    text = f"on: [push, pull_request]\nconcurrency:\n  group: ci-${{{{ github.ref }}}}\n  cancel-in-progress: {cancel}\n" \
           "jobs:\n  j: {runs-on: ubuntu-latest, steps: [{run: echo}]}\n"
    repo(tmp_path, {".github/workflows/a.yml": text,
                    ".github/workflows/b.yml": text.replace("[push, pull_request]", "push"),
                    ".github/workflows/c.yml": text.replace("[push, pull_request]", "pull_request")})
    found = {f.file.rsplit("/", 1)[1]: f.message for f in of_rule(validate(tmp_path), RULE)}
    # b shares only push runs, where cancel-in-progress evaluates to false; c shares pull_request runs
    assert "queue behind each other" in found["b.yml"]
    assert "they cancel each other" in found["c.yml"] and "they cancel each other" in found["a.yml"]


def test_message_says_whether_runs_cancel_or_wait(tmp_path):
    repo(tmp_path, {".github/workflows/a.yml": _wf("push", "g", cancel=False),
                    ".github/workflows/b.yml": _wf("push", "g", cancel=False)})
    assert all("queue behind each other" in f.message for f in of_rule(validate(tmp_path), RULE))


# -- the evaluator -------------------------------------------------------------------------
def _resolve(event: str, inputs=None):
    return resolver(_Run(event, ".github/workflows/ci.yml", "ci", inputs or {}))


@pytest.mark.parametrize(("expr", "event", "value"), [
    ("github.event.pull_request.number || github.ref", "pull_request", (Sym("github.event.pull_request.number"),)),
    ("github.event.pull_request.number || github.ref", "push", (Sym("github.ref"),)),
    ("github.head_ref || github.run_id", "push", (Sym("github.run_id:.github/workflows/ci.yml"),)),
    ("github.workflow", "push", ("ci",)),
    ("format('{0}-{1}', github.workflow, 'x')", "push", ("ci-x",)),
    ("inputs.env || 'production'", "push", ("production",)),
    ("github.event_name == 'push' && 'a' || 'b'", "push", ("a",)),
    ("(github.event_name == 'push') && 'a' || 'b'", "pull_request", ("b",)),
    ("github['ref']", "push", (Sym("github.ref"),)),
])
def test_evaluator(expr, event, value):
    assert evaluate(expr, _resolve(event)) == value


def test_evaluator_gives_up_on_what_it_does_not_know():
    assert evaluate("matrix.os", _resolve("push")) is UNKNOWN
    assert evaluate("toJSON(github)", _resolve("push")) is UNKNOWN
    assert evaluate("(" * 5000 + "1" + ")" * 5000, _resolve("push")) is UNKNOWN  # bounded, no RecursionError
    assert evaluate("'unterminated", _resolve("push")) is UNKNOWN
    assert evaluate_template("ci-${{ github.ref }}-x", _resolve("push")) == ("ci-", Sym("github.ref"), "-x")
