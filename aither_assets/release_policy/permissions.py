"""GitHub repository roles, compared. Identity and role always come from GitHub, never from the caller.

The one comparison of roles: promotion gates, holds, rollbacks and break-glass all use it.
"""

from __future__ import annotations

# Weakest first; "maintain" and "triage" are GitHub's role_name values beside the classic three.
PERMISSION_ORDER = ("none", "read", "triage", "write", "maintain", "admin")


def permission_at_least(have: str | None, need: str) -> bool:
    """True when role ``have`` is ``need`` or stronger; an unknown or missing role counts as none."""
    rank = {name: i for i, name in enumerate(PERMISSION_ORDER)}
    return rank.get((have or "none").lower(), 0) >= rank[need]


def refusal(action: str, requester: str, permission: str | None, reason: str, need: str = "write") -> str | None:
    """Why ``requester`` may not do ``action`` (too weak a role, or no reason given), or None when they may."""
    if not permission_at_least(permission, need):
        return (f"{action} by {requester or 'an unknown requester'} refused: they have {permission or 'no'} "
                f"permission on the repository, {need} is needed")
    if not reason.strip():
        return f"{action} needs a reason"
    return None
