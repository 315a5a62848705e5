"""One sensor tick, without Dagster: poll GitHub, then decide for each changed PR.

The sensor turns a :class:`TickDecision` into run requests, partitions and
observations; everything that needs judgement happens here, where it is tested
against the local GitHub server without a Dagster instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from aither_assets.config.operator import OperatorConfig
from aither_assets.github.client import GitHubClient
from aither_assets.github.models import PullRequest
from aither_assets.prs.filters import approval_spent, fork_approved, fork_wait_reason, skip_reason
from aither_assets.prs.polling import PollCursor, poll


@dataclass
class TickDecision:
    to_run: list[PullRequest] = field(default_factory=list)
    skipped: list[tuple[PullRequest, str]] = field(default_factory=list)
    closed: list[PullRequest] = field(default_factory=list)
    cursor: PollCursor = field(default_factory=PollCursor)
    approvals: dict[int, str] = field(default_factory=dict)  # fork PR -> the approval its run uses
    approved_by: dict[int, str] = field(default_factory=dict)  # fork PR -> who approved the head that runs
    awaiting_approval: list[tuple[PullRequest, str]] = field(default_factory=list)  # fork heads a writer must approve
    requests: int = 0
    full_sync: bool = False

    @property
    def seen(self) -> list[PullRequest]:
        return [*self.to_run, *(pr for pr, _ in self.skipped), *self.closed]


def decide_tick(client: GitHubClient, config: OperatorConfig, cursor: PollCursor, now: float,
                full_sync_seconds: float = 3600,
                approval_used_by: Callable[[PullRequest, str], str | None] = lambda pr, stamp: None) -> TickDecision:
    """``approval_used_by(pr, stamp)``: the other head of ``pr`` that already ran on that approval, if any."""
    before = client.requests_made
    outcome = poll(client, cursor, now, full_sync_seconds)
    decision = TickDecision(cursor=outcome.cursor, closed=outcome.closed, full_sync=outcome.full_sync)
    filters = config.pr_filters
    permissions: dict[str, str] = {}  # one lookup per actor per tick

    def permission_of(login: str) -> str:
        if login not in permissions:
            permissions[login] = client.permission(login)
        return permissions[login]

    for pr in outcome.opened:
        reason = skip_reason(pr, filters)
        if reason is None and pr.is_fork:
            approval = fork_approved(filters.fork_approval_label, client.label_events(pr.number), permission_of)
            reason = None if approval.approved else f"fork PR not approved: {approval.why}"
            if reason is None:
                used_by = approval_used_by(pr, approval.stamp or "")
                reason = approval_spent(filters.fork_approval_label, approval, used_by)
                if reason is None:
                    decision.approvals[pr.number] = approval.stamp or ""
                    decision.approved_by[pr.number] = approval.why
            if reason is not None:
                decision.awaiting_approval.append((pr, reason))
        elif pr.is_fork and reason == fork_wait_reason(filters):
            decision.awaiting_approval.append((pr, reason))
        if reason is None:
            decision.to_run.append(pr)
        else:
            decision.skipped.append((pr, reason))
    decision.requests = client.requests_made - before
    return decision
