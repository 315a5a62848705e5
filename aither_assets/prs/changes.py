"""Group a PR's changed files and decide which pipeline stages its head needs.

The plan is what keeps a docs-only change from building an image and deploying it,
and what makes sure a Dockerfile change does. Rules are path-based and ordered:
the first group that matches a path wins.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Iterable

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


STAGES = ("validation", "build", "quality", "tests", "image", "environment", "smoke", "dashboard")


@dataclass(frozen=True)
class StageDecision:
    run: bool
    reason: str


def plan_stages(groups: dict[str, list[str]], *, has_docker: bool = True,
                has_ring: bool = True) -> dict[str, StageDecision]:
    """Which stages this head needs, each with the reason a person reads in the UI.

    Validation and the dashboard always run. Anything but docs can change what we build
    and test. Only source, docker and config changes change the image; no image means no
    environment and no smoke test.
    """
    changed = {group for group, files in groups.items() if files}
    code_like = changed - {"docs"}
    image_inputs = changed & {"source", "docker", "config"}

    def decide(run: bool, yes: str, no: str) -> StageDecision:
        return StageDecision(run, yes if run else no)

    plan = {
        "validation": StageDecision(True, "always: config, workflows and Dockerfile are checked on every head"),
        "build": decide(bool(code_like), f"changed: {', '.join(sorted(code_like))}", "docs-only change"),
        "quality": decide(bool(changed & {"source", "tests", "config"}), "source, tests or config changed",
                          "no source, test or config change"),
        "tests": decide(bool(code_like), f"changed: {', '.join(sorted(code_like))}", "docs-only change"),
    }
    if not has_docker:
        plan["image"] = StageDecision(False, "the repo config has no docker section")
    elif not has_ring:
        plan["image"] = StageDecision(False, "the base branch maps to no ring")
    else:
        plan["image"] = decide(bool(image_inputs), f"changed: {', '.join(sorted(image_inputs))}",
                               "no source, docker or config change")
    image = plan["image"].run
    plan["environment"] = decide(image, "a new image to preview", "no image for this head")
    plan["smoke"] = decide(image, "a new environment to check", "no environment for this head")
    plan["dashboard"] = StageDecision(True, "always: the PR page shows every stage, run or not")
    return plan
