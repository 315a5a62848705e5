"""The poll state machine on an in-memory PR source (the sensor tests use the real local server)."""

from dataclasses import replace

from aither_assets.github.models import PollResult
from aither_assets.prs.polling import PollCursor, poll
from aither_assets_tests.prs.factories import pr


class Source:
    """Behaves like the client: page 1 ETag changes whenever any PR changes."""

    def __init__(self, pulls):
        self.pulls = {p.number: p for p in pulls}
        self.calls = []

    def etag(self):
        return str(hash(tuple(sorted((p.number, p.updated_at, p.state) for p in self.pulls.values()))))

    def open_pulls(self, base=None):
        self.calls.append("open")
        return sorted((p for p in self.pulls.values() if p.state == "open"), key=lambda p: p.number)

    def poll_pulls(self, etag=None, since=None, max_pages=None):
        self.calls.append("poll")
        if etag == self.etag():
            return PollResult(True, etag, [])
        ordered = sorted(self.pulls.values(), key=lambda p: p.updated_at, reverse=True)
        return PollResult(False, self.etag(), [p for p in ordered if since is None or p.updated_at >= since])


def test_first_tick_full_sync_then_one_conditional_request():
    source = Source([pr(number=1), pr(number=2, updated_at="2026-11-02T00:00:00Z"), pr(number=3, state="closed")])
    first = poll(source, PollCursor(), now=1000)
    assert first.full_sync and [p.number for p in first.opened] == [1, 2]
    assert first.cursor.since == "2026-11-02T00:00:00Z" and first.cursor.etag == source.etag()

    source.calls.clear()
    second = poll(source, PollCursor.from_json(first.cursor.to_json()), now=1010)
    assert second.not_modified and second.opened == [] and source.calls == ["poll"]
    assert second.cursor == first.cursor


def test_changed_and_closed_prs_are_reported():
    source = Source([pr(number=1), pr(number=2)])
    cursor = poll(source, PollCursor(), now=0).cursor
    source.pulls[1] = replace(source.pulls[1], head_sha="c" * 40, updated_at="2026-11-03T00:00:00Z")
    source.pulls[2] = replace(source.pulls[2], state="closed", merged=True, updated_at="2026-11-03T00:00:01Z")
    outcome = poll(source, cursor, now=10)
    assert [p.head_sha for p in outcome.opened] == ["c" * 40]
    assert [p.number for p in outcome.closed] == [2]
    assert outcome.cursor.since == "2026-11-03T00:00:01Z"


def test_periodic_full_resync_and_corrupt_cursor():
    source = Source([pr(number=1)])
    cursor = poll(source, PollCursor(), now=0).cursor
    assert poll(source, cursor, now=3600).full_sync
    assert PollCursor.from_json("{not json") == PollCursor()
