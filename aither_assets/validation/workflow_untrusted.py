"""Untrusted triggers with write power: the "anyone can comment /deploy" hole.

``issue_comment``, ``pull_request_target`` and ``workflow_run`` run the *base* repository's
workflow with its token and secrets, whoever caused the event. A job that then checks out or
runs the pull request's head code (``actions/checkout`` with the head's ref, ``refs/pull/...``,
``gh pr checkout``) hands that token and those secrets to code anyone can write, unless it
first checks who asked: the commenter's ``author_association`` in an ``if:``, a step (or a
job it needs) that asks GitHub for the actor's permission, or, for pull requests, that the
head is not a fork. Such a job is one ``untrusted-code-with-write`` error.
"""

from __future__ import annotations

import re

import yaml

from aither_assets.validation.expressions import EXPRESSION
from aither_assets.validation.findings import Finding, make
from aither_assets.validation.permissions import DefaultPermissions
from aither_assets.validation.workflow_model import Workflow
from aither_assets.validation.workflow_permissions import job_grant
from aither_assets.validation.workflow_scripts import job_steps
from aither_assets.validation.yamlnodes import elements, get, items, line, line_at, scalar

RULE = "untrusted-code-with-write"
UNTRUSTED_EVENTS = ("issue_comment", "pull_request_target", "workflow_run")

#: Expressions that name the pull request's head (or the triggering run's head) code.
_HEAD_REF = re.compile(
    r"github\.event\.pull_request\.head\.|github\.head_ref|github\.event\.workflow_run\.head_|refs/pull/"
    r"|github\.event\.issue\.number|github\.event\.pull_request\.number|github\.event\.number", re.IGNORECASE)
#: For comment-triggered workflows the head is usually looked up by an earlier step.
_LOOKED_UP = re.compile(r"\b(steps|needs)\.[\w-]+\.outputs\.", re.IGNORECASE)
_RUN_CHECKOUT = re.compile(
    r"\b(gh|hub)\s+pr\s+checkout\b|\bgit\s+(fetch|pull|checkout|switch)\b[^\n]*(refs/pull/|pull/[^\s]*/head"
    r"|head_ref|head\.sha|head\.ref|HEAD_SHA|HEAD_REF|PR_REF|PR_SHA)", re.IGNORECASE)
#: What counts as "checked who asked".
_GUARD_IF = re.compile(
    r"author_association|github\.event\.pull_request\.head\.repo\.(full_name|fork)"
    r"|github\.event\.workflow_run\.head_repository\.(full_name|fork)|\.labels\.\*\.name|github\.event\.label\.name",
    re.IGNORECASE)
_GUARD_STEP = re.compile(
    r"getCollaboratorPermissionLevel|collaborators/[^\s]*/permission|author_association"
    r"|check-user-permission|actor-permission|repository-permission|permission-check|check-permission"
    r"|slash-command-dispatch|has-permission", re.IGNORECASE)


_SECRET = re.compile(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)")


def check_untrusted(wf: Workflow, default: DefaultPermissions) -> list[Finding]:
    events = [e for e in UNTRUSTED_EVENTS if e in wf.events]
    if not events:
        return []
    out = []
    for name, (_, job) in wf.jobs.items():
        found = _head_checkout(wf, job)
        if found is None:
            continue
        at, how = found
        power = _power(wf, job, default)
        if not power or _guarded(wf, name, job):
            continue
        out.append(make(
            wf.rel, at, RULE, "error",
            f"on `{', '.join(events)}` job `{name}` runs the pull request's code ({how}) with {power} and "
            "no check of who triggered it: anyone who can comment or open a PR gets them; check "
            "`github.event.comment.author_association` in `if:` or the actor's permission first"))
    return out


def _head_checkout(wf: Workflow, job: yaml.Node) -> tuple[int | None, str] | None:
    """Line and description of the first step that checks out or fetches the PR's head."""
    comment = "issue_comment" in wf.events
    for step in job_steps(job):
        uses = (scalar(get(step, "uses")) or "").lower()
        if uses.startswith("actions/checkout@") or uses == "actions/checkout":
            for key in ("ref", "repository"):
                value = get(get(step, "with"), key)
                text = scalar(value) or ""
                for m in EXPRESSION.finditer(text):
                    if _HEAD_REF.search(m.group(1)) or (comment and key == "ref" and _LOOKED_UP.search(m.group(1))):
                        return line_at(wf.text, value, m.start(), m.group(0)), f"checkout `{key}: {m.group(0)}`"
                if "refs/pull/" in text:
                    return line(value), f"checkout `{key}: {text}`"
        run = get(step, "run")
        m = _RUN_CHECKOUT.search(scalar(run) or "")
        if m:
            return line_at(wf.text, run, m.start(), m.group(0)), f"`{m.group(0).strip()}`"
    return None


def _power(wf: Workflow, job: yaml.Node, default: DefaultPermissions) -> str:
    """What the job could abuse: write scopes of its token, secrets; empty when neither."""
    granted = job_grant(wf, job, default)
    writes = granted.writes()
    parts = []
    if writes:
        shown = ", ".join(writes[:4]) + (", ..." if len(writes) > 4 else "")
        source = f", {granted.label}" if granted.label.startswith("the repository default") else ""
        parts.append(f"write permissions ({shown}{source})")
    secrets = sorted(_secret_names(job))
    if (scalar(get(job, "secrets")) or "").strip() == "inherit":
        parts.append("every secret (`secrets: inherit`)")
    elif secrets:
        parts.append("secrets (" + ", ".join(secrets[:4]) + ")")
    return " and ".join(parts)


def _secret_names(job: yaml.Node) -> set[str]:
    names: set[str] = set()
    stack = [job]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            names |= set(_SECRET.findall(node.value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(v for _, _, v in items(node))
    return {n for n in names if n.upper() != "GITHUB_TOKEN"}


def _guarded(wf: Workflow, name: str, job: yaml.Node) -> bool:
    """Whether the job (or a job it needs, transitively) checks who triggered the run."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen or current not in wf.jobs:
            continue
        seen.add(current)
        node = wf.jobs[current][1]
        if _GUARD_IF.search(scalar(get(node, "if")) or ""):
            return True
        for step in job_steps(node):
            text = " ".join(scalar(v) or "" for v in (get(step, "uses"), get(step, "run"),
                                                     get(get(step, "with"), "script"), get(step, "if")))
            if _GUARD_STEP.search(text):
                return True
        todo += [scalar(n) or "" for n in elements(get(node, "needs"))]
    return False
