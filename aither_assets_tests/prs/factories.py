"""Building PullRequest values for pure-logic tests."""

from dataclasses import replace

from aither_assets.github.models import PullRequest

BASE = PullRequest(
    number=7, title="Add items API", author="alice", state="open", draft=False, merged=False, labels=(),
    head_ref="feature/items", head_sha="a" * 40, head_repo="acme/web", head_clone_url=None,
    base_ref="dev", base_sha="b" * 40, base_repo="acme/web", html_url="http://gh/acme/web/pull/7",
    created_at="2026-11-01T10:00:00Z", updated_at="2026-11-01T10:00:00Z",
)


def pr(**changes) -> PullRequest:
    return replace(BASE, **changes)
