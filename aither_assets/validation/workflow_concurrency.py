"""Concurrency groups that are the same group at run time: runs that cancel, block or deadlock each other.

A concurrency group is global to the repository. Groups are *evaluated* per triggering event
(:mod:`expressions`), as GitHub does when a run starts:

* two workflows triggered by the same event whose groups evaluate to the same value cancel
  each other (``cancel-in-progress: true``) or queue behind each other; the pipeline this
  product replaces had ``ci`` and ``lint`` cancelling each other on every pull request;
* a workflow and a workflow it calls run inside *one* run: the called workflow sees the
  caller's ``github`` context (same ``github.workflow``, same ``github.run_id``) and the
  ``inputs`` the caller passes, so equal groups deadlock (GitHub cancels the run).

Values known before the run (literals, the workflow's name, the event's name, inputs with
their defaults) are compared as text; event fields (``github.ref``, the pull request number)
are equal for every workflow of one event; ``github.run_id`` differs per triggered workflow.
Jobs of one workflow sharing a group is a deliberate queue and not reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from aither_assets.validation.expressions import UNKNOWN, Sym, Value, evaluate_template, render, truth
from aither_assets.validation.findings import Finding, make
from aither_assets.validation.workflow_model import Workflow, local_workflow_path
from aither_assets.validation.yamlnodes import elements, get, is_true, items, line, scalar

RULE = "shared-concurrency-group"
#: Events that start one workflow only: two workflows never share one of their runs.
SINGLE_WORKFLOW_EVENTS = frozenset({"workflow_dispatch", "schedule", "workflow_call"})
PULL_REQUEST_EVENTS = frozenset({"pull_request", "pull_request_target", "pull_request_review",
                                 "pull_request_review_comment"})
#: ``github.*`` fields that are the same for every workflow one event starts.
_PER_EVENT = frozenset({"github.ref", "github.ref_name", "github.ref_type", "github.sha", "github.repository",
                        "github.repository_owner", "github.repository_id", "github.actor", "github.triggering_actor",
                        "github.server_url", "github.api_url", "github.event.repository.name"})
_PER_RUN = frozenset({"github.run_id", "github.run_number", "github.run_attempt"})
_MAX_CALL_DEPTH = 4
#: Workflow instances evaluated per run: a hostile repository can fan calls out exponentially.
MAX_INSTANCES_PER_RUN = 500
#: Files named in one finding's message.
_MAX_LISTED = 6


@dataclass(frozen=True)
class _Run:
    """Who a group is evaluated for: the event, the run's top workflow, its name, the inputs."""

    event: str
    root: str
    name: str
    inputs: dict[str, Value]
    branches: frozenset[str] | None = None


@dataclass(frozen=True)
class GroupUse:
    rel: str
    where: str  # "workflow" or "job `x`"
    text: str
    line: int | None
    cancel: bool
    root: str
    path: tuple[str, ...]  # the run's top workflow, then the calling jobs: one workflow instance in a run
    value: Value
    #: branches the run's top workflow is filtered to for this event (None: any branch)
    branches: frozenset[str] | None = None


def workflow_name(wf: Workflow) -> str:
    """``github.workflow``: the ``name:``, else the file's path."""
    return (scalar(get(wf.node, "name")) or "").strip() or wf.rel


def resolver(run: _Run):
    def resolve(path: str) -> Value | object:
        if path.startswith("inputs."):
            return run.inputs.get(path[len("inputs."):], ())
        if path.startswith("vars."):
            return (Sym(path),)
        if path == "github.workflow":
            return (run.name,)
        if path == "github.event_name":
            return (run.event,)
        if path in _PER_RUN:
            return (Sym(f"{path}:{run.root}"),)
        if path in _PER_EVENT:
            return (Sym(path),)
        pull_request = run.event in PULL_REQUEST_EVENTS
        if path in ("github.head_ref", "github.base_ref"):
            return (Sym(path),) if pull_request else ()
        if path in ("github.event.number", "github.event.pull_request.number"):
            return (Sym("github.event.pull_request.number"),) if pull_request else ()
        if path.startswith("github.event.pull_request."):
            return (Sym(path),) if pull_request else ()
        if path.startswith("github.event.issue."):
            return (Sym(path),) if run.event in ("issues", "issue_comment") else ()
        if path.startswith("github.event."):
            return (Sym(path, present=False),)  # the same payload for every workflow of this event
        return UNKNOWN
    return resolve


