"""Permissions across reusable-workflow calls: a called workflow may only keep or lower what its caller holds.

For every ``uses: ./.github/workflows/x.yml`` job, the callee's workflow-level ``permissions:``
(when a callee job inherits them) and each callee job's own ``permissions:`` are compared,
scope by scope, with what the calling job holds: its own ``permissions:``, else its
workflow's, else the repository default (a workflow that is itself called holds at most what
its caller gave it). A scope asked above that is one ``reusable-permissions`` error at the
callee's line, naming the caller: GitHub refuses to start such a run.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from aither_assets.validation.findings import Finding, make
from aither_assets.validation.permissions import (
    RANK,
    SCOPES,
    DefaultPermissions,
    Permissions,
    missing,
    parse_permissions,
    repository_default,
)
from aither_assets.validation.workflow_model import Workflow, local_workflow_path
from aither_assets.validation.yamlnodes import get, line, scalar

RULE = "reusable-permissions"
#: GitHub allows four levels of nesting; a deeper (or cyclic) chain is someone else's finding.
MAX_DEPTH = 4


@dataclass(frozen=True)
class _Caller:
    rel: str
    job: str
    grant: Permissions


def workflow_permissions(wf: Workflow) -> Permissions | None:
    return parse_permissions(get(wf.node, "permissions"))


def job_permissions(job: yaml.Node) -> Permissions | None:
    return parse_permissions(get(job, "permissions"))


def lowest(a: Permissions, b: Permissions) -> Permissions:
    """Per scope, the lower of two levels: what a called workflow really gets."""
    levels = {s: min(a.level(s), b.level(s), key=RANK.__getitem__) for s in SCOPES}
    return Permissions(levels, {}, a.label)


def job_grant(wf: Workflow, job: yaml.Node, default: DefaultPermissions) -> Permissions:
    """What a job of a triggered (not called) workflow holds: job, else workflow, else repository default."""
    return job_permissions(job) or workflow_permissions(wf) or repository_default(default)


def check_call_permissions(workflows: dict[str, Workflow], default: DefaultPermissions) -> list[Finding]:
    out: list[Finding] = []
    walked: set[tuple] = set()
    for wf in workflows.values():
        if set(wf.events) - {"workflow_call"}:  # a workflow something triggers directly
            own = workflow_permissions(wf) or repository_default(default)
            _walk(wf, own, workflows, (wf.rel,), out, walked)
    return list(dict.fromkeys(out))


def _walk(wf: Workflow, wf_grant: Permissions, workflows: dict[str, Workflow], chain: tuple[str, ...],
          out: list[Finding], walked: set[tuple]) -> None:
    # A workflow walked once with the same grant gives the same findings: fan-out stays linear.
    key = (wf.rel, tuple(wf_grant.level(s) for s in SCOPES), len(chain) > 1)
    if key in walked:
        return
    walked.add(key)
    for name, (_, job) in wf.jobs.items():
        target = local_workflow_path(scalar(get(job, "uses")) or "")
        callee = workflows.get(target or "")
        if callee is None or "workflow_call" not in callee.events or target in chain or len(chain) > MAX_DEPTH:
            continue
        asked_by_job = job_permissions(job)
        # A job of a called workflow cannot hold more than its workflow was given.
        grant = lowest(asked_by_job, wf_grant) if asked_by_job and len(chain) > 1 else asked_by_job or wf_grant
        caller = _Caller(wf.rel, name, grant)
        out.extend(_check_callee(callee, caller))
        callee_grant = workflow_permissions(callee)
        _walk(callee, lowest(callee_grant, grant) if callee_grant else grant, workflows, (*chain, callee.rel), out,
              walked)


def _check_callee(callee: Workflow, caller: _Caller) -> list[Finding]:
    out = []
    top = workflow_permissions(callee)
    inherits = [name for name, (_, job) in callee.jobs.items() if get(job, "permissions") is None]
    if top is not None and inherits:
        out += _findings(callee, top, "the workflow-level `permissions:`", get(callee.node, "permissions"), caller)
    for name, (_, job) in callee.jobs.items():
        asked = job_permissions(job)
        if asked is not None:
            out += _findings(callee, asked, f"job `{name}`", get(job, "permissions"), caller)
    return out


def _findings(callee: Workflow, asked: Permissions, where: str, node: yaml.Node | None,
              caller: _Caller) -> list[Finding]:
    out = []
    for scope, want, has in missing(asked, caller.grant):
        out.append(make(
            callee.rel, asked.lines.get(scope) or line(node), RULE, "error",
            f"{where} asks for `{scope}: {want}`, but the caller, job `{caller.job}` in `{caller.rel}`, "
            f"grants `{scope}: {has}` ({caller.grant.label}): GitHub refuses to start the called workflow"))
    return out
