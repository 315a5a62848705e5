"""Check 3: GitHub Actions workflow wiring, with lines from the YAML node tree.

The pipeline this product replaces shipped with jobs that ``needs:`` a job that does not
exist, workflows that cancel each other through one shared concurrency group, and calls
to workflows that are not callable. GitHub reports none of these until a run is
triggered (and then often only as a skipped job), so they are checked statically here.

This module checks structure and ``needs:``; loading (:mod:`workflow_model`), reusable-workflow
calls, concurrency groups and script paths have their own modules.
"""

from __future__ import annotations

import yaml

from aither_assets.validation import (
    workflow_calls,
    workflow_concurrency,
    workflow_expressions,
    workflow_permissions,
    workflow_scripts,
    workflow_untrusted,
)
from aither_assets.validation.findings import Finding, make
from aither_assets.validation.graph import cycles
from aither_assets.validation.permissions import DefaultPermissions
from aither_assets.validation.repo import Repo
from aither_assets.validation.workflow_model import Workflow, load_workflows
from aither_assets.validation.yamlnodes import elements, entry, get, line, scalar


def check_workflows(repo: Repo, default_permissions: DefaultPermissions = "restricted") -> list[Finding]:
    """Every workflow rule; ``default_permissions`` is the repository's GITHUB_TOKEN setting."""
    workflows, findings = load_workflows(repo)
    for wf in workflows.values():
        findings += check_structure(wf)
        findings += check_needs(wf)
        findings += workflow_calls.check_calls(wf, repo, workflows)
        findings += workflow_scripts.check_scripts(wf, repo)
        findings += workflow_expressions.check_expressions(wf, workflows)
        findings += workflow_untrusted.check_untrusted(wf, default_permissions)
    findings += workflow_permissions.check_call_permissions(workflows, default_permissions)
    findings += workflow_concurrency.check_concurrency(workflows)
    for action in workflow_scripts.local_actions(repo, list(workflows.values())):
        findings += workflow_scripts.check_composite_action(repo, action)
        findings += workflow_expressions.check_action_expressions(repo, action)
    return findings


# -- workflow-structure ---------------------------------------------------------------------
def check_structure(wf: Workflow) -> list[Finding]:
    out = []
    if not wf.events:
        out.append(make(wf.rel, line(wf.on_node) or 1, "workflow-structure", "error",
                        "workflow has no `on:` trigger: it never runs"))
    if not wf.jobs:
        out.append(make(wf.rel, line(wf.jobs_node) or 1, "workflow-structure", "error",
                        "workflow has no `jobs:` mapping: there is nothing to run"))
    for name, (key, job) in wf.jobs.items():
        if not isinstance(job, yaml.MappingNode):
            out.append(make(wf.rel, line(key), "workflow-structure", "error", f"job `{name}` must be a mapping"))
        elif entry(job, "runs-on") is None and entry(job, "uses") is None:
            out.append(make(wf.rel, line(key), "workflow-structure", "error",
                            f"job `{name}` has neither `runs-on:` nor `uses:`: GitHub rejects the workflow"))
    return out


# -- needs-missing-job, needs-cycle ------------------------------------------------------------
def needs_of(job: yaml.Node) -> list[tuple[str, yaml.Node]]:
    """``(job id, node)`` for each entry of a job's ``needs:`` (a string or a list)."""
    return [(scalar(node), node) for node in elements(get(job, "needs")) if scalar(node)]


def check_needs(wf: Workflow) -> list[Finding]:
    out = []
    edges: dict[str, list[str]] = {}
    where: dict[tuple[str, str], int | None] = {}
    known = ", ".join(f"`{n}`" for n in list(wf.jobs)[:20])
    for name, (_, job) in wf.jobs.items():
        edges[name] = []
        for needed, node in needs_of(job):
            if needed in wf.jobs:
                edges[name].append(needed)
                where.setdefault((name, needed), line(node))
            else:
                out.append(make(wf.rel, line(node), "needs-missing-job", "error",
                                f"job `{name}` needs unknown job `{needed}` (jobs here: {known}): it can never run"))
    for cycle in cycles(edges):
        path = " -> ".join([*cycle, cycle[0]])
        out.append(make(wf.rel, where.get((cycle[0], cycle[1 % len(cycle)])), "needs-cycle", "error",
                        f"`needs:` cycle {path}: none of these jobs can start"))
    return out
