"""Fault switches for testing clients' retry logic.

They live in sqlite so a test, a CLI call or the admin endpoint can arm them
while a server (possibly in another process) is running.  Each armed fault
answers the next N matching API requests, then disarms itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .base import StoreBase

# Checked in this order; one request triggers at most one fault.
COUNTED_KINDS = ("server_errors", "secondary_rate_limits", "primary_rate_limit")
DEFAULT_STATUS = {"server_errors": 502, "secondary_rate_limits": 403, "primary_rate_limit": 403}
ALLOWED_STATUS = {"server_errors": (500, 502, 503, 504), "secondary_rate_limits": (403, 429),
                  "primary_rate_limit": (403, 429)}
DEFAULT_DELAY = {"secondary_rate_limits": 60, "primary_rate_limit": 60}


@dataclass
class Fault:
    kind: str
    status: int
    delay: int  # Retry-After for secondary limits, seconds to reset for primary


class FaultsMixin(StoreBase):
    def set_faults(self, server_errors: int | None = None, secondary_rate_limits: int | None = None,
                   primary_rate_limit: int | None = None, latency_ms: int | None = None, status: int | None = None,
                   retry_after: int | None = None, reset_in: int | None = None, path: str | None = None,
                   path_regex: str | None = None) -> dict:
        """Arm faults for the next N API requests whose path matches the filter.

        `status` applies to the counted kinds armed in this call; `retry_after`
        to secondary limits and `reset_in` to the primary limit.  `path` is a
        substring and `path_regex` a regular expression (re.search), both
        matched against the request path without the `/api/v3` prefix.
        """
        if path_regex is not None:
            re.compile(path_regex)  # fail here, not in the middle of a request
        counts = {"server_errors": server_errors, "secondary_rate_limits": secondary_rate_limits,
                  "primary_rate_limit": primary_rate_limit}
        with self.db.tx() as c:
            for kind, count in counts.items():
                if count is None:
                    continue
                code = status if status is not None else DEFAULT_STATUS[kind]
                if code not in ALLOWED_STATUS[kind]:
                    raise ValueError(f"status {code} is not valid for {kind}")
                delay = reset_in if kind == "primary_rate_limit" else retry_after
                c.execute("INSERT OR REPLACE INTO faults(kind, remaining, status, retry_after, path, path_regex) "
                          "VALUES(?, ?, ?, ?, ?, ?)", (kind, int(count), code,
                                                      DEFAULT_DELAY.get(kind, 0) if delay is None else int(delay),
                                                      path, path_regex))
            if latency_ms is not None:
                c.execute("INSERT OR REPLACE INTO faults(kind, remaining, path, path_regex) "
                          "VALUES('latency_ms', ?, ?, ?)",
                          (int(latency_ms), path, path_regex))
        return self.faults()

    def clear_faults(self) -> None:
        with self.db.tx() as c:
            c.execute("DELETE FROM faults")

    def faults(self) -> dict[str, Any]:
        return {row.pop("kind"): row for row in self.db.all("SELECT * FROM faults")}

    def take_fault(self, path: str) -> Fault | None:
        """Consume one armed fault matching `path`, if any."""
        with self.db.tx() as c:
            rows = {row["kind"]: row for row in c.execute("SELECT * FROM faults WHERE remaining > 0").fetchall()}
            for kind in COUNTED_KINDS:
                row = rows.get(kind)
                if row and _matches(row, path):
                    c.execute("UPDATE faults SET remaining = remaining - 1 WHERE kind=?", (kind,))
                    return Fault(kind, row["status"], row["retry_after"] or 0)
        return None

    def latency_for(self, path: str) -> int:
        row = self.db.one("SELECT * FROM faults WHERE kind='latency_ms'")
        return row["remaining"] if row and _matches(row, path) else 0


def _matches(row: dict, path: str) -> bool:
    if row.get("path") and row["path"] not in path:
        return False
    return not (row.get("path_regex") and not re.search(row["path_regex"], path))
