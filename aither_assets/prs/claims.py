"""Who starts a head: the PR sensor and the webhook receiver may both see a new head at once.

Each checks that the head has no run yet, but the sensor's run is created by the daemon after
its tick, and the receiver's after its GraphQL call: between check and run both could pass.
A claim closes that gap: a row per (PR, head) in a SQLite file beside the port allocations,
inserted in one write-locked transaction (aither_assets/runtime/sqlitefile.py), so exactly one claimant
wins and submits the run.

A claim whose run never appeared (the submitter died between claim and run) is stale after
``ttl`` seconds; the next claimant then takes it over, so a head is never lost for good.
"""

from __future__ import annotations

import time
from pathlib import Path

from aither_assets.runtime import sqlitefile

_SCHEMA = """
CREATE TABLE IF NOT EXISTS head_claims (
    pr INTEGER NOT NULL,
    sha TEXT NOT NULL,
    claimed_by TEXT NOT NULL,
    claimed_at REAL NOT NULL,
    PRIMARY KEY (pr, sha)
)
"""

KEEP_SECONDS = 7 * 24 * 3600  # claims are pruned after a week: by then the head's run is history


class HeadClaims:
    def __init__(self, db_path: str | Path, ttl: float = 300.0, busy_timeout: float = 30.0):
        self.db_path, self.ttl, self._busy_timeout = Path(db_path), ttl, busy_timeout
        sqlitefile.create(self.db_path, _SCHEMA, busy_timeout)

    def _transaction(self):
        return sqlitefile.write_transaction(self.db_path, self._busy_timeout)

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
                    conn.execute("INSERT OR REPLACE INTO head_claims VALUES (?, ?, ?, ?)", (pr, sha, by, now))
                    won.append((pr, sha))
        return won

    def release(self, pr: int, sha: str, by: str) -> None:
        """Give a head back (its run could not be submitted), so another claimant may start it."""
        with self._transaction() as conn:
            conn.execute("DELETE FROM head_claims WHERE pr = ? AND sha = ? AND claimed_by = ?", (pr, sha, by))

    def holder(self, pr: int, sha: str) -> str | None:
        with sqlitefile.connect(self.db_path, self._busy_timeout) as conn:
            row = conn.execute("SELECT claimed_by FROM head_claims WHERE pr = ? AND sha = ?", (pr, sha)).fetchone()
        return row[0] if row else None


def claims_for(storage_root: Path) -> HeadClaims:
    """The deployment's claims, beside its port allocations."""
    return HeadClaims(storage_root / "head-claims.sqlite3")
