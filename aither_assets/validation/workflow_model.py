"""GitHub Actions workflow files as node trees: triggers and jobs, with their lines."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

import yaml

from aither_assets.validation.findings import Finding, make
from aither_assets.validation.repo import Repo
from aither_assets.validation.yamlnodes import elements, get, items, line, scalar

WORKFLOW_DIR = ".github/workflows"


@dataclass
class Workflow:
    rel: str
    text: str
    node: yaml.MappingNode
    #: trigger event name -> the node that names it (the ``on`` key is read as text, never as YAML 1.1 ``True``)
    events: dict[str, yaml.Node] = field(default_factory=dict)
    on_node: yaml.Node | None = None
    #: job id -> (key node, value node), in file order
    jobs: dict[str, tuple[yaml.Node, yaml.Node]] = field(default_factory=dict)
    jobs_node: yaml.Node | None = None


def workflow_paths(repo: Repo) -> list[str]:
    # GitHub only reads files directly in .github/workflows, not in sub-folders.
    return [rel for rel in repo.list_dir(WORKFLOW_DIR)
            if rel.lower().endswith((".yml", ".yaml")) and not repo.is_dir(rel)]


def load_workflow(repo: Repo, rel: str) -> Workflow | Finding | None:
    """The workflow in ``rel``; a finding if it is not a mapping; None if it cannot be read.

    Unreadable files (syntax, size, symlink) are reported by the YAML check already.
    """
    parsed = repo.yaml(rel)
    if isinstance(parsed, Finding):
        return None
    doc = parsed.first
    if not isinstance(doc, yaml.MappingNode):
        return make(rel, line(doc) or 1, "workflow-structure", "error",
                    "a workflow must be a mapping with `on:` and `jobs:`")
    wf = Workflow(rel, parsed.text, doc)
    # `on:` is the key text "on"; yaml.safe_load would have turned it into True.
    wf.on_node = get(doc, "on")
    wf.events = trigger_events(wf.on_node)
    wf.jobs_node = get(doc, "jobs")
    wf.jobs = {name: (key, value) for name, key, value in items(wf.jobs_node)}
    return wf


def trigger_events(on_node: yaml.Node | None) -> dict[str, yaml.Node]:
    """Event names of ``on:``, which may be a string, a list or a mapping."""
    if isinstance(on_node, yaml.MappingNode):
        return {name: key for name, key, _ in items(on_node)}
    return {scalar(node): node for node in elements(on_node) if scalar(node)}


def load_workflows(repo: Repo) -> tuple[dict[str, Workflow], list[Finding]]:
    workflows: dict[str, Workflow] = {}
    findings: list[Finding] = []
    for rel in workflow_paths(repo):
        loaded = load_workflow(repo, rel)
        if isinstance(loaded, Workflow):
            workflows[rel] = loaded
        elif isinstance(loaded, Finding):
            findings.append(loaded)
    return workflows, findings


def local_workflow_path(uses: str) -> str | None:
    """Repo-relative path of a local reusable workflow (``./.github/workflows/x.yml``), else None."""
    if not uses.startswith("./"):
        return None
    return posixpath.normpath(uses.split("@", 1)[0])
