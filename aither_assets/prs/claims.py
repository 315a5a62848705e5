"""Who starts a head: the PR sensor and the webhook receiver may both see a new head at once.

Each checks that the head has no run yet, but the sensor's run is created by the daemon after
its tick, and the receiver's after its GraphQL call: between check and run both could pass.
A claim closes that gap: a row per (PR, head) in the deployment's state store (a SQLite file
beside the port allocations, or Postgres in production: runtime/statestore.py), inserted in one
write-locked transaction, so exactly one claimant wins and submits the run.

A claim whose run never appeared (the submitter died between claim and run) is stale after
``ttl`` seconds; the next claimant then takes it over, so a head is never lost for good.
"""

from __future__ import annotations

import time
from pathlib import Path

from aither_assets.runtime.statestore import SqliteStore, StateStore, state_store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS head_claims (
    pr INTEGER NOT NULL,
    sha TEXT NOT NULL,
    claimed_by TEXT NOT NULL,
    claimed_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (pr, sha)
)
"""

KEEP_SECONDS = 7 * 24 * 3600  # claims are pruned after a week: by then the head's run is history


class HeadClaims:
    def __init__(self, store: StateStore | str | Path, ttl: float = 300.0):
        """``store``: the deployment's state store, or the path of a SQLite file."""
        self.store = store if not isinstance(store, (str, Path)) else SqliteStore(store)
        self.ttl = ttl
        self.store.create(_SCHEMA)

    def _transaction(self):
        return self.store.write()

    def claim(self, heads: list[tuple[int, str]], by: str, now: float | None = None) -> list[tuple[int, str]]:
        """The heads among ``heads`` (PR number, SHA) that ``by`` now holds: new ones, stale ones taken
        over, and ones it held already (a retry by the same claimant)."""
        now = time.time() if now is None else now
        won = []
        with self._transaction() as conn:
            conn.execute("DELETE FROM head_claims WHERE claimed_at < ?", (now - KEEP_SECONDS,))
            for pr, sha in heads:
                row = conn.execute("SELECT claimed_by, claimed_at FROM head_claims WHERE pr = ? AND sha = ?",
                                   (pr, sha)).fetchone()
                if row is None or row[0] == by or row[1] < now - self.ttl:
                    conn.execute("INSERT INTO head_claims VALUES (?, ?, ?, ?) ON CONFLICT (pr, sha) DO UPDATE "
                                 "SET claimed_by = excluded.claimed_by, claimed_at = excluded.claimed_at",
                                 (pr, sha, by, now))
                    won.append((pr, sha))
        return won

    def release(self, pr: int, sha: str, by: str) -> None:
        """Give a head back (its run could not be submitted), so another claimant may start it."""
        with self._transaction() as conn:
            conn.execute("DELETE FROM head_claims WHERE pr = ? AND sha = ? AND claimed_by = ?", (pr, sha, by))

    def holder(self, pr: int, sha: str) -> str | None:
        with self.store.read() as conn:
            row = conn.execute("SELECT claimed_by FROM head_claims WHERE pr = ? AND sha = ?", (pr, sha)).fetchone()
        return row[0] if row else None


def claims_for(storage_root: Path, postgres_url: str | None = None) -> HeadClaims:
    """The deployment's claims, beside its port allocations."""
    return HeadClaims(state_store("head-claims", storage_root, postgres_url))
