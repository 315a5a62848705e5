"""Reusable-workflow calls: ``jobs.<id>.uses: ./.github/workflows/x.yml``.

A call to a workflow that does not exist or has no ``on: workflow_call`` makes GitHub
reject the *caller* when it is triggered (the original orchestrator could not start for
exactly this reason). Inputs are checked too: a missing required input fails the run, and
an undeclared one is rejected.
"""

from __future__ import annotations

import yaml

from aither_assets.validation.findings import Finding, make
from aither_assets.validation.repo import Repo
from aither_assets.validation.workflow_model import (
    WORKFLOW_DIR,
    Workflow,
    load_workflow,
    local_workflow_path,
)
from aither_assets.validation.yamlnodes import (
    entry,
    get,
    has,
    is_true,
    items,
    line,
    scalar,
)


def check_calls(wf: Workflow, repo: Repo, workflows: dict[str, Workflow]) -> list[Finding]:
    out = []
    for name, (_, job) in wf.jobs.items():
        uses = get(job, "uses")
        target = local_workflow_path(scalar(uses) or "")
        if target is None:
            continue  # a remote workflow (owner/repo/...@ref) cannot be checked offline
        at = line(uses)
        if not target.startswith(WORKFLOW_DIR + "/") or "/" in target[len(WORKFLOW_DIR) + 1:]:
            out.append(make(wf.rel, at, "reusable-not-callable", "error",
                            f"job `{name}` calls `{scalar(uses)}`: "
                            f"reusable workflows must be directly in {WORKFLOW_DIR}/"))
            continue
        callee = workflows.get(target)
        if callee is None and not repo.exists(target):
            out.append(make(wf.rel, at, "reusable-not-callable", "error",
                            f"job `{name}` calls `{target}`, which does not exist"))
            continue
        if callee is None:
            loaded = load_workflow(repo, target)  # exists, but not a *.yml/*.yaml file, or unreadable
            if not isinstance(loaded, Workflow):
                continue  # unreadable or not a mapping: reported on the file itself
            callee = loaded
        if "workflow_call" not in callee.events:
            triggers = ", ".join(callee.events) or "nothing"
            out.append(make(wf.rel, at, "reusable-not-callable", "error",
                            f"job `{name}` calls `{target}`, which has no `on: workflow_call` "
                            f"(it triggers on {triggers}): GitHub rejects the caller"))
            continue
        out += _check_inputs(wf, name, job, uses, callee)
    return out


def declared_inputs(callee: Workflow) -> dict[str, yaml.Node]:
    """Input name -> its definition node, from ``on.workflow_call.inputs``."""
    call = get(callee.on_node, "workflow_call") if isinstance(callee.on_node, yaml.MappingNode) else None
    return {name: value for name, _, value in items(get(call, "inputs"))}


def _check_inputs(wf: Workflow, job_name: str, job: yaml.Node, uses: yaml.Node, callee: Workflow) -> list[Finding]:
    declared = declared_inputs(callee)
    with_pair = entry(job, "with")
    passed = {name: key for name, key, _ in items(with_pair[1] if with_pair else None)}
    out = []
    missing = [n for n, spec in declared.items()
               if is_true(get(spec, "required")) and not has(spec, "default") and n not in passed]
    if missing:
        names = ", ".join(f"`{n}`" for n in missing)
        out.append(make(wf.rel, line(with_pair[0]) if with_pair else line(uses), "reusable-missing-input", "error",
                        f"job `{job_name}` calls `{callee.rel}` without required input(s) {names}"))
    for name, key in passed.items():
        if name not in declared:
            out.append(make(wf.rel, line(key), "reusable-unknown-input", "warning",
                            f"job `{job_name}` passes `{name}`, which `{callee.rel}` does not declare as an input"))
    return out
