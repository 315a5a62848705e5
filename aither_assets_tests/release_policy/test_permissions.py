"""GitHub roles compared; the role always comes from GitHub, so a missing or odd one counts as none."""

import pytest

from aither_assets.release_policy.permissions import permission_at_least, refusal


@pytest.mark.parametrize(("have", "need", "ok"), [
    ("admin", "admin", True), ("maintain", "admin", False), ("maintain", "write", True), ("write", "write", True),
    ("triage", "write", False), ("read", "write", False), ("none", "read", False), (None, "read", False),
    ("ADMIN", "admin", True), ("superuser", "read", False),
])
def test_roles_in_githubs_order(have, need, ok):
    assert permission_at_least(have, need) is ok


def test_refusal_names_who_and_what_they_have():
    assert refusal("unhold of PR #2", "", "read", "x") == (
        "unhold of PR #2 by an unknown requester refused: they have read permission on the repository, "
        "write is needed")
    assert refusal("x", "ada", "admin", "why", need="admin") is None
