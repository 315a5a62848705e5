"""The request log, so tests and benchmarks can count what a client did.

Entries carry the login and a SHA-256 of the token, never the token itself.
"""

from __future__ import annotations

from .base import StoreBase
from .db import Row
from .tokens import hash_token


class RequestLogMixin(StoreBase):
    def log_request(self, method: str, path: str, query: str, status: int, counted: bool,
                    login: str | None, token_hash: str | None) -> None:
        # Like an access log, `path` carries the query string (e.g. which page was read).
        target = f"{path}?{query}" if query else path
        self.db.insert("requests", {"at": self.db.now_iso(), "method": method, "path": target, "query": query,
                                    "status": status, "counted": int(counted), "login": login,
                                    "token_hash": token_hash})

    def request_log(self, token: str | None = None, login: str | None = None, since_id: int = 0) -> list[Row]:
        """Logged API requests (oldest first), optionally for one token or login."""
        sql = "SELECT * FROM requests WHERE id > ?"
        args: list = [since_id]
        if token is not None:
            sql += " AND token_hash=?"
            args.append(hash_token(token))
        if login is not None:
            sql += " AND login=?"
            args.append(login)
        rows = self.db.all(sql + " ORDER BY id", *args)
        for row in rows:
            row["counted"] = bool(row["counted"])
        return rows

    def request_count(self, token: str | None = None, status: int | None = None,
                      counted: bool | None = None) -> int:
        """How many requests were made (with `token`), optionally with a status
        (e.g. 304) or only those counted against the rate limit."""
        rows = self.request_log(token)
        return sum(1 for row in rows if (status is None or row["status"] == status)
                   and (counted is None or row["counted"] == counted))

    def clear_request_log(self) -> None:
        with self.db.tx() as c:
            c.execute("DELETE FROM requests")