def _groups(wf: Workflow) -> list[tuple[str, yaml.Node, yaml.Node | None]]:
    """``(where, group node, concurrency node)`` for the workflow's and each job's ``concurrency:``."""
    places = [("workflow", get(wf.node, "concurrency"))]
    places += [(f"job `{name}`", get(job, "concurrency")) for name, (_, job) in wf.jobs.items()]
    out = []
    for where, node in places:
        # `concurrency:` is either the group itself or a mapping with `group:`.
        group = get(node, "group") if isinstance(node, yaml.MappingNode) else node
        if (scalar(group) or "").strip():
            out.append((where, group, node))
    return out


def _uses(wf: Workflow, run: _Run, path: tuple[str, ...]) -> list[GroupUse]:
    resolve = resolver(run)
    out = []
    for where, group, node in _groups(wf):
        text = (scalar(group) or "").strip()
        value = evaluate_template(text, resolve)
        if value is UNKNOWN:
            # Not understood: compared as written, as long as nothing in it differs per workflow or caller.
            if any(marker in text for marker in ("github.workflow", "github.run_", "inputs.")):
                continue
            value = (Sym("as written: " + text),)
        cancel = isinstance(node, yaml.MappingNode) and _cancels(get(node, "cancel-in-progress"), resolve)
        out.append(GroupUse(wf.rel, where, text, line(group), cancel, run.root, path, value,  # type: ignore[arg-type]
                            run.branches))
    return out


def _cancels(node: yaml.Node | None, resolve) -> bool:
    """``cancel-in-progress``, which may be an expression (``${{ github.event_name == 'pull_request' }}``)."""
    text = (scalar(node) or "").strip()
    if "${{" not in text:
        return is_true(node)
    value = evaluate_template(text, resolve)
    return value is not UNKNOWN and truth(value) is True  # type: ignore[arg-type]


