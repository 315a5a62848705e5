"""The ``validation:`` sections of both configs: which security findings block, and the token default.

The operator's section (trusted) sets the floor; the repository's (``.aither/pipeline.yaml``,
written by whoever opens the PR) may only make more findings block, and may move an audit to
warn-only only where the operator lists it in ``repo_may_relax``. How the two combine lives in
:mod:`aither_assets.validation.policy`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from aither_assets.config.fields import matching

ToolSeverity = Literal["high", "medium", "low", "informational"]
Confidence = Literal["high", "medium", "low"]
DefaultPermissions = Literal["restricted", "permissive"]
AuditName = Annotated[str, matching(r"^[a-z0-9][a-z0-9-]{0,63}$",
                                    "must be an audit name of a-z 0-9 -, e.g. unpinned-uses")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RepoValidationConfig(_Strict):
    """``validation:`` in ``.aither/pipeline.yaml``."""

    default_permissions: DefaultPermissions | None = Field(
        default=None, description="the repository's GITHUB_TOKEN default (Settings > Actions); the operator's wins")
    block_severity: ToolSeverity | None = Field(
        default=None, description="lowest security severity that blocks; only stricter than the operator's counts")
    block_confidence: Confidence | None = Field(
        default=None, description="lowest confidence that blocks; only stricter than the operator's counts")
    block: tuple[AuditName, ...] = Field(default=(), description="audits that block at any severity")
    warn: tuple[AuditName, ...] = Field(
        default=(), description="audits that only warn; honoured for those the operator lists in repo_may_relax")


class OperatorValidationConfig(_Strict):
    """``validation:`` in the operator config."""

    default_permissions: DefaultPermissions | None = Field(
        default=None, description="the repository's GITHUB_TOKEN default; unset: the repo config's, else restricted")
    block_severity: ToolSeverity = "high"
    block_confidence: Confidence = "high"
    block: tuple[AuditName, ...] = Field(default=(), description="audits that always block; a repo cannot relax them")
    #: zizmor (1.33, under --no-config's blanket hash-pin policy) rates a tag-pinned action High/High;
    #: a tag pin is hygiene, not a broken pipeline, so it warns unless an operator drops it from here.
    warn: tuple[AuditName, ...] = Field(default=("unpinned-uses",),
                                        description="audits that only warn unless the repo asks to block")
    repo_may_relax: tuple[AuditName, ...] = Field(
        default=(), description="audits a repository may move to warn-only with validation.warn")
