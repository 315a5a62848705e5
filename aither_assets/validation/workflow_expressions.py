"""Expressions that name something that does not exist: GitHub gives them an empty value, silently.

* ``needs.<job>`` where ``<job>`` is not in the job's own ``needs:`` (only direct dependencies
  are in the ``needs`` context): an ``if: needs.build.result == 'success'`` that is never true;
* ``steps.<id>`` inside a job's steps (or ``outputs:``) with no step of that id before it;
* ``inputs.<name>`` not declared under ``on.workflow_call.inputs`` or ``on.workflow_dispatch.inputs``;
* ``secrets.<name>`` in a called workflow that a caller in this repository neither passes
  (``secrets: {name: ...}``) nor hands over whole (``secrets: inherit``).

Each finding is at the line of the reference itself, inside block scalars too.
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from aither_assets.validation.expressions import expressions, references
from aither_assets.validation.findings import Finding, make
from aither_assets.validation.repo import Repo
from aither_assets.validation.workflow_model import Workflow, local_workflow_path
from aither_assets.validation.workflow_scripts import job_steps
from aither_assets.validation.yamlnodes import elements, get, items, line_at, scalar

#: Available in every workflow whatever the caller passes.
_ALWAYS_SECRETS = frozenset({"github_token"})


def check_expressions(wf: Workflow, workflows: dict[str, Workflow]) -> list[Finding]:
    declared_inputs = _declared_inputs(wf)
    callers = _callers(wf, workflows)
    out: dict[tuple, Finding] = {}

    def report(node: yaml.ScalarNode, offset: int, raw: str, rule: str, message: str) -> None:
        at = line_at(wf.text, node, offset, raw)
        out.setdefault((at, rule, message), make(wf.rel, at, rule, "error", message))

    def visit(node: yaml.ScalarNode, is_if: bool, needs: set[str] | None, job: str | None,
              step_ids: set[str] | None) -> None:
        for offset, context, name, raw in _references(node, is_if):
            key = name.lower()
            if context == "needs" and needs is not None and key not in needs:
                known = ", ".join(f"`{n}`" for n in sorted(needs)) or "none"
                report(node, offset, raw, "expression-unknown-needs",
                       f"job `{job}` reads `{raw}`, but `{name}` is not in its `needs:` ({known}): "
                       "the value is always empty")
            elif context == "steps" and step_ids is not None and key not in step_ids:
                report(node, offset, raw, "expression-unknown-step",
                       f"job `{job}` reads `{raw}`, but no step before it has `id: {name}`: the value is always empty")
            elif context == "inputs" and key not in declared_inputs:
                report(node, offset, raw, "expression-unknown-input",
                       f"`{raw}` is not declared under `on.workflow_call.inputs` or `on.workflow_dispatch.inputs`: "
                       "the value is always empty")
            elif context == "secrets" and callers and key not in _ALWAYS_SECRETS:
                for caller_rel, caller_job, passed in callers:
                    if passed is not None and key not in passed:
                        report(node, offset, raw, "expression-unknown-secret",
                               f"`{raw}` is empty when job `{caller_job}` in `{caller_rel}` calls this workflow: "
                               f"it neither passes `{name}` under `secrets:` nor uses `secrets: inherit`")

    # Workflow level (run-name, env, concurrency): only inputs and secrets make sense here.
    for key, value in ((k, v) for k, _, v in items(wf.node) if k != "jobs"):
        for node, is_if in _scalars(value, key):
            visit(node, is_if, None, None, None)
    for name, (_, job) in wf.jobs.items():
        needs = {(scalar(n) or "").lower() for n in elements(get(job, "needs"))}
        for key, _, value in items(job):
            if key == "steps":
                continue
            ids = _step_ids(job_steps(job)) if key == "outputs" else None
            for node, is_if in _scalars(value, key):
                visit(node, is_if, needs, name, ids)
        before: set[str] = set()
        for step in job_steps(job):
            for key, _, value in items(step):
                for node, is_if in _scalars(value, key):
                    visit(node, is_if, needs, name, set(before))
            before |= _step_ids([step])
    return list(out.values())


def check_action_expressions(repo: Repo, rel: str) -> list[Finding]:
    """``steps.<id>`` and ``inputs.<name>`` in a local composite action (``action.yml``)."""
    parsed = repo.yaml(rel)
    if isinstance(parsed, Finding) or not isinstance(parsed.first, yaml.MappingNode):
        return []
    doc = parsed.first
    declared = {name.lower() for name, _, _ in items(get(doc, "inputs"))}
    steps = job_steps(get(doc, "runs"))
    out: dict[tuple, Finding] = {}

    def visit(value: yaml.Node | None, key: str, ids: set[str]) -> None:
        for node, is_if in _scalars(value, key):
            for offset, context, name, raw in _references(node, is_if):
                if context == "steps" and name.lower() not in ids:
                    message = f"`{raw}`: no step before it has `id: {name}`: the value is always empty"
                    rule = "expression-unknown-step"
                elif context == "inputs" and name.lower() not in declared:
                    message = f"`{raw}` is not declared under the action's `inputs:`: the value is always empty"
                    rule = "expression-unknown-input"
                else:
                    continue
                at = line_at(parsed.text, node, offset, raw)
                out.setdefault((at, rule, message), make(rel, at, rule, "error", message))

    before: set[str] = set()
    for step in steps:
        for key, _, value in items(step):
            visit(value, key, set(before))
        before |= _step_ids([step])
    visit(get(doc, "outputs"), "outputs", before)
    return list(out.values())


def _references(node: yaml.ScalarNode, is_if: bool) -> list[tuple[int, str, str, str]]:
    text = node.value
    if is_if and "${{" not in text:  # `if:` is an expression even without ${{ }}
        return references(text)
    return [(start + 3 + offset, context, name, raw)
            for start, inner in expressions(text) for offset, context, name, raw in references(inner)]


def _scalars(node: yaml.Node | None, key: str) -> Iterator[tuple[yaml.ScalarNode, bool]]:
    """Every scalar value under ``node`` (iteratively: hostile files nest deep), flagged when it is an ``if:``."""
    stack: list[tuple[yaml.Node | None, str]] = [(node, key)]
    seen: set[int] = set()
    while stack:
        current, name = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.ScalarNode):
            yield current, name == "if"
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((child, "") for child in reversed(current.value))
        elif isinstance(current, yaml.MappingNode):
            stack.extend((value, k) for k, _, value in reversed(items(current)))


def _step_ids(steps: list[yaml.Node]) -> set[str]:
    return {(scalar(get(step, "id")) or "").strip().lower() for step in steps} - {""}


def _declared_inputs(wf: Workflow) -> set[str]:
    on = wf.on_node if isinstance(wf.on_node, yaml.MappingNode) else None
    names: set[str] = set()
    for event in ("workflow_call", "workflow_dispatch"):
        names |= {name.lower() for name, _, _ in items(get(get(on, event), "inputs"))}
    return names


def _callers(wf: Workflow, workflows: dict[str, Workflow]) -> list[tuple[str, str, set[str] | None]]:
    """``(caller file, caller job, secrets it passes or None for inherit)`` for each local call of ``wf``."""
    if "workflow_call" not in wf.events:
        return []
    found = []
    for other in workflows.values():
        for name, (_, job) in other.jobs.items():
            if local_workflow_path(scalar(get(job, "uses")) or "") != wf.rel:
                continue
            secrets = get(job, "secrets")
            if (scalar(secrets) or "").strip() == "inherit":
                found.append((other.rel, name, None))
            else:
                found.append((other.rel, name, {k.lower() for k, _, _ in items(secrets)}))
    return found