def _run_uses(wf: Workflow, run: _Run, workflows: dict[str, Workflow], path: tuple[str, ...],
              out: list[GroupUse], budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        return
    out += _uses(wf, run, path)
    if len(path) > _MAX_CALL_DEPTH:
        return
    resolve = resolver(run)
    for name, (_, job) in wf.jobs.items():
        target = local_workflow_path(scalar(get(job, "uses")) or "")
        callee = workflows.get(target or "")
        if callee is None or "workflow_call" not in callee.events or callee.rel in {p.split(":", 1)[0] for p in path}:
            continue
        inputs: dict[str, Value] = {}
        for key, spec in _declared(callee).items():
            default = scalar(get(spec, "default"))
            inputs[key] = evaluate_template(default, resolve) if default is not None else ()  # type: ignore[assignment]
        for key, _, value in items(get(job, "with")):
            inputs[key.lower()] = evaluate_template(scalar(value) or "", resolve)  # type: ignore[assignment]
        # An input only the run knows (a matrix value, a job output) makes the callee's groups unknown.
        known = {k: v for k, v in inputs.items() if v is not UNKNOWN}
        unknown = {k: (Sym(f"unknown input {k} of {path}:{name}", present=False),) for k in inputs if k not in known}
        _run_uses(callee, _Run(run.event, run.root, run.name, {**known, **unknown}, run.branches), workflows,
                  (*path, f"{callee.rel}:{name}"), out, budget)


def _declared(callee: Workflow) -> dict[str, yaml.Node]:
    on = callee.on_node if isinstance(callee.on_node, yaml.MappingNode) else None
    return {name.lower(): spec for name, _, spec in items(get(get(on, "workflow_call"), "inputs"))}


def check_concurrency(workflows: dict[str, Workflow]) -> list[Finding]:
    buckets: dict[tuple[str, Value], list[GroupUse]] = {}
    for wf in workflows.values():
        for event in wf.events:
            if event == "workflow_call":
                continue
            uses: list[GroupUse] = []
            run = _Run(event, wf.rel, workflow_name(wf), {}, branch_filter(wf, event))
            _run_uses(wf, run, workflows, (wf.rel,), uses, [MAX_INSTANCES_PER_RUN])
            for use in uses:
                buckets.setdefault((event, use.value), []).append(use)
    clashes: dict[tuple[str, str, int | None, str], dict[str, set[str]]] = {}
    info: dict[tuple[str, str, int | None, str], tuple[GroupUse, bool, bool, Value, str]] = {}
    for (event, value), uses in buckets.items():
        for use, partners in _partners(uses, event):
            key = (use.rel, use.where, use.line, use.text)
            for other in partners:
                clashes.setdefault(key, {}).setdefault(other.rel, set()).add(event)
            _, cancel, nested, shown, shown_event = info.get(key, (use, False, False, value, event))
            info[key] = (use, cancel or use.cancel or any(p.cancel for p in partners),
                         nested or any(p.root == use.root for p in partners), shown, shown_event)
    return [_finding(*info[key], others) for key, others in clashes.items()]


def branch_filter(wf: Workflow, event: str) -> frozenset[str] | None:
    """The branch names ``on.<event>.branches`` lists; None when any branch may run it (or a glob is used)."""
    spec = get(wf.on_node, event) if isinstance(wf.on_node, yaml.MappingNode) else None
    names = [scalar(n) or "" for n in elements(get(spec, "branches"))]
    if not names or any(not n or any(ch in n for ch in "*?[]!") for n in names):
        return None
    return frozenset(names)


def _overlap(a: frozenset[str] | None, b: frozenset[str] | None) -> bool:
    return a is None or b is None or bool(a & b)


def _partners(uses: list[GroupUse], event: str) -> list[tuple[GroupUse, list[GroupUse]]]:
    """Each use with the uses (one per other workflow instance, a few at most) it collides with.

    Uses of one workflow instance (same run, same call path) never collide with each other; two
    runs collide only for events that start several workflows, on a branch both run for (two
    ``push`` workflows filtered to ``[main]`` and ``[staging]`` never share a push). Linear in the
    number of uses times the number of distinct branch filters.
    """
    instances: dict[tuple[str, tuple[str, ...]], GroupUse] = {}
    for use in uses:
        instances.setdefault((use.root, use.path), use)
    if len(instances) < 2:
        return []
    single = event in SINGLE_WORKFLOW_EVENTS
    by_root: dict[str, list[GroupUse]] = {}
    for (root, _), first in instances.items():
        by_root.setdefault(root, []).append(first)
    compatible: dict[frozenset[str] | None, list[GroupUse]] = {}
    for use in instances.values():
        if use.branches not in compatible:
            compatible[use.branches] = [o for o in instances.values() if _overlap(use.branches, o.branches)]
    out = []
    for use in uses:
        pool = by_root[use.root] if single else compatible[use.branches]
        partners = [p for p in pool[:_MAX_LISTED + 1] if (p.root, p.path) != (use.root, use.path)][:_MAX_LISTED]
        if partners:
            out.append((use, partners))
    return out


def _finding(use: GroupUse, cancel: bool, nested: bool, value: Value, event: str,
             others: dict[str, set[str]]) -> Finding:
    listed = "; ".join(f"`{rel}` ({', '.join(sorted(events))})" for rel, events in sorted(others.items()))
    text = render(value)
    shown = f" (on {event}: `{text}`)" if text != use.text and not text.startswith("<as written") else ""
    if nested:
        effect = "a caller and a workflow it calls in one group: the run deadlocks or cancels itself"
    elif cancel:
        effect = "with `cancel-in-progress` they cancel each other"
    else:
        effect = "their runs queue behind each other"
    return make(use.rel, use.line, RULE, "error",
                f"{use.where} uses concurrency group `{use.text}`{shown}, the same group as {listed} "
                f"for the same event: {effect}")
