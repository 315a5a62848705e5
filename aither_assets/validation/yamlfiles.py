"""Check 2: every YAML file in the repository parses.

A YAML file that does not parse is silently ignored by many tools (or breaks a deploy
much later), so each one is composed here, all documents of it, with its line on error.
"""

from __future__ import annotations

from aither_assets.validation.findings import Finding
from aither_assets.validation.repo import Repo

YAML_SUFFIXES = (".yml", ".yaml")


def yaml_paths(repo: Repo, skipped: list[Finding] | None = None) -> list[str]:
    return [rel for rel in repo.walk(skipped) if rel.lower().endswith(YAML_SUFFIXES)]


def check_yaml_files(repo: Repo) -> list[Finding]:
    findings: list[Finding] = []
    for rel in yaml_paths(repo, findings):
        parsed = repo.yaml(rel)
        if isinstance(parsed, Finding):
            findings.append(parsed)
    return findings
