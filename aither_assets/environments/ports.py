"""Preview port allocation: deterministic per PR, never shared by two live PRs.

The pipeline this replaces published PR ``N`` on ``8080 + N % 100``, so PRs 7 and 107
fought over one port. Here every PR gets a *preferred* port derived from a hash of its
number (stable across runs and machines), and the allocation is recorded in a small
SQLite file: a PR keeps its port until :meth:`PortAllocator.release`, and a PR whose
preferred port is taken (by another PR, or by something else on the host) probes
linearly to the next free one.

Allocation happens inside one write-locked transaction (aither_assets/runtime/sqlitefile.py), so
allocators in several processes sharing the file never hand out one port twice.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from aither_assets.runtime import sqlitefile

#: ``host_port_free(port) -> bool``: whether nothing on the host listens on ``port``.
PortCheck = Callable[[int], bool]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS port_allocations (
    pr INTEGER PRIMARY KEY,
    port INTEGER NOT NULL UNIQUE,
    allocated_at TEXT NOT NULL
)
"""


class PortsExhausted(RuntimeError):
    """Every port of the range is allocated to a live PR or busy on the host."""


def host_port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether ``host:port`` can be bound right now (nothing else is listening on it).

    No ``SO_REUSEADDR``: a port in TIME_WAIT counts as busy, which errs on the safe side.
    On Linux a listener on ``0.0.0.0:port`` also makes binding ``127.0.0.1:port`` fail.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def preferred_port(pr: int, low: int, high: int) -> int:
    """The port PR ``pr`` gets when it is free: ``low + sha256(pr) % size``."""
    size = high - low + 1
    digest = hashlib.sha256(str(pr).encode("ascii")).digest()
    return low + int.from_bytes(digest[:8], "big") % size


class PortAllocator:
    """Ports ``low..high`` (inclusive) handed out to PRs and persisted in ``db_path``.

    ``port_free`` decides whether a port not yet allocated is usable on this host; it
    defaults to :func:`host_port_free` and is injectable for tests. It is consulted only
    for new allocations: a PR that already holds a port gets it back even while its own
    preview container is listening on it.
    """

    def __init__(
        self,
        db_path: str | Path,
        low: int = 20000,
        high: int = 29999,
        *,
        port_free: PortCheck = host_port_free,
        busy_timeout: float = 30.0,
    ) -> None:
        if not (1 <= low <= high <= 65535):
            raise ValueError(f"port range must satisfy 1 <= low <= high <= 65535, got {low}-{high}")
        self.db_path = Path(db_path)
        self.low, self.high = low, high
        self.size = high - low + 1
        self._port_free = port_free
        self._busy_timeout = busy_timeout
        sqlitefile.create(self.db_path, _SCHEMA, busy_timeout)

    def _connect(self):
        return sqlitefile.connect(self.db_path, self._busy_timeout)

    def _transaction(self):
        return sqlitefile.write_transaction(self.db_path, self._busy_timeout)

    @staticmethod
    def _check_pr(pr: int) -> int:
        if isinstance(pr, bool) or not isinstance(pr, int) or pr <= 0:
            raise ValueError(f"PR number must be a positive integer, got {pr!r}")
        return pr

    # ------------------------------------------------------------------ API

    def preferred(self, pr: int) -> int:
        """The port ``pr`` gets when nothing else holds it."""
        return preferred_port(self._check_pr(pr), self.low, self.high)

    def allocate(self, pr: int) -> int:
        """The port of ``pr``: its existing allocation, else its preferred port, else the next free one.

        An existing allocation outside the current range (the range was changed) is
        replaced by a new one inside it. Raises :class:`PortsExhausted` when no port of
        the range is free.
        """
        self._check_pr(pr)
        with self._transaction() as conn:
            row = conn.execute("SELECT port FROM port_allocations WHERE pr = ?", (pr,)).fetchone()
            if row is not None and self.low <= row[0] <= self.high:
                return row[0]
            taken = {
                port for (port,) in conn.execute(
                    "SELECT port FROM port_allocations WHERE port BETWEEN ? AND ? AND pr != ?",
                    (self.low, self.high, pr),
                )
            }
            start = preferred_port(pr, self.low, self.high) - self.low
            busy_on_host = 0
            for step in range(self.size):
                port = self.low + (start + step) % self.size
                if port in taken:
                    continue
                if not self._port_free(port):
                    busy_on_host += 1
                    continue
                now = datetime.now(UTC).isoformat(timespec="seconds")
                conn.execute(
                    "INSERT INTO port_allocations (pr, port, allocated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT(pr) DO UPDATE SET port = excluded.port, allocated_at = excluded.allocated_at",
                    (pr, port, now),
                )
                return port
        raise PortsExhausted(
            f"no free preview port for PR {pr} in {self.low}-{self.high} ({self.size} ports): "
            f"{len(taken)} allocated to other PRs, {busy_on_host} in use by other programs on this host. "
            "Tear down the environments of closed PRs (release their ports) or widen the range."
        )

    def release(self, pr: int) -> bool:
        """Forget the port of ``pr``; True when it had one (idempotent)."""
        self._check_pr(pr)
        with self._transaction() as conn:
            return conn.execute("DELETE FROM port_allocations WHERE pr = ?", (pr,)).rowcount > 0

    def port_of(self, pr: int) -> int | None:
        """The port allocated to ``pr``, or None."""
        self._check_pr(pr)
        with self._connect() as conn:
            row = conn.execute("SELECT port FROM port_allocations WHERE pr = ?", (pr,)).fetchone()
        return None if row is None else row[0]

    def allocations(self) -> dict[int, int]:
        """Every allocation, PR -> port (including any outside the current range)."""
        with self._connect() as conn:
            return dict(conn.execute("SELECT pr, port FROM port_allocations ORDER BY pr"))
