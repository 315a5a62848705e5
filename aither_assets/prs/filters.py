"""Which open PRs the pipeline runs, and why the others wait.

Fork PRs run untrusted code, so they wait for the approval label, and only count
it when someone with write permission added it (anyone can *ask* for a label
through a bot or a typo; we check who actually set it).
"""

from __future__ import annotations

import fnmatch
from typing import Callable, Sequence

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
        return f"fork PR waits for the {filters.fork_approval_label!r} label from someone with write permission"
    return None


def fork_approved(
    label: str,
    events: Sequence[LabelEvent],
    permission_of: Callable[[str], str],
) -> tuple[bool, str]:
    """Whether the approval label is on because a writer put it there (the latest labeling counts)."""
    current = None
    for event in events:
        if event.label != label:
            continue
        current = event if event.event == "labeled" else None
    if current is None:
        return False, f"the {label!r} label is not set"
    permission = permission_of(current.actor)
    if permission not in WRITE_PERMISSIONS:
        return False, f"the {label!r} label was added by {current.actor!r}, who has {permission!r} permission, not write"
    return True, f"approved by {current.actor} ({permission})"
