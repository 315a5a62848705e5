"""GitHub's ``permissions:`` for the GITHUB_TOKEN: scopes, levels, and what a job actually holds.

* Levels are ordered ``none < read < write`` (write includes read).
* ``permissions: read-all`` / ``write-all`` set every scope; ``permissions: {}`` sets none.
* A mapping sets the scopes it names; every scope it does not name is ``none``
  (``metadata`` is always ``read``).
* A job without ``permissions:`` gets the workflow's; a workflow without them gets the
  repository default (settings -> Actions -> Workflow permissions): *restricted*
  (contents and packages read, since 2023 the default for new repositories) or *permissive*
  (read/write for every scope but ``id-token``).
* A called workflow gets at most what its calling job holds: GitHub refuses to start a run
  whose called job asks for more ("The nested job ... is requesting 'packages: write', but is
  only allowed 'packages: read'").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import yaml

from aither_assets.validation.yamlnodes import items, line, scalar

Level = Literal["none", "read", "write"]
DefaultPermissions = Literal["restricted", "permissive"]
RANK: dict[str, int] = {"none": 0, "read": 1, "write": 2}

#: Every scope GitHub knows; ``metadata`` is implicit (always read) and cannot be set.
SCOPES: tuple[str, ...] = (
    "actions", "attestations", "checks", "contents", "deployments", "discussions", "id-token", "issues", "models",
    "packages", "pages", "pull-requests", "repository-projects", "security-events", "statuses",
)
#: Scopes whose only levels are ``write`` or ``none`` / ``read`` or ``none``.
_WRITE_ONLY = frozenset({"id-token"})
_READ_ONLY = frozenset({"models"})


@dataclass(frozen=True)
class Permissions:
    """The level of each scope, and the line that set it (for findings)."""

    levels: dict[str, str]
    #: scope -> line of the entry that set it; a whole-token form (``write-all``) has the key's line
    lines: dict[str, int | None] = field(default_factory=dict)
    #: how it was written, for messages: ``contents: read``, ``write-all``, ``{}``
    label: str = ""

    def level(self, scope: str) -> str:
        return self.levels.get(scope, "none")

    def writes(self) -> list[str]:
        return [scope for scope in SCOPES if self.level(scope) == "write"]


def _all(level: Level) -> dict[str, str]:
    out = {}
    for scope in SCOPES:
        if scope in _WRITE_ONLY:
            out[scope] = "write" if level == "write" else "none"
        elif scope in _READ_ONLY:
            out[scope] = "read" if level != "none" else "none"
        else:
            out[scope] = level
    return out


def repository_default(kind: DefaultPermissions) -> Permissions:
    """What a workflow that sets no ``permissions:`` gets under the repository's setting."""
    if kind == "permissive":
        levels = {**_all("write"), "id-token": "none"}
    else:
        levels = {**_all("none"), "contents": "read", "packages": "read"}
    return Permissions(levels, {}, f"the repository default ({kind})")


def parse_permissions(node: yaml.Node | None) -> Permissions | None:
    """The permissions a ``permissions:`` value sets; None when the key is absent (inherit)."""
    if node is None:
        return None
    at = line(node)
    if isinstance(node, yaml.MappingNode):
        levels = _all("none")
        lines: dict[str, int | None] = {}
        for scope, key, value in items(node):
            text = (scalar(value) or "").strip().lower()
            if scope in RANK or text not in RANK:
                continue  # an unknown level is the schema's problem (zizmor, GitHub), not ours
            levels[scope] = text
            lines[scope] = line(key)
        label = ", ".join(f"{s}: {levels[s]}" for s in lines) or "{}"
        return Permissions(levels, lines, label)
    text = (scalar(node) or "").strip().lower()
    if text in ("read-all", "write-all"):
        return Permissions(_all("read" if text == "read-all" else "write"), {s: at for s in SCOPES}, text)
    return Permissions(_all("none"), {}, text or "{}")


def missing(asked: Permissions, granted: Permissions) -> list[tuple[str, str, str]]:
    """``(scope, asked level, granted level)`` for each scope ``asked`` wants above ``granted``."""
    return [(scope, asked.level(scope), granted.level(scope)) for scope in SCOPES
            if RANK[asked.level(scope)] > RANK[granted.level(scope)]]
