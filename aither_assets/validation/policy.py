"""Which security-tool findings block: the operator's floor combined with what the repository asks.

zizmor's findings keep zizmor's severity and confidence (``tool_severity``, ``confidence``);
the policy decides the finding's own severity, the one that blocks:

* an audit in ``warn`` (operator's, or the repo's where the operator allows it) never blocks;
* an audit in ``block`` (operator's or the repo's) always blocks;
* otherwise a finding blocks when its severity and confidence are both at or above the
  thresholds, by default ``high`` and ``high``. zizmor rates a tag-pinned action
  (``unpinned-uses``) High/High too, so the operator's default ``warn`` list holds
  ``unpinned-uses``: a repository that merely uses tag-pinned actions is not blocked;
* what does not block is a warning (high, medium) or info (low, informational).

The repository's config is PR content: it may make more findings block (lower thresholds,
more ``block`` audits) but can relax an audit only if the operator lists it in
``repo_may_relax``. Ignored requests come back as notes, so the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aither_assets.config.validation import OperatorValidationConfig, RepoValidationConfig
from aither_assets.validation.findings import Severity
from aither_assets.validation.permissions import DefaultPermissions

SEVERITY_RANK = {"informational": 0, "low": 1, "medium": 2, "high": 3}
CONFIDENCE_RANK = {"low": 0, "medium": 1, "high": 2}


@dataclass(frozen=True)
class Policy:
    default_permissions: DefaultPermissions = "restricted"
    block_severity: str = "high"
    block_confidence: str = "high"
    block: frozenset[str] = frozenset()
    warn: frozenset[str] = frozenset()
    #: repository requests that were not honoured: (field of the validation section, why)
    notes: tuple[tuple[str, str], ...] = field(default=())

    def classify(self, audit: str, severity: str | None, confidence: str | None) -> Severity:
        sev = SEVERITY_RANK.get((severity or "").lower(), SEVERITY_RANK["medium"])
        conf = CONFIDENCE_RANK.get((confidence or "").lower(), CONFIDENCE_RANK["medium"])
        if audit in self.block:
            return "error"
        if (audit not in self.warn and sev >= SEVERITY_RANK[self.block_severity]
                and conf >= CONFIDENCE_RANK[self.block_confidence]):
            return "error"
        return "warning" if sev >= SEVERITY_RANK["medium"] else "info"


def effective_policy(operator: OperatorValidationConfig | None, repo: RepoValidationConfig | None) -> Policy:
    operator = operator or OperatorValidationConfig()
    repo = repo or RepoValidationConfig()
    notes = []
    severity = min(operator.block_severity, repo.block_severity or operator.block_severity, key=SEVERITY_RANK.get)
    confidence = min(operator.block_confidence, repo.block_confidence or operator.block_confidence,
                     key=CONFIDENCE_RANK.get)
    if repo.block_severity and repo.block_severity != severity:
        notes.append(("block_severity", f"validation.block_severity: `{repo.block_severity}` is laxer than the "
                                        f"operator's `{severity}`: kept `{severity}`"))
    if repo.block_confidence and repo.block_confidence != confidence:
        notes.append(("block_confidence", f"validation.block_confidence: `{repo.block_confidence}` is laxer than "
                                          f"the operator's `{confidence}`: kept `{confidence}`"))
    block = frozenset(operator.block) | frozenset(repo.block)
    allowed = frozenset(repo.warn) & frozenset(operator.repo_may_relax) - frozenset(operator.block)
    refused = sorted(set(repo.warn) - allowed)
    if refused:
        notes.append(("warn", f"validation.warn: {', '.join(refused)} not relaxed: the operator does not allow it "
                               "(operator config validation.repo_may_relax)"))
    warn = (frozenset(operator.warn) - frozenset(repo.block) - frozenset(operator.block)) | allowed
    return Policy(
        default_permissions=operator.default_permissions or repo.default_permissions or "restricted",
        block_severity=severity, block_confidence=confidence, block=block, warn=warn, notes=tuple(notes))
