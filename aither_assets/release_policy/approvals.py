"""Which approvals still stand for a PR's current build, and which a new digest voided.

An approval is for one digest: a push that changes the image voids it (the gates of issue 14
stop counting it). ``aither release status`` lists the voided ones so nobody wonders where an
approval went.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from aither_assets.release_policy.events import as_utc, short


@dataclass(frozen=True)
class ApprovalRecord:
    login: str
    ring: str
    digest: str  # the digest it approved (named in the comment, or the PR's build at the time)
    at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", as_utc(self.at, "approval time"))


@dataclass(frozen=True)
class VoidedApproval:
    approval: ApprovalRecord
    reason: str


@dataclass(frozen=True)
class ApprovalStanding:
    standing: tuple[ApprovalRecord, ...]
    voided: tuple[VoidedApproval, ...]


def approval_standing(approvals: Iterable[ApprovalRecord], current_digest: str | None) -> ApprovalStanding:
    """Split approvals into those for ``current_digest`` and those a newer build voided, oldest first."""
    standing, voided = [], []
    for approval in sorted(approvals, key=lambda a: a.at):
        if current_digest is not None and approval.digest == current_digest:
            standing.append(approval)
        elif current_digest is None:
            voided.append(VoidedApproval(approval, "the PR has no build now"))
        else:
            voided.append(VoidedApproval(
                approval, f"approved {short(approval.digest)}; the PR's build is now {short(current_digest)} "
                          f"(a new digest voids approvals)"))
    return ApprovalStanding(tuple(standing), tuple(voided))
