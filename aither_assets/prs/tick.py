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

    def approval_statuses(self) -> dict[str, list[tuple[str, str]]]:
        """Fork heads' approval statuses to publish: ``waiting`` and ``approved``, as (head SHA, why)."""
        return {
            "waiting": [(pr.head_sha, why) for pr, why in self.awaiting_approval],
            "approved": [(pr.head_sha, self.approved_by[pr.number]) for pr in self.to_run
                         if pr.number in self.approved_by],
        }


def decide_tick(client: GitHubClient, config: OperatorConfig, cursor: PollCursor, now: float,
                full_sync_seconds: float = 3600,
                approval_used_by: Callable[[PullRequest, str], str | None] = lambda pr, stamp: None) -> TickDecision:
    """``approval_used_by(pr, stamp)``: the other head of ``pr`` that already ran on that approval, if any."""
    before = client.requests_made
    outcome = poll(client, cursor, now, full_sync_seconds)
    decision = TickDecision(cursor=outcome.cursor, closed=outcome.closed, full_sync=outcome.full_sync)
    permission_of = _permission_lookup(client)
    for pr in outcome.opened:
        decide_pull(client, config, pr, decision, permission_of, approval_used_by)
    decision.requests = client.requests_made - before
    return decision


def decide_pull(client: GitHubClient, config: OperatorConfig, pr: PullRequest, decision: TickDecision,
                permission_of: Callable[[str], str] | None = None,
                approval_used_by: Callable[[PullRequest, str], str | None] = lambda pr, stamp: None) -> None:
    """Decide one open PR into ``decision``: run its head, or skip it with a reason (and, for a fork
    head waiting on a writer's approval, say so). The sensor's ticks and the webhook receiver share it."""
    filters = config.pr_filters
    permission_of = permission_of or _permission_lookup(client)
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


def _permission_lookup(client: GitHubClient) -> Callable[[str], str]:
    """A repository permission lookup that asks GitHub once per actor (per tick or event)."""
    permissions: dict[str, str] = {}

    def permission_of(login: str) -> str:
        if login not in permissions:
            permissions[login] = client.permission(login)
        return permissions[login]

    return permission_of
