"""Group a PR's changed files and decide which pipeline stages its head needs.

The plan is what keeps a docs-only change from building an image and deploying it,
and what makes sure a Dockerfile change does. Rules are path-based and ordered:
the first group that matches a path wins.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Iterable

from aither_assets import stages

GROUPS = ("workflows", "docker", "tests", "docs", "config", "source")

_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("workflows", (".github/workflows/*", ".github/actions/*")),
    ("docker", ("Dockerfile", "*/Dockerfile", "*.dockerfile", "Dockerfile.*", ".dockerignore",
                "docker-compose*.y*ml", "compose*.y*ml", "*/docker-compose*.y*ml")),
    ("tests", ("tests/*", "test/*", "*/tests/*", "test_*.py", "*/test_*.py", "*_test.py", "*_test.go",
               "*.test.js", "*.test.ts", "*/__tests__/*")),
    ("docs", ("docs/*", "doc/*", "*.md", "*.rst", "*.adoc", "LICENSE*", "CHANGELOG*", "AUTHORS*", "mkdocs.yml")),
    ("config", (".aither/*", "*.toml", "*.cfg", "*.ini", "*.yaml", "*.yml", "*.json", ".env*",
                "requirements*.txt", "package-lock.json", "poetry.lock", "uv.lock", "Makefile", ".github/*")),
)


def classify(path: str) -> str:
    """The group of one repository path ("source" when no rule matches)."""
    for group, patterns in _RULES:
        if any(fnmatch.fnmatchcase(path, pattern) for pattern in patterns):
            return group
    return "source"


def group_files(paths: Iterable[str]) -> dict[str, list[str]]:
    """Every group, in a fixed order, with its sorted paths (empty groups included)."""
    groups: dict[str, list[str]] = {group: [] for group in GROUPS}
    for path in paths:
        groups[classify(path)].append(path)
    return {group: sorted(files) for group, files in groups.items()}


@dataclass(frozen=True)
class StageDecision:
    run: bool
    reason: str


def plan_stages(groups: dict[str, list[str]], *, has_docker: bool = True,
                has_ring: bool = True) -> dict[str, StageDecision]:
    """Which stages this head needs, each with the reason a person reads in the UI.

    The stages and their rules are the registry's (``aither_assets/stages.py``): validation and
    the dashboard always run; anything but docs can change what we build and test; only source,
    docker and config changes change the image; no image means no environment and no smoke test.
    """
    changed = {group for group, files in groups.items() if files}
    plan: dict[str, StageDecision] = {}
    for stage in stages.stages():
        rule = stage.plan
        if rule.always is not None:
            plan[stage.name] = StageDecision(True, rule.always)
            continue
        if rule.needs_image_config and not has_docker:
            plan[stage.name] = StageDecision(False, "the repo config has no docker section")
            continue
        if rule.needs_image_config and not has_ring:
            plan[stage.name] = StageDecision(False, "the base branch maps to no ring")
            continue
        if rule.after is not None and not plan[rule.after].run:
            plan[stage.name] = StageDecision(False, rule.skips)
            continue
        hits = sorted(changed & rule.groups) if rule.groups else None
        run = bool(hits) if hits is not None else True
        plan[stage.name] = StageDecision(run, rule.runs.format(groups=", ".join(hits or ())) if run else rule.skips)
    return plan
