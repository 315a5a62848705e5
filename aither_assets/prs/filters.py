"""Which open PRs the pipeline runs, and why the others wait.

Fork PRs run untrusted code, so they wait for the approval label, and only count
it when someone with write permission added it (anyone can *ask* for a label
through a bot or a typo; we check who actually set it). One labeling approves one
head: commits pushed after it wait until a writer labels the PR again, as GitHub's
own approval of workflow runs from outside contributors does.
"""

from __future__ import annotations

import fnmatch
from typing import Callable, NamedTuple, Sequence

from aither_assets.config.operator import PRFilters
from aither_assets.github.models import LabelEvent, PullRequest

WRITE_PERMISSIONS = frozenset({"admin", "write"})


def skip_reason(pr: PullRequest, filters: PRFilters) -> str | None:
    """Why this PR does not run, from its own fields; None when it may run (forks: see fork_approved)."""
    if pr.state != "open":
        return f"PR is {'merged' if pr.merged else 'closed'}"
    if filters.skip_drafts and pr.draft:
        return "draft PR (mark it ready for review to run the pipeline)"
    if filters.target_branches and not any(fnmatch.fnmatchcase(pr.base_ref, g) for g in filters.target_branches):
        return f"base branch is not one of {list(filters.target_branches)}"
    excluded = sorted(set(pr.labels) & set(filters.exclude_labels))
    if excluded:
        return f"has excluded label(s) {excluded}"
    if filters.include_labels and not set(pr.labels) & set(filters.include_labels):
        return f"has none of the required labels {list(filters.include_labels)}"
    if pr.is_fork and filters.fork_approval_label not in pr.labels:
        return fork_wait_reason(filters)
    return None


def fork_wait_reason(filters: PRFilters) -> str:
    return f"fork PR waits for the {filters.fork_approval_label!r} label from someone with write permission"


class Approval(NamedTuple):
    approved: bool
    why: str
    stamp: str | None = None  # when the approving label was set; it identifies the approval


def fork_approved(
    label: str,
    events: Sequence[LabelEvent],
    permission_of: Callable[[str], str],
) -> Approval:
    """Whether the approval label is on because a writer put it there (the latest labeling counts)."""
    current = None
    for event in events:
        if event.label != label:
            continue
        current = event if event.event == "labeled" else None
    if current is None:
        return Approval(False, f"the {label!r} label is not set")
    permission = permission_of(current.actor)
    if permission not in WRITE_PERMISSIONS:
        return Approval(False, f"the {label!r} label was added by {current.actor!r}, who has {permission!r} "
                               "permission, not write")
    return Approval(True, f"approved by {current.actor} ({permission})", current.created_at)


def approval_spent(label: str, approval: Approval, used_by: str | None) -> str | None:
    """Why a fork head does not run although the label is on: the approval already ran another head."""
    if not approval.approved or used_by is None:
        return None
    return (f"new commits since the {label!r} label was set ({approval.why}, at {approval.stamp}, for "
            f"{used_by[:8]}); a writer removes and sets the label again to run this head")
