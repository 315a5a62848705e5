"""Two workflows that share one concurrency group for the same event.

A concurrency group is global to the repository: with the same group text, a run of one
workflow cancels (``cancel-in-progress: true``) or queues behind a run of the other. The
pipeline this product replaces had ``ci`` and ``lint`` cancelling each other on every push.

Groups are compared as written (the expression text), which is what GitHub evaluates per
run: the same text in the same event context gives the same group. Groups mentioning
``github.workflow`` or ``github.run_id`` differ per workflow or per run, so never collide.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from aither_assets.validation.findings import Finding, make
from aither_assets.validation.workflow_model import Workflow, local_workflow_path
from aither_assets.validation.yamlnodes import get, line, scalar

_PER_WORKFLOW = ("github.workflow", "github.run_id")


@dataclass(frozen=True)
class GroupUse:
    rel: str
    where: str  # "workflow" or "job `x`"
    group: str
    line: int | None


def group_uses(wf: Workflow) -> list[GroupUse]:
    """Every concurrency group a workflow sets, at the top level and per job."""
    places = [("workflow", get(wf.node, "concurrency"))]
    places += [(f"job `{name}`", get(job, "concurrency")) for name, (_, job) in wf.jobs.items()]
    uses = []
    for where, node in places:
        # `concurrency:` is either the group itself or a mapping with `group:`.
        group_node = get(node, "group") if isinstance(node, yaml.MappingNode) else node
        text = (scalar(group_node) or "").strip()
        if text and not any(marker in text for marker in _PER_WORKFLOW):
            uses.append(GroupUse(wf.rel, where, text, line(group_node)))
    return uses


def effective_events(workflows: dict[str, Workflow]) -> dict[str, set[str]]:
    """Events each workflow runs for; a called workflow also runs in its callers' event context."""
    events = {rel: set(wf.events) for rel, wf in workflows.items()}
    for rel, wf in workflows.items():
        for _, job in wf.jobs.values():
            target = local_workflow_path(scalar(get(job, "uses")) or "")
            if target in events and target != rel:
                events[target] |= set(wf.events)
    return events


def check_concurrency(workflows: dict[str, Workflow]) -> list[Finding]:
    events = effective_events(workflows)
    by_group: dict[str, list[GroupUse]] = {}
    for wf in workflows.values():
        for use in group_uses(wf):
            by_group.setdefault(use.group, []).append(use)
    out = []
    for group, uses in by_group.items():
        files = {use.rel for use in uses}
        for use in uses:
            # Only other files: jobs of one workflow sharing a group is a deliberate queue.
            clashes = {rel: events[use.rel] & events[rel] for rel in files if rel != use.rel}
            clashes = {rel: common for rel, common in clashes.items() if common}
            if clashes:
                out.append(_finding(use, group, clashes))
    return out


def _finding(use: GroupUse, group: str, clashes: dict[str, set[str]]) -> Finding:
    others = "; ".join(f"`{rel}` ({', '.join(sorted(ev))})" for rel, ev in sorted(clashes.items()))
    return make(use.rel, use.line, "shared-concurrency-group", "error",
                f"{use.where} uses concurrency group `{group}`, shared with {others} for the same event: "
                "their runs cancel or block each other")
