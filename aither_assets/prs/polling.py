"""The PR poll: which pull requests changed since the last tick, for as few requests as possible.

Steady state is one conditional request: page 1 of all PRs sorted by ``updated``.
A 304 (free of rate limit) means nothing changed. Otherwise we read pages only
until PRs are older than the newest ``updated_at`` we had seen. A full resync of
the open PRs runs on the first tick and then every ``full_sync_seconds`` as a
safety net for anything the incremental view could miss.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Protocol

from aither_assets.github.models import PollResult, PullRequest


class PullSource(Protocol):
    def poll_pulls(self, etag: str | None = None, since: str | None = None,
                   max_pages: int | None = None) -> PollResult: ...

    def open_pulls(self, base: str | None = None) -> list[PullRequest]: ...


@dataclass(frozen=True)
class PollCursor:
    etag: str | None = None
    since: str | None = None  # newest updated_at seen (ISO 8601, sorts as text)
    full_sync_at: float = 0.0
    # PRs last seen at exactly ``since``: GitHub's times have 1 s resolution, so we ask for
    # ``updated >= since`` (not to miss a PR updated later in that second) and drop these.
    boundary: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> "PollCursor":
        if not text:
            return cls()
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError):
            return cls()  # an unreadable cursor only costs one full resync


@dataclass
class PollOutcome:
    opened: list[PullRequest] = field(default_factory=list)  # open PRs new or changed since the cursor
    closed: list[PullRequest] = field(default_factory=list)  # closed or merged since the cursor
    cursor: PollCursor = field(default_factory=PollCursor)
    full_sync: bool = False
    not_modified: bool = False


def poll(source: PullSource, cursor: PollCursor, now: float, full_sync_seconds: float = 3600) -> PollOutcome:
    if cursor.since is None or now - cursor.full_sync_at >= full_sync_seconds:
        return _full_sync(source, now)
    result = source.poll_pulls(etag=cursor.etag, since=cursor.since)
    if result.not_modified:
        return PollOutcome(cursor=cursor, not_modified=True)
    changed = [p for p in result.pulls
               if not (p.updated_at == cursor.since and cursor.boundary.get(str(p.number)) == _state(p))]
    outcome = _split(changed)
    outcome.cursor = _advance(result.etag, [*result.pulls], cursor.since, cursor.full_sync_at)
    return outcome


def _full_sync(source: PullSource, now: float) -> PollOutcome:
    open_pulls = source.open_pulls()
    # Page 1 of the incremental view gives the ETag and high-water mark to continue from.
    head = source.poll_pulls(etag=None, since=None, max_pages=1)
    recent_closed = [p for p in head.pulls if p.state != "open"]
    cursor = _advance(head.etag, [*open_pulls, *head.pulls], None, now)
    return PollOutcome(opened=open_pulls, closed=recent_closed, cursor=cursor, full_sync=True)


def _split(pulls: list[PullRequest]) -> PollOutcome:
    outcome = PollOutcome()
    for pr in pulls:
        (outcome.opened if pr.state == "open" else outcome.closed).append(pr)
    return outcome


def _state(pr: PullRequest) -> str:
    """Everything a tick decides on; a PR at the boundary counts as changed if any of it moved."""
    return json.dumps([pr.head_sha, pr.state, pr.draft, sorted(pr.labels), pr.base_ref])


def _advance(etag: str | None, pulls: list[PullRequest], since: str | None, full_sync_at: float) -> PollCursor:
    newest = max([p.updated_at for p in pulls] + ([since] if since else []), default=None)
    boundary = {str(p.number): _state(p) for p in pulls if p.updated_at == newest}
    return PollCursor(etag=etag, since=newest, full_sync_at=full_sync_at, boundary=boundary)
